"""The aiohttp server: `/healthz` always, the Telegram webhook in webhook mode."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class Readiness:
    """Flipped once start-up is complete; `/healthz` answers 503 until then."""

    ready = False


READY = web.AppKey("ready", Readiness)


async def healthz(request: web.Request) -> web.Response:
    if not request.app[READY].ready:
        return web.json_response({"status": "starting"}, status=503)
    return web.json_response({"status": "ok"})


def telegram_webhook(
    bot: Bot, secret: str, handle: Callable[[Update, dict[str, Any]], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Check the secret in constant time, parse, handle, then answer 200."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Telegram webhook call with a wrong secret from %s", request.remote)
            return web.json_response({"error": "wrong secret token"}, status=401)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.model_validate(data, context={"bot": bot})
        except web.HTTPRequestEntityTooLarge:
            raise
        except (ValueError, ValidationError) as error:
            log.warning("Telegram webhook call with a bad body: %s", error.__class__.__name__)
            return web.json_response({"error": "not a Telegram update"}, status=400)
        await handle(update, data)
        return web.json_response({"ok": True})

    return receive


def make_web_app(max_body_bytes: int) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes)
    app[READY] = Readiness()
    app.router.add_get("/healthz", healthz)
    return app
