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

from bot.intake_health import INTAKE, IntakeHealth
from bot.reasons import reason

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class Readiness:
    """Flipped once start-up is complete; `/healthz` answers 503 until then."""

    ready = False


READY = web.AppKey("ready", Readiness)


async def healthz(request: web.Request) -> web.Response:
    """200 while the bridge is up and hears its customers; 503 naming what is wrong if not."""
    if not request.app[READY].ready:
        return web.json_response({"status": "starting"}, status=503)
    problems = request.app[INTAKE].problems()
    if problems:
        return web.json_response({"status": "intake failing", **problems}, status=503)
    return web.json_response({"status": "ok"})


def not_stored(what: str, error: Exception) -> web.Response:
    """An update that could not be stored: 503, so the platform delivers it again later.

    aiohttp would answer 500 with a traceback page and log the error's whole text, which for
    a database error holds the update itself. One line instead: which update, and why.
    """
    log.warning("%s not stored (%s); answered 503 to get it again", what, reason(error))
    return web.json_response({"error": "not stored, deliver it again later"}, status=503)


def header_bytes(request: web.Request, name: str) -> bytes:
    """A header's value exactly as it arrived (b"" when absent).

    aiohttp decodes header bytes that are not UTF-8 into lone surrogates, which `str.encode`
    refuses (a 500 for a garbage secret); secrets are compared as the bytes that were sent.
    """
    wanted = name.lower().encode()
    for raw_name, raw_value in request.raw_headers:
        if raw_name.lower() == wanted:
            return raw_value.strip()
    return b""


def telegram_webhook(
    bot: Bot, secret: str, handle: Callable[[Update, dict[str, Any]], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Check the secret in constant time, parse, handle, then answer 200."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(header_bytes(request, SECRET_HEADER), expected):
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
        try:
            # it stores the update, then gives its processing a moment: only the outcome counts
            with request.app[INTAKE].storing("telegram", timed=False):
                await handle(update, data)
        except Exception as error:
            return not_stored(f"Telegram update {update.update_id}", error)
        return web.json_response({"ok": True})

    return receive


def make_web_app(max_body_bytes: int) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes)
    app[READY] = Readiness()
    app[INTAKE] = IntakeHealth()
    app.router.add_get("/healthz", healthz)
    return app
