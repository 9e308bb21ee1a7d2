"""`GET /media/<token>/<name>`: files operators sent, for platforms that fetch by URL (Viber).

Only files published for a customer are served, until their link expires; anything else is 404.
The file comes from Telegram at request time, so nothing is copied to disk:

- small files (up to `SMALL_FILE_BYTES`) are read whole, a sticker turned into PNG, and kept
  in a small in-memory cache, so fetching one again costs no download;
- larger ones are streamed from Telegram's file server to the client as they arrive;
- at most `PARALLEL_PER_LINK` requests of one link fetch from Telegram at a time; a further
  one waits up to `TURN_WAIT_SECONDS` (the file may be cached by then), then gets 503 with
  `Retry-After`. Viber fetches a link once, so it never meets that limit; a link that leaked
  and is hammered does, and costs at most that many downloads at a time;
- files over Telegram's 20 MB limit for bots get 413, a failing Telegram 502 (with nothing of
  the failure in the answer), a file Telegram no longer has 404.

How a file is presented (inline or as a download, with which type) is `bot.media_headers`'.
"""

from __future__ import annotations

import io
import logging

from aiogram import Bot
from aiohttp import ClientSession, web
from PIL import Image, UnidentifiedImageError

from bot.link_slots import LinkSlots
from bot.media_cache import CachedFile, SmallFileCache
from bot.media_headers import SECURITY_HEADERS, Presentation, present
from bot.telegram.file_download import (
    BOT_API_DOWNLOAD_LIMIT,
    Download,
    FileGone,
    FileServerFailed,
    FileTooLarge,
    TelegramFiles,
)
from bridge.media_links import MediaLinks
from bridge.model import MediaLink

log = logging.getLogger(__name__)

PARALLEL_PER_LINK = 2
TURN_WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
SMALL_FILE_BYTES = 1024 * 1024
CACHE_BYTES = 8 * 1024 * 1024
CACHE_CONTROL = "private, max-age=3600"


def as_png(data: bytes) -> bytes:
    """Telegram stickers are WebP; Viber shows only JPEG, PNG and GIF pictures."""
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError):
        return data


def refusal(status: int, text: str, **headers: str) -> web.Response:
    """A short plain answer: what happened, never why in detail (no URL, no error text)."""
    return web.Response(status=status, text=text, headers={**SECURITY_HEADERS, **headers})


class MediaEndpoint:
    def __init__(self, links: MediaLinks, files: TelegramFiles) -> None:
        self._links = links
        self._files = files
        self._cache = SmallFileCache(CACHE_BYTES, SMALL_FILE_BYTES)
        self._turns = LinkSlots(PARALLEL_PER_LINK, TURN_WAIT_SECONDS)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        link = await self._links.resolve(request.match_info["token"])
        if link is None or request.match_info["name"] != link.file_name:
            return refusal(404, "no such file")
        if link.size is not None and link.size > BOT_API_DOWNLOAD_LIMIT:
            return refusal(413, "the file is larger than Telegram lets bots pass on (20 MB)")
        name = link.file_name or "file"
        look = present(name, link.mime_type)
        headers = {**look.headers(name), "Cache-Control": CACHE_CONTROL}
        key = f"{look.content_type} {link.file_id}"  # a sticker's PNG is not its WebP
        cached = self._cache.get(key)
        if cached is not None:
            return web.Response(body=cached.data, content_type=cached.content_type, headers=headers)
        if request.method == "HEAD":  # the headers only: no download for them
            response = web.StreamResponse(headers=headers)
            response.content_type = look.content_type
            if link.size is not None and look.content_type != "image/png":  # PNGs: converted
                response.content_length = link.size
            await response.prepare(request)
            return response
        async with self._turns.turn(link.token) as turn:
            if not turn:
                log.info("media link busy: %d requests fetch it already", PARALLEL_PER_LINK)
                return refusal(
                    503, "busy, try again shortly", **{"Retry-After": str(RETRY_AFTER_SECONDS)}
                )
            cached = self._cache.get(key)  # fetched while this request waited
            if cached is not None:
                return web.Response(
                    body=cached.data, content_type=cached.content_type, headers=headers
                )
            return await self._fetch(request, link, look, key, headers)

    async def _fetch(
        self,
        request: web.Request,
        link: MediaLink,
        look: Presentation,
        key: str,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        try:
            async with self._files.open(link.file_id) as download:
                if download.size is not None and download.size <= SMALL_FILE_BYTES:
                    data = await download.read()
                    if look.content_type == "image/png":
                        data = as_png(data)
                    self._cache.put(key, CachedFile(data, look.content_type))
                    return web.Response(body=data, content_type=look.content_type, headers=headers)
                return await stream(request, download, look.content_type, headers)
        except FileGone:
            return refusal(404, "the file is no longer available")
        except FileTooLarge:
            return refusal(413, "the file is larger than Telegram lets bots pass on (20 MB)")
        except FileServerFailed:
            return refusal(502, "the file could not be fetched; try again later")


async def stream(
    request: web.Request, download: Download, content_type: str, headers: dict[str, str]
) -> web.StreamResponse:
    """Pass the file on as it arrives. If the download breaks off, so does this answer: the
    client sees a broken transfer (short of Content-Length, or no last chunk), never a file
    that looks complete."""
    response = web.StreamResponse(headers=headers)
    response.content_type = content_type
    if download.size is not None:
        response.content_length = download.size
    await response.prepare(request)
    try:
        async for chunk in download.chunks():
            await response.write(chunk)
    except (FileServerFailed, FileTooLarge):
        cut_off(request)  # already logged where it broke
        return response
    except ConnectionError:  # the client went away
        log.info("media client left before the end of the file")
        cut_off(request)
        return response
    await response.write_eof()
    return response


def cut_off(request: web.Request) -> None:
    """Close the connection without finishing the answer."""
    if request.transport is not None:
        request.transport.close()


def media_endpoint(links: MediaLinks, bot: Bot, http: ClientSession) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    endpoint = MediaEndpoint(links, TelegramFiles(bot, http))
    routes.get("/media/{token}/{name}")(endpoint.serve)
    return routes
