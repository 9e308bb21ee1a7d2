"""Reading a file from Telegram's file server as a stream, for the media endpoint.

aiogram's `download_file` reads the whole file into memory under one 30-second deadline; a
media link passes a file of up to 20 MB on to a client that may read slowly. Here the file
comes chunk by chunk, on the bridge's HTTP session, and each outcome has a name of its own.

The download URL holds the bot token (`{api}/file/bot<token>/<path>`) and aiohttp puts the URL
into its errors' texts, so errors are logged by class and status only, never by their text.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramBadRequest

from bot.reasons import reason

log = logging.getLogger(__name__)

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # "bots can download files of up to 20MB in size"
CHUNK_BYTES = 64 * 1024
# Connecting may take a moment; a file server silent for this long is down. No total limit:
# a large file to a slow client takes as long as it takes.
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)


class FileGone(Exception):
    """Telegram no longer has the file (or never had it under this id)."""


class FileTooLarge(Exception):
    """Larger than Telegram hands to bots."""


class FileServerFailed(Exception):
    """Telegram's file server (or getFile) failed: 5xx, no connection, timeout."""


@dataclass
class Download:
    size: int | None  # bytes, when Telegram said
    _response: aiohttp.ClientResponse
    _limit: int

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; `FileServerFailed` if the transfer breaks."""
        received = 0
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                received += len(chunk)
                if received > self._limit:
                    raise FileTooLarge
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("download from Telegram broke off: %s", error.__class__.__name__)
            raise FileServerFailed from None
        if self.size is not None and received < self.size:
            log.warning("download from Telegram ended early (%d of %d bytes)", received, self.size)
            raise FileServerFailed

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class TelegramFiles:
    def __init__(
        self, bot: Bot, http: aiohttp.ClientSession, limit: int = BOT_API_DOWNLOAD_LIMIT
    ) -> None:
        self._bot = bot
        self._http = http
        self._limit = limit

    @asynccontextmanager
    async def open(self, file_id: str) -> AsyncIterator[Download]:
        """The file behind `file_id`, ready to read; raises FileGone, FileTooLarge or
        FileServerFailed before anything is read."""
        path, size = await self._locate(file_id)
        url = self._bot.session.api.file_url(self._bot.token, path)
        try:
            response = await self._http.get(url, timeout=TIMEOUT, allow_redirects=False)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Telegram's file server not reached: %s", error.__class__.__name__)
            raise FileServerFailed from None
        async with response:
            if response.status == 404:
                log.info("Telegram's file server no longer has a file (404)")
                raise FileGone
            if response.status != 200:
                log.warning("Telegram's file server answered %s", response.status)
                raise FileServerFailed
            size = response.content_length if response.content_length is not None else size
            if size is not None and size > self._limit:
                raise FileTooLarge
            yield Download(size, response, self._limit)

    async def _locate(self, file_id: str) -> tuple[str, int | None]:
        """getFile: where the file lies on the file server, and its size."""
        try:
            file = await self._bot.get_file(file_id)
        except TelegramBadRequest as error:
            if "too big" in error.message.lower():  # "Bad Request: file is too big"
                raise FileTooLarge from None
            log.info("getFile refused a published file (%s)", reason(error))
            raise FileGone from None
        except (TelegramAPIError, ClientDecodeError) as error:
            log.warning("getFile failed (%s)", reason(error))
            raise FileServerFailed from None
        if file.file_size is not None and file.file_size > self._limit:
            raise FileTooLarge
        if not file.file_path:
            raise FileGone
        return file.file_path, file.file_size
