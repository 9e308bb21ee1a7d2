"""Files operators send to customers on platforms that fetch media by URL (Viber).

Each file gets an unguessable token tied to one customer and an expiry; only such files are
ever served, so the media endpoint cannot be used to read anything else.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from bridge.clock import Clock
from bridge.model import Attachment, MediaLink
from bridge.ports import UnitOfWorkFactory


class MediaLinks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, lifetime: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._lifetime = lifetime

    async def publish(self, customer_id: int, attachment: Attachment, file_name: str) -> str:
        """Register a file for one customer; returns the token for its URL."""
        if not attachment.file_id:
            raise ValueError("only platform files can be published")
        link = MediaLink(
            token=secrets.token_urlsafe(32),
            customer_id=customer_id,
            file_id=attachment.file_id,
            file_name=file_name,
            mime_type=attachment.mime_type,
            size=attachment.size,
            expires_at=self._clock.now() + self._lifetime,
        )
        async with self._uow() as tx:
            await tx.media.add(link)
            await tx.commit()
        return link.token

    async def resolve(self, token: str) -> MediaLink | None:
        """The file behind a token, or None when unknown or expired."""
        if not token or len(token) > 64:
            return None
        async with self._uow() as tx:
            link = await tx.media.get(token)
        if link is None or link.expires_at <= self._clock.now():
            return None
        return link
