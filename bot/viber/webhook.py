"""`POST /viber/webhook`: signature first, then parsing, then the events handler."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from viberbot import Api, BotConfiguration
from viberbot.api.viber_requests import ViberConversationStartedRequest

from bot.intake_health import INTAKE
from bot.viber.events import ViberEvents
from bot.viber.replays import replay_age, timestamp_of
from bot.web import header_bytes, not_stored
from bridge.inbox import Inbox
from bridge.lane_names import customer_lane
from bridge.model import Platform

log = logging.getLogger(__name__)
EVENT_NAME = re.compile(r"[a-z_]{1,32}")  # how Viber names its events (e.g. "conversation_started")

SIGNATURE_HEADER = "X-Viber-Content-Signature"
KNOWN_EVENTS = frozenset(
    {
        "webhook",
        "message",
        "conversation_started",
        "subscribed",
        "unsubscribed",
        "delivered",
        "seen",
        "failed",
    }
)


# Events that change state go through the inbox; the others are answered on the spot.
STORED_EVENTS = frozenset({"message", "subscribed", "unsubscribed", "delivered", "seen", "failed"})


def viber_parser(auth_token: str, bot_name: str) -> Api:
    return Api(BotConfiguration(auth_token=auth_token, name=bot_name, avatar=None))


def user_of(event: str, raw: dict[str, Any]) -> str | None:
    """The Viber user a callback is about, if it names one in the documented shape."""
    holder = raw.get("sender") if event == "message" else raw.get("user")
    user = holder.get("id") if isinstance(holder, dict) else raw.get("user_id")
    return user if isinstance(user, str) and 0 < len(user) <= 64 else None


def well_formed(event: str, raw: dict[str, Any]) -> bool:
    """viberbot parses leniently; refuse shapes it would only fail on later."""
    if user_of(event, raw) is None:
        return False
    token = raw.get("message_token")
    if event in ("message", "delivered", "seen", "failed") and (
        not isinstance(token, int) or isinstance(token, bool)
    ):
        return False
    message = raw.get("message")
    return event != "message" or (
        isinstance(message, dict) and isinstance(message.get("type"), str)
    )


def inbox_key(event: str, raw: dict[str, Any]) -> tuple[str, str]:
    """(dedup key, lane) of a stored Viber callback."""
    user = user_of(event, raw)
    token = raw.get("message_token") or raw.get("timestamp")
    return f"viber:{event}:{token}:{user}"[:160], customer_lane(Platform.VIBER, str(user))


def viber_webhook(
    auth_token: str,
    parser: Api,
    events: ViberEvents,
    inbox: Inbox,
    wait_seconds: float,
    now: Callable[[], datetime],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Signature, then shape, then age (replays are refused), then the event itself."""
    key = auth_token.encode()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        given = header_bytes(request, SIGNATURE_HEADER).lower()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(given, expected):
            log.warning("Viber callback with a missing or wrong signature from %s", request.remote)
            return web.json_response({"error": "wrong signature"}, status=403)
        try:
            raw = json.loads(body)
            event = raw.get("event") if isinstance(raw, dict) else None
        except ValueError:
            event = raw = None
        if not isinstance(raw, dict) or not isinstance(event, str):
            log.warning("Viber callback that is not a JSON event")
            return web.json_response({"error": "not a Viber callback"}, status=400)
        if event not in KNOWN_EVENTS:
            # the name is the sender's text: only a name shaped like Viber's own is logged
            shown = event if EVENT_NAME.fullmatch(event) else "(not an event name)"
            log.info("Viber event %s is not used; acknowledged", shown)
            return web.json_response({})
        try:
            parsed = parser.parse_request(body)
        except Exception as error:  # viberbot raises bare Exception and KeyError on bad shapes
            log.warning("Viber %s callback does not parse: %s", event, error.__class__.__name__)
            return web.json_response({"error": f"malformed {event} callback"}, status=400)
        sent = timestamp_of(raw)
        if sent is None:
            log.warning("Viber %s callback without a timestamp in milliseconds", event)
            return web.json_response({"error": f"malformed {event} callback"}, status=400)
        age = replay_age(sent, now())
        if age is not None:
            minutes = abs(age.total_seconds()) / 60
            when = "ago" if age.total_seconds() > 0 else "ahead"
            log.warning(
                "Viber %s callback refused as a replay: stamped %.0f min %s", event, minutes, when
            )
            return web.json_response({"error": "callback too old or from the future"}, status=403)
        if event in STORED_EVENTS:
            if not well_formed(event, raw):
                log.warning("Viber %s callback with an unexpected shape", event)
                return web.json_response({"error": f"malformed {event} callback"}, status=400)
            message = raw.get("message") if event == "message" else None
            command = events.command_of(parsed, message if isinstance(message, dict) else {})
            if command is None:
                return web.json_response({})
            dedup, lane = inbox_key(event, raw)
            try:  # only the outcome counts: the call also waits for the handling a moment
                with request.app[INTAKE].storing("viber", timed=False):
                    await inbox.accept_and_wait(dedup, lane, "viber", command, wait_seconds)
            except Exception as error:
                return not_stored(f"Viber {event} callback", error)
            return web.json_response({})
        if isinstance(parsed, ViberConversationStartedRequest):
            return web.json_response(events.welcome(str(parsed.user.id), parsed.user.language))
        return web.json_response({})

    return receive
