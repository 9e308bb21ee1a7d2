"""`GET /media/<token>/<name>`: files operators sent, for platforms that fetch by URL (Viber).

Only files published for a customer are served, until their link expires; anything else is 404.
The file comes from Telegram at request time, so nothing is copied to disk.
"""

from __future__ import annotations

import io
import logging
import mimetypes

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from bridge.media_links import MediaLinks

log = logging.getLogger(__name__)


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


def media_endpoint(links: MediaLinks, bot: Bot) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/media/{token}/{name}")
    async def serve(request: web.Request) -> web.Response:
        link = await links.resolve(request.match_info["token"])
        if link is None or request.match_info["name"] != link.file_name:
            raise web.HTTPNotFound(text="no such file")
        try:
            file = await bot.get_file(link.file_id)
            buffer = await bot.download_file(file.file_path or "")
        except TelegramAPIError as error:
            log.warning("media %s not fetched from Telegram: %s", link.file_name, error.message)
            raise web.HTTPNotFound(text="the file is no longer available") from None
        data = buffer.read() if buffer is not None else b""
        name = link.file_name or "file"
        content_type = link.mime_type or mimetypes.guess_type(name)[0]
        if content_type == "image/png":
            data = as_png(data)
        return web.Response(
            body=data,
            content_type=content_type or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    return routes
