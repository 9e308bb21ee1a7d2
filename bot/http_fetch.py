"""Downloading media by URL with a size cap, on the shared aiohttp session."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str | None


class TooLarge(Exception):
    """The file is larger than the caller can pass on."""


class MediaFetcher:
    def __init__(self, session: aiohttp.ClientSession, timeout_seconds: float = 60) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def fetch(self, url: str, limit: int) -> Fetched | None:
        """The file's bytes; None when it cannot be fetched; `TooLarge` above `limit` bytes."""
        try:
            async with self._session.get(url, timeout=self._timeout) as response:
                if response.status != 200:
                    log.warning("media download answered %s", response.status)
                    return None
                if response.content_length is not None and response.content_length > limit:
                    raise TooLarge
                data = await response.content.read(limit + 1)
                if len(data) > limit:
                    raise TooLarge
                return Fetched(data, response.content_type)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("media download failed: %s", error.__class__.__name__)
            return None
