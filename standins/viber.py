"""A fake Viber REST bot API (and Viber's side of the webhook) for end-to-end tests.

The app talks to it over real HTTP exactly as it talks to ``https://chatapi.viber.com/pa``:
JSON bodies, the ``X-Viber-Auth-Token`` header, HTTP 200 with a ``status``/``status_message``
pair for every answer.  The fake keeps a small world (registered and subscribed users, the
webhook, media on "Viber's CDN"), validates payloads like the real service, fetches the media
URLs the app sends (Viber downloads them), and sends signed callbacks to the app's webhook.

Every REST call is recorded; waiting is always on a change event that fires after every call,
callback and state change (no fixed sleeps).

Behaviour worth knowing (documented in the Viber REST bot API unless noted):

* ``set_webhook`` first POSTs a signed ``{"event": "webhook", ...}`` callback to the URL and
  answers only after it: ``status 1 "invalidUrl"`` unless the callback got HTTP 200.  An empty
  ``url`` removes the webhook (that is how viberbot's ``unset_webhook`` works).
* The auth token is taken from the ``X-Viber-Auth-Token`` header or, as viberbot sends it, from
  an ``auth_token`` body field.  Wrong → ``2 "invalidAuthToken"``; absent →
  ``2 "missing_auth_token"``.
* Payload problems (including a body over 30 KB) answer ``3`` with a status_message of the form
  ``"badData: <what is wrong>"``, so a failing test says why.  Apps should branch on ``status``.
* Unknown receiver → ``5 "receiverNotRegistered"``; known but not subscribed →
  ``6 "receiverNotSubscribed"`` (a ``conversation_started`` user is not subscribed: only the
  welcome message returned inline in the callback's HTTP response reaches them).
* The user's first message subscribes them (without a ``subscribed`` callback); ``subscribed`` /
  ``unsubscribed`` callbacks sent through :meth:`FakeViber.send_callback` update the world too.
* picture / video / file messages: the fake GETs ``media``.  A failed download (connection
  error or non-200) is NOT an API error: the answer is still ``status 0`` with a
  ``message_token``, the message is recorded with ``"failed"``, and after the answer has been
  written the fake POSTs a signed ``failed`` callback (``desc`` = :data:`MEDIA_FAILED_DESC`) to
  the webhook, if one is set and ``failed`` is among its event types.
* Account problems (:meth:`FakeViber.account_problem`): Viber refuses every send_message with
  the account's status, e.g. ``23 "freeMessagesExceeded"`` once the free out-of-session
  messages of the month are used up or ``24 "noBalance"`` for a billable bot without balance
  (status names from the REST API's error code table).
* Every callback carries ``timestamp`` in epoch milliseconds, from the clock the fake was given
  (``FakeViber(now=...)``; real time by default), so a test that moves the app's clock moves
  Viber's with it.  :meth:`FakeViber.sent_at` dates a copy of a callback, e.g. to replay one
  recorded hours ago.
* Outages (:meth:`FakeViber.outage`): the REST front answers HTTP 502 with nginx's HTML page
  instead of Viber's JSON, and nothing is performed (not part of Viber's docs: what a gateway
  in front of any service sends).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import enum
import hashlib
import hmac
import itertools
import json
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

# every fake made in this process, so a test can read what its people wrote (tests/log_watch.py)
INSTANCES: weakref.WeakSet[FakeViber] = weakref.WeakSet()

JSON = dict[str, Any]

DEFAULT_AUTH_TOKEN = "4f1b2c3d4e5f6a7b-8c9d0e1f2a3b4c5d-6e7f8a9b0c1d2e3f"
CHAT_HOSTNAME = "SN-CHAT-01_"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"

# Limits of the send_message payload (Viber REST bot API, "Send a Message" / message data model).
MAX_MESSAGE_BYTES = 30 * 1024
SENDER_NAME_LIMIT = 28
TRACKING_DATA_LIMIT = 4000
TEXT_LIMIT = 7000
PICTURE_TEXT_LIMIT = 512
URL_LIMIT = 2000
FILE_NAME_LIMIT = 256
FILE_SIZE_LIMIT = 50 * 1024 * 1024
VIDEO_SIZE_LIMIT = 26 * 1024 * 1024
VIDEO_DURATION_LIMIT = 180
CONTACT_NAME_LIMIT = 28
CONTACT_PHONE_LIMIT = 18
BUTTON_TEXT_LIMIT = 250

# The status codes of the REST API, with the status_message the service sends (the "Name" column
# of the error code table in Viber's REST bot API docs; any other status is "General error").
STATUS_MESSAGES: dict[int, str] = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
    15: "publicAccountNotAuthorized",
    16: "inchatReplyMessageNotAllowed",
    17: "publicAccountIsNotInline",
    18: "noPublicChat",
    19: "cannotSendBroadcast",
    20: "broadcastNotAllowed",
    21: "unsupportedCountry",
    22: "paymentUnsupported",
    23: "freeMessagesExceeded",  # the monthly free out-of-session messages are used up
    24: "noBalance",  # a billable bot past that threshold has no balance left
}
MISSING_AUTH_TOKEN = "missing_auth_token"
MEDIA_FAILED_DESC = "media download failed"
# nginx's reason phrases where they differ from the standard ones (it says "Gateway Time-out").
NGINX_REASONS: dict[int, str] = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}

# Events a bot may choose in set_webhook; "message" is always sent, these two cannot be opted out.
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")
MANDATORY_EVENT_TYPES = ("subscribed", "unsubscribed")
MESSAGE_TYPES = frozenset(
    {"text", "picture", "video", "file", "location", "contact", "sticker", "url", "rich_media"}
)
MEDIA_TYPES = frozenset({"picture", "video", "file"})
ACTION_TYPES = frozenset({"reply", "open-url", "location-picker", "share-phone", "none"})
TEXT_SIZES = frozenset({"small", "regular", "large"})
INPUT_FIELD_STATES = frozenset({"regular", "minimized", "hidden"})


class ViberError(Exception):
    """A non-zero status answer; raised inside handlers, turned into JSON by the server."""

    def __init__(self, status: int, status_message: str | None = None, **extra: Any) -> None:
        self.status = status
        self.status_message = status_message or STATUS_MESSAGES.get(status, "generalError")
        self.extra = extra
        super().__init__(f"{status} {self.status_message}")

    def payload(self) -> JSON:
        """The JSON body Viber answers with (always with HTTP 200)."""
        return {"status": self.status, "status_message": self.status_message, **self.extra}


def bad(detail: str) -> ViberError:
    """Status 3 with a message saying what is wrong with the payload."""
    return ViberError(3, f"badData: {detail}")


class _Auto(enum.Enum):
    """Marker for "compute the correct signature" in :meth:`FakeViber.send_callback`."""

    SIGN = "sign"


SIGN = _Auto.SIGN


@dataclass
class ViberCall:
    """One recorded REST request (rejected ones included)."""

    path: str
    headers: dict[str, str]
    body: JSON
    at: float


@dataclass
class ViberCallback:
    """One callback POSTed to the app, with what the app answered."""

    url: str
    event: JSON | None
    body: bytes
    signature: str | None
    status: int | None = None
    response: str = ""
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class HostedMedia:
    """A file served by the fake (customer media on "Viber's CDN")."""

    data: bytes
    content_type: str
    file_name: str | None
    status: int = 200


@dataclass
class _Failure:
    """An injected error waiting for the next matching calls."""

    path: str
    error: ViberError
    times: int
    when: Callable[[JSON], bool] | None


@dataclass
class _Outage:
    """An ongoing incident of the REST front: every call gets ``status``, nothing is done."""

    status: int
    html: bool

    def response(self) -> web.Response:
        """nginx's page (text/html, ``Server: nginx``), or the bare status with no body."""
        reason = nginx_reason(self.status)
        if not self.html:
            return web.Response(status=self.status, reason=reason, headers={"Server": "nginx"})
        body = nginx_page(self.status).encode()
        headers = {"Content-Type": "text/html", "Server": "nginx"}
        return web.Response(status=self.status, reason=reason, body=body, headers=headers)


def nginx_reason(status: int) -> str:
    """The reason phrase nginx gives ``status``."""
    return NGINX_REASONS.get(status) or HTTPStatus(status).phrase


def nginx_page(status: int) -> str:
    """nginx's error page for ``status``, byte for byte (CRLF line ends)."""
    title = f"{status} {nginx_reason(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def signature_of(body: bytes, auth_token: str) -> str:
    """Viber's callback signature: hex HMAC-SHA256 of the exact body, keyed with the token."""
    return hmac.new(auth_token.encode(), body, hashlib.sha256).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def epoch_ms(moment: datetime) -> int:
    """A moment as Viber writes it in a callback's ``timestamp``: epoch milliseconds."""
    return int(moment.timestamp() * 1000)


def _real_now() -> datetime:
    return datetime.now(UTC)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class FakeViber:
    """In-memory Viber world plus a REST API server and a webhook client for it."""

    def __init__(
        self, auth_token: str = DEFAULT_AUTH_TOKEN, *, now: Callable[[], datetime] = _real_now
    ) -> None:
        INSTANCES.add(self)
        self.auth_token = auth_token
        # The world's clock: callbacks are stamped with it. A test that moves the app's clock
        # passes the same one, as Viber and the bridge share real time.
        self.now = now
        self.url = ""  # REST base, e.g. http://127.0.0.1:PORT/pa
        self.base_url = ""  # the server root; hosted media lives under /media
        self.account_name = "Support Bridge"
        self.account_uri = "supportbridge"
        # webhook registration
        self.webhook_url: str | None = None
        self.event_types: list[str] = []
        self.send_name = False
        self.send_photo = False
        # world
        self.users: dict[str, JSON] = {}
        self.subscribed: set[str] = set()
        self.media: dict[str, HostedMedia] = {}
        # records
        self.calls: list[ViberCall] = []
        self.callbacks: list[ViberCallback] = []
        self.downloads: list[str] = []  # paths of hosted media GETs (the app fetching media)
        self.server_errors: list[str] = []  # bugs of the fake itself; tests assert it is empty
        self.welcome_errors: list[str] = []  # invalid inline welcome messages
        self._received: dict[str, list[JSON]] = {}
        self._failures: list[_Failure] = []
        self._account_problem: ViberError | None = None
        self._outage: _Outage | None = None
        self._tokens = itertools.count(5_741_311_803_571_721_087, 7_919)
        self._user_seq = itertools.count(1)
        self._media_seq = itertools.count(1)
        self._event = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []  # on_change()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

    # ------------------------------------------------------------------ server lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port and set ``url``."""
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/pa/{method}", self._handle_api)
        app.router.add_get("/media/{media_id}/{name}", self._handle_media)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.url = f"{self.base_url}/pa"
        self._client = ClientSession(timeout=ClientTimeout(total=10))

    async def stop(self) -> None:
        """Finish pending callbacks, close the client session and shut the server down."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeViber:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ change notification

    def _changed(self) -> None:
        """Wake everyone waiting on the world."""
        event, self._event = self._event, asyncio.Event()
        event.set()
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change too (the demo page's live updates)."""
        self._listeners.append(listener)

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is the point of this helper
    ) -> Any:
        """Re-check ``predicate`` after every call/state change; return its truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._event
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump_calls()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def dump_calls(self, last: int = 25) -> str:
        """The last REST calls and callbacks, for assertion messages."""
        lines = [f"last {min(last, len(self.calls))} REST calls:"]
        for call in self.calls[-last:]:
            body = {k: v for k, v in call.body.items() if k != "auth_token"}
            lines.append(f"  {call.path} {_dumps(body)[:400]}")
        lines.append(f"last {min(last, len(self.callbacks))} callbacks:")
        for cb in self.callbacks[-last:]:
            what = cb.event.get("event") if cb.event else cb.body[:80].decode(errors="replace")
            lines.append(f"  {what} -> {cb.status} {cb.error or cb.response[:200]}")
        if self.server_errors:
            lines.append("fake server errors:")
            lines += [f"  {e}" for e in self.server_errors]
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        raw = await request.read()
        body: JSON
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = None
        body = decoded if isinstance(decoded, dict) else {"_raw": raw.decode(errors="replace")}
        self.calls.append(ViberCall(method, dict(request.headers), body, time.monotonic()))
        self._changed()
        if self._outage is not None:  # the front answers; the API never sees the call
            return self._outage.response()
        after: list[Callable[[], Any]] = []
        try:
            self._check_auth(request, body)
            if len(raw) > MAX_MESSAGE_BYTES:
                raise bad(f"request body is {len(raw)} bytes; the maximum size is 30KB")
            if not isinstance(decoded, dict):
                raise bad("the request body is not a JSON object")
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                return web.Response(status=404, text="404 Not Found")
            answer: JSON = await handler(body, after)
        except ViberError as err:
            answer = err.payload()
        except Exception as exc:  # a fake bug must show, not hang
            self.server_errors.append(f"{method}: {exc!r}")
            answer = {"status": 99, "status_message": f"fake internal error: {exc!r}"}
        finally:
            self._changed()
        response = web.json_response(answer, dumps=_dumps)
        await response.prepare(request)
        await response.write_eof()
        for job in after:  # things Viber does once the answer is out (e.g. failed callbacks)
            self._spawn(job())
        return response

    def _check_auth(self, request: web.Request, body: JSON) -> None:
        token = request.headers.get(AUTH_HEADER)
        if token is None:
            token = body.get("auth_token")
        if token is None:
            raise ViberError(2, MISSING_AUTH_TOKEN)
        if token != self.auth_token:
            raise ViberError(2)

    async def _handle_media(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        self.downloads.append(request.path)
        self._changed()
        hosted = self.media.get(media_id)
        if hosted is None:
            return web.Response(status=404, text="404 Not Found")
        if hosted.status != 200:
            return web.Response(status=hosted.status, text=f"{hosted.status} error")
        headers = {}
        if hosted.file_name:
            headers["Content-Disposition"] = f'inline; filename="{hosted.file_name}"'
        return web.Response(body=hosted.data, headers=headers, content_type=hosted.content_type)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_token(self) -> int:
        return next(self._tokens)

    # ------------------------------------------------------------------ REST methods

    async def _api_set_webhook(self, body: JSON, after: list[Callable[[], Any]]) -> JSON:
        url = body.get("url")
        if not isinstance(url, str):
            raise bad("url is required and must be a string")
        requested = body.get("event_types")
        if requested is None:
            requested = list(EVENT_TYPES)
        if not isinstance(requested, list) or not all(_is_str(e) for e in requested):
            raise bad("event_types must be an array of strings")
        unknown = [e for e in requested if e not in EVENT_TYPES]
        if unknown:
            raise bad(f"unknown event_types {unknown}; possible values: {list(EVENT_TYPES)}")
        for flag in ("send_name", "send_photo", "is_inline"):
            if flag in body and not isinstance(body[flag], bool):
                raise bad(f"{flag} must be a boolean")
        if url == "":  # removing the webhook
            self.webhook_url = None
            self.event_types = []
            return {"status": 0, "status_message": "ok"}
        if not _is_url(url):
            raise ViberError(1)
        callback = await self._post_callback(
            url,
            {
                "event": "webhook",
                "timestamp": epoch_ms(self.now()),
                "chat_hostname": CHAT_HOSTNAME,
                "message_token": self._new_token(),
            },
        )
        if callback.status != 200:
            raise ViberError(1)
        chosen = set(requested) | set(MANDATORY_EVENT_TYPES)
        self.webhook_url = url
        self.event_types = [e for e in EVENT_TYPES if e in chosen]
        self.send_name = bool(body.get("send_name", False))
        self.send_photo = bool(body.get("send_photo", False))
        return {"status": 0, "status_message": "ok", "event_types": list(self.event_types)}

    async def _api_send_message(self, body: JSON, after: list[Callable[[], Any]]) -> JSON:
        payload = {k: v for k, v in body.items() if k != "auth_token"}
        validate_message(payload, need_receiver=True)
        self._maybe_fail("send_message", payload)
        if self._account_problem is not None:
            raise ViberError(
                self._account_problem.status,
                self._account_problem.status_message,
                message_token=self._new_token(),
                chat_hostname=CHAT_HOSTNAME,
            )
        receiver = payload["receiver"]
        token = self._new_token()
        if receiver not in self.users:
            raise ViberError(5, message_token=token, chat_hostname=CHAT_HOSTNAME)
        if receiver not in self.subscribed:
            raise ViberError(6, message_token=token, chat_hostname=CHAT_HOSTNAME)
        record = await self._accept(receiver, payload, token)
        if "failed" in record:
            after.append(lambda: self._failed_later(receiver, token, record["failed"]))
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "chat_hostname": CHAT_HOSTNAME,
            "billing_status": 1,
        }

    async def _api_get_account_info(self, body: JSON, after: list[Callable[[], Any]]) -> JSON:
        return {
            "status": 0,
            "status_message": "ok",
            "id": "pa:5762381234567890123",
            "chat_hostname": CHAT_HOSTNAME,
            "name": self.account_name,
            "uri": self.account_uri,
            "icon": f"{self.base_url}/media/icon/icon.jpg",
            "background": f"{self.base_url}/media/background/background.jpg",
            "category": "Companies, Brands & Products",
            "subcategory": "Customer Service",
            "location": {"lat": 50.4501, "lon": 30.5234},
            "country": "UA",
            "webhook": self.webhook_url or "",
            "event_types": list(self.event_types),
            "subscribers_count": len(self.subscribed),
            "members": [
                {
                    "id": "01234567890A=",
                    "name": "Olena Owner",
                    "avatar": f"{self.base_url}/media/owner/avatar.jpg",
                    "role": "admin",
                }
            ],
        }

    async def _api_get_user_details(self, body: JSON, after: list[Callable[[], Any]]) -> JSON:
        user_id = body.get("id")
        if not _is_str(user_id) or not user_id:
            raise bad("id is required")
        token = self._new_token()
        user = self.users.get(user_id)
        if user is None:
            raise ViberError(5, message_token=token, chat_hostname=CHAT_HOSTNAME)
        details = {
            **user,
            "primary_device_os": "Android 14",
            "viber_version": "24.1.0.5",
            "device_type": "SM-S918B",
            "mcc": 255,
            "mnc": 1,
        }
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "chat_hostname": CHAT_HOSTNAME,
            "user": details,
        }

    async def _api_get_online(self, body: JSON, after: list[Callable[[], Any]]) -> JSON:
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or not all(_is_str(i) for i in ids):
            raise bad("ids must be a non-empty array of user ids")
        users = [
            {
                "id": user_id,
                "online_status": 1,
                "online_status_message": "offline",
                "last_online": epoch_ms(self.now()),
            }
            for user_id in ids
            if user_id in self.users
        ]
        return {"status": 0, "status_message": "ok", "users": users}

    def _maybe_fail(self, path: str, payload: JSON) -> None:
        for failure in self._failures:
            if failure.path == path and (failure.when is None or failure.when(payload)):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise ViberError(
                    failure.error.status,
                    failure.error.status_message,
                    message_token=self._new_token(),
                    chat_hostname=CHAT_HOSTNAME,
                )

    async def _accept(self, user_id: str, payload: JSON, token: int, **marks: Any) -> JSON:
        """Record a message for the user; media types are downloaded first, as Viber does."""
        record = copy.deepcopy(payload)
        record["message_token"] = token
        record.update(marks)
        if payload.get("type") in MEDIA_TYPES:
            fetched = await self._fetch(payload["media"])
            record["fetched"] = fetched
            if fetched["status"] != 200:
                record["failed"] = MEDIA_FAILED_DESC
        self._received.setdefault(user_id, []).append(record)
        self._changed()
        return record

    async def _fetch(self, url: str) -> JSON:
        assert self._client is not None, "FakeViber is not started"
        try:
            async with self._client.get(url) as response:
                data = await response.read()
                return {
                    "status": response.status,
                    "content_type": response.headers.get("Content-Type", ""),
                    "data": data,
                }
        except (ClientError, TimeoutError) as exc:
            return {"status": 0, "content_type": "", "data": b"", "error": repr(exc)}

    async def _failed_later(self, user_id: str, token: int, desc: str) -> None:
        if self.webhook_url and "failed" in self.event_types:
            await self.send_callback(self.failed(user_id, token, desc))

    # ------------------------------------------------------------------ world configuration

    def add_user(
        self,
        name: str,
        *,
        language: str = "uk",
        country: str = "UA",
        avatar: str | None = None,
        api_version: int = 10,
        subscribed: bool = True,
    ) -> JSON:
        """A Viber user known to the service; the dict is the user object of callbacks.

        ``avatar`` is left out of the object when None (users without a photo).
        """
        seq = next(self._user_seq)
        digest = hashlib.sha256(f"viber-user-{seq}-{name}".encode()).digest()[:16]
        user: JSON = {"id": base64.b64encode(digest).decode(), "name": name}
        if avatar is not None:
            user["avatar"] = avatar
        user.update({"country": country, "language": language, "api_version": api_version})
        self.users[user["id"]] = user
        if subscribed:
            self.subscribed.add(user["id"])
        self._changed()
        return copy.deepcopy(user)

    def _known(self, user_id: str) -> None:
        if user_id not in self.users:
            raise AssertionError(f"unknown Viber user {user_id!r}")

    def unsubscribe(self, user_id: str) -> None:
        """The user unsubscribed (no callback is sent; use unsubscribed_event for that)."""
        self._known(user_id)
        self.subscribed.discard(user_id)
        self._changed()

    def subscribe(self, user_id: str) -> None:
        """The user subscribed (no callback is sent; use subscribed_event for that)."""
        self._known(user_id)
        self.subscribed.add(user_id)
        self._changed()

    def fail(
        self,
        status: int,
        status_message: str | None = None,
        *,
        times: int = 1,
        when: Callable[[JSON], bool] | None = None,
        path: str = "send_message",
    ) -> None:
        """The next ``times`` valid calls to ``path`` matching ``when`` answer with this status.

        Injected failures apply after payload validation (a malformed payload still gets 3)
        and carry ``message_token`` and ``chat_hostname`` like Viber's 12 "tooManyRequests".
        """
        self._failures.append(_Failure(path, ViberError(status, status_message), times, when))

    def account_problem(self, status: int | None, status_message: str | None = None) -> None:
        """Refuse every send_message with ``status`` until ``account_problem(None)``.

        For problems of the account rather than of one message: ``23`` (the free
        out-of-session messages of the month are used up), ``24`` (no balance), ``7``/``9``
        (blocked/suspended).  Applied after payload validation and injected failures, before
        the receiver is looked at; the answer carries ``message_token`` and ``chat_hostname``
        and nothing is delivered.  ``status_message`` defaults to the documented name.
        """
        if status == 0:
            raise ValueError("status 0 is ok, not a problem; use None to clear")
        self._account_problem = None if status is None else ViberError(status, status_message)
        self._changed()

    def outage(self, status: int = 502, *, html: bool = True) -> None:
        """Start an incident: every REST call gets HTTP ``status`` until :meth:`end_outage`.

        The body is nginx's page for the status (``html=True``) or empty.  Calls are recorded
        in ``calls`` but not performed (no auth check, no delivery, no webhook callback);
        hosted media and callbacks to the app are not affected.
        """
        HTTPStatus(status)  # an unknown status is a test bug: fail here
        self._outage = _Outage(status, html)
        self._changed()

    def end_outage(self) -> None:
        """End the incident started by :meth:`outage`."""
        self._outage = None
        self._changed()

    def host_media(
        self,
        data: bytes,
        content_type: str,
        file_name: str | None = None,
        *,
        status: int = 200,
    ) -> str:
        """Serve ``data`` from the fake; returns its URL (``status`` != 200 makes GET fail)."""
        if not self.base_url:
            raise AssertionError("FakeViber is not started")
        media_id = f"m{next(self._media_seq):05d}"
        self.media[media_id] = HostedMedia(data, content_type, file_name, status)
        return f"{self.base_url}/media/{media_id}/{file_name or 'file'}"

    # ------------------------------------------------------------------ what each side sees

    def calls_to(self, path: str) -> list[JSON]:
        """Bodies of every call to ``path`` (e.g. "send_message"), rejected ones included."""
        return [c.body for c in self.calls if c.path == path]

    def received(self, user_id: str) -> list[JSON]:
        """Messages accepted for the user, in order.

        Each is the payload (without auth_token) plus ``message_token``; media types also
        carry ``fetched`` = {"status", "content_type", "data"}, and ``failed`` = desc when the
        download failed.  Inline welcome messages carry ``"welcome": True``.
        """
        return list(self._received.get(user_id, []))

    def is_subscribed(self, user_id: str) -> bool:
        return user_id in self.subscribed

    # ------------------------------------------------------------------ callback builders

    def _event_base(self, event: str, message_token: int | None = None) -> JSON:
        return {
            "event": event,
            "timestamp": epoch_ms(self.now()),
            "chat_hostname": CHAT_HOSTNAME,
            "message_token": message_token if message_token is not None else self._new_token(),
        }

    def _media_size(self, media: str, default: int) -> int:
        for media_id, hosted in self.media.items():
            if f"/media/{media_id}/" in media:
                return len(hosted.data)
        return default

    def message_event(self, user: JSON, message: JSON, *, message_token: int | None = None) -> JSON:
        """A user → bot message callback."""
        return {
            **self._event_base("message", message_token),
            "sender": copy.deepcopy(user),
            "message": copy.deepcopy(message),
            "silent": False,
        }

    def text(self, text: str) -> JSON:
        return {"type": "text", "text": text}

    def picture(
        self, media: str, text: str = "", file_name: str = "photo.jpg", size: int | None = None
    ) -> JSON:
        """A photo from the user (``size`` defaults to the hosted file's length)."""
        return {
            "type": "picture",
            "text": text,
            "media": media,
            "thumbnail": media,
            "file_name": file_name,
            "size": size if size is not None else self._media_size(media, 102_400),
        }

    def video(self, media: str, size: int | None = None, duration: int = 5) -> JSON:
        return {
            "type": "video",
            "media": media,
            "thumbnail": media,
            "size": size if size is not None else self._media_size(media, 1_048_576),
            "duration": duration,
        }

    def file(self, media: str, file_name: str, size: int) -> JSON:
        return {"type": "file", "media": media, "file_name": file_name, "size": size}

    def sticker(self, sticker_id: int = 40133, media: str | None = None) -> JSON:
        message: JSON = {"type": "sticker", "sticker_id": sticker_id}
        if media is not None:
            message["media"] = media
        return message

    def location(self, lat: float, lon: float) -> JSON:
        return {"type": "location", "location": {"lat": lat, "lon": lon}}

    def contact(self, name: str, phone_number: str) -> JSON:
        return {"type": "contact", "contact": {"name": name, "phone_number": phone_number}}

    def url_message(self, url: str) -> JSON:
        return {"type": "url", "media": url}

    def conversation_started(
        self, user: JSON, *, subscribed: bool = False, context: str | None = None
    ) -> JSON:
        """The user opened the chat; the app may answer with a welcome message inline."""
        event: JSON = {
            **self._event_base("conversation_started"),
            "type": "open",
            "user": copy.deepcopy(user),
            "subscribed": subscribed,
        }
        if context is not None:
            event["context"] = context
        return event

    def subscribed_event(self, user: JSON) -> JSON:
        return {**self._event_base("subscribed"), "user": copy.deepcopy(user)}

    def unsubscribed_event(self, user_id: str) -> JSON:
        return {**self._event_base("unsubscribed"), "user_id": user_id}

    def delivered(self, user_id: str, message_token: int) -> JSON:
        return {**self._event_base("delivered", message_token), "user_id": user_id}

    def seen(self, user_id: str, message_token: int) -> JSON:
        return {**self._event_base("seen", message_token), "user_id": user_id}

    def failed(self, user_id: str, message_token: int, desc: str = MEDIA_FAILED_DESC) -> JSON:
        return {**self._event_base("failed", message_token), "user_id": user_id, "desc": desc}

    def sent_at(self, event: JSON, moment: datetime) -> JSON:
        """A copy of ``event`` stamped ``moment``: a callback recorded then and sent again now
        (a replay), or one from a clock far ahead."""
        return {**copy.deepcopy(event), "timestamp": epoch_ms(moment)}

    # ------------------------------------------------------------------ sending callbacks

    def _apply(self, event: JSON) -> None:
        """What Viber's world learns from an event it sends."""
        kind = event.get("event")
        user = event.get("sender") if kind == "message" else event.get("user")
        if isinstance(user, dict) and _is_str(user.get("id")):
            self.users.setdefault(user["id"], copy.deepcopy(user))
            if kind in ("message", "subscribed") or (
                kind == "conversation_started" and event.get("subscribed")
            ):
                self.subscribed.add(user["id"])
        if kind == "unsubscribed" and _is_str(event.get("user_id")):
            self.subscribed.discard(event["user_id"])
        self._changed()

    async def send_callback(
        self,
        event: JSON | bytes,
        *,
        signature: str | Literal[_Auto.SIGN] | None = SIGN,
        url: str | None = None,
    ) -> tuple[int, str]:
        """POST a callback to the webhook (or ``url``); returns (HTTP status, response text).

        The body is signed with ``X-Viber-Content-Signature`` (hex HMAC-SHA256 of the exact
        bytes, keyed with the auth token); ``signature=None`` omits the header and a string is
        sent as is.  Dict events also update the world (subscriptions).  A
        ``conversation_started`` answered with a JSON message is validated and, if valid,
        "delivered" to the user (see :meth:`received`, ``"welcome": True``).
        """
        target = url or self.webhook_url
        if not target:
            raise AssertionError("no webhook is set and no url was given")
        parsed = event if isinstance(event, dict) else None
        if parsed is not None:
            self._apply(parsed)
        callback = await self._post_callback(target, event, signature=signature)
        if callback.status is None:
            raise AssertionError(f"callback to {target} failed: {callback.error}")
        if (
            parsed is not None
            and parsed.get("event") == "conversation_started"
            and callback.status == 200
            and callback.response.strip()
        ):
            await self._welcome(parsed, callback.response)
        return callback.status, callback.response

    async def _post_callback(
        self,
        url: str,
        event: JSON | bytes,
        *,
        signature: str | Literal[_Auto.SIGN] | None = SIGN,
    ) -> ViberCallback:
        if self._client is None:
            raise AssertionError("FakeViber is not started")
        body = event if isinstance(event, bytes) else _dumps(event).encode()
        if signature is SIGN:
            signature = signature_of(body, self.auth_token)
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        record = ViberCallback(url, event if isinstance(event, dict) else None, body, signature)
        self.callbacks.append(record)
        try:
            async with self._client.post(url, data=body, headers=headers) as response:
                record.status = response.status
                record.response = await response.text()
        except (ClientError, TimeoutError) as exc:
            record.error = repr(exc)
        self._changed()
        return record

    async def _welcome(self, event: JSON, text: str) -> None:
        try:
            payload = json.loads(text)
            if not isinstance(payload, dict):
                raise bad("the welcome message is not a JSON object")
            validate_message(payload, need_receiver=False)
        except (ValueError, ViberError) as exc:
            self.welcome_errors.append(f"{exc}: {text[:300]}")
            self._changed()
            return
        await self._accept(event["user"]["id"], payload, event["message_token"], welcome=True)


# ---------------------------------------------------------------------- payload validation


def _check_str(
    payload: JSON,
    key: str,
    limit: int | None,
    *,
    required: bool,
    allow_empty: bool = True,
    prefix: str = "",
) -> None:
    value = payload.get(key)
    name = prefix + key
    if value is None:
        if required:
            raise bad(f"{name} is required")
        return
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    if not value and not allow_empty:
        raise bad(f"{name} must not be empty")
    if limit is not None and len(value) > limit:
        raise bad(f"{name} is {len(value)} characters; the maximum is {limit}")


def _check_url(payload: JSON, key: str, *, required: bool) -> None:
    value = payload.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not _is_url(value):
        raise bad(f"{key} must be an http(s) URL, got {value!r}")
    if len(value) > URL_LIMIT:
        raise bad(f"{key} is longer than {URL_LIMIT} characters")


def _check_size(payload: JSON, limit: int) -> None:
    size = payload.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad(f"size is required and must be a non-negative integer (bytes), got {size!r}")
    if size > limit:
        raise bad(f"size {size} exceeds the maximum of {limit} bytes")


def validate_keyboard(keyboard: Any, *, kind: str = "keyboard") -> None:
    """A keyboard ({"Type": "keyboard", "Buttons": [...]}) or a rich_media object."""
    if not isinstance(keyboard, dict):
        raise bad(f"{kind} must be an object")
    if keyboard.get("Type") != kind:
        raise bad(f'{kind}.Type must be "{kind}"')
    buttons = keyboard.get("Buttons")
    if not isinstance(buttons, list) or not buttons:
        raise bad(f"{kind}.Buttons must be a non-empty array")
    max_rows = 2 if kind == "keyboard" else 7
    for i, button in enumerate(buttons):
        where = f"{kind}.Buttons[{i}]"
        if not isinstance(button, dict):
            raise bad(f"{where} must be an object")
        action = button.get("ActionType", "reply")
        if action not in ACTION_TYPES:
            raise bad(f"{where}.ActionType {action!r} is not one of {sorted(ACTION_TYPES)}")
        body = button.get("ActionBody")
        if not isinstance(body, str) or (not body and action != "none"):
            raise bad(f"{where}.ActionBody is required")
        if action == "open-url" and not _is_url(body):
            raise bad(f"{where}.ActionBody must be a URL for open-url")
        text = button.get("Text")
        if text is not None and (not isinstance(text, str) or len(text) > BUTTON_TEXT_LIMIT):
            raise bad(f"{where}.Text must be a string of at most {BUTTON_TEXT_LIMIT} characters")
        for key, top in (("Columns", 6), ("Rows", max_rows)):
            value = button.get(key)
            if value is not None and (not _is_int(value) or not 1 <= value <= top):
                raise bad(f"{where}.{key} must be an integer 1..{top}")
        size = button.get("TextSize")
        if size is not None and size not in TEXT_SIZES:
            raise bad(f"{where}.TextSize must be one of {sorted(TEXT_SIZES)}")
        if "Silent" in button and not isinstance(button["Silent"], bool):
            raise bad(f"{where}.Silent must be a boolean")
    if "DefaultHeight" in keyboard and not isinstance(keyboard["DefaultHeight"], bool):
        raise bad(f"{kind}.DefaultHeight must be a boolean")
    state = keyboard.get("InputFieldState")
    if state is not None and state not in INPUT_FIELD_STATES:
        raise bad(f"{kind}.InputFieldState must be one of {sorted(INPUT_FIELD_STATES)}")


def validate_message(payload: JSON, *, need_receiver: bool) -> None:
    """Validate a send_message body (or an inline welcome message) like Viber does."""
    if need_receiver:
        _check_str(payload, "receiver", None, required=True, allow_empty=False)
    sender = payload.get("sender")
    if not isinstance(sender, dict):
        raise bad("sender is required and must be an object with name")
    name = sender.get("name")
    if not isinstance(name, str) or not name:
        raise bad("sender.name is required")
    if len(name) > SENDER_NAME_LIMIT:
        raise bad(f"sender.name is {len(name)} characters; the maximum is {SENDER_NAME_LIMIT}")
    if sender.get("avatar") is not None and not _is_str(sender["avatar"]):
        raise bad("sender.avatar must be a string (URL)")
    version = payload.get("min_api_version")
    if version is not None and (not _is_int(version) or version < 1):
        raise bad("min_api_version must be a positive integer")
    _check_str(payload, "tracking_data", TRACKING_DATA_LIMIT, required=False)
    keyboard = payload.get("keyboard")
    if keyboard is not None:
        validate_keyboard(keyboard)
    kind = payload.get("type")
    if kind is None:
        if keyboard is None:
            raise bad("type is required")
        return  # a keyboard-only message (viberbot's KeyboardMessage has no type)
    if kind not in MESSAGE_TYPES:
        raise bad(f"type {kind!r} is not one of {sorted(MESSAGE_TYPES)}")
    if kind == "text":
        _check_str(payload, "text", TEXT_LIMIT, required=True, allow_empty=False)
    elif kind == "picture":
        _check_url(payload, "media", required=True)
        _check_str(payload, "text", PICTURE_TEXT_LIMIT, required=False)
        _check_url(payload, "thumbnail", required=False)
    elif kind == "video":
        _check_url(payload, "media", required=True)
        _check_size(payload, VIDEO_SIZE_LIMIT)
        duration = payload.get("duration")
        if duration is not None and (
            not _is_int(duration) or not 0 <= duration <= VIDEO_DURATION_LIMIT
        ):
            raise bad(f"duration must be an integer 0..{VIDEO_DURATION_LIMIT} (seconds)")
        _check_url(payload, "thumbnail", required=False)
        _check_str(payload, "text", PICTURE_TEXT_LIMIT, required=False)
    elif kind == "file":
        _check_url(payload, "media", required=True)
        _check_size(payload, FILE_SIZE_LIMIT)
        _check_str(payload, "file_name", FILE_NAME_LIMIT, required=True, allow_empty=False)
    elif kind == "location":
        location = payload.get("location")
        if not isinstance(location, dict):
            raise bad("location is required and must be an object with lat and lon")
        lat, lon = location.get("lat"), location.get("lon")
        if not isinstance(lat, int | float) or isinstance(lat, bool) or not -90 <= lat <= 90:
            raise bad(f"location.lat must be a number -90..90, got {lat!r}")
        if not isinstance(lon, int | float) or isinstance(lon, bool) or not -180 <= lon <= 180:
            raise bad(f"location.lon must be a number -180..180, got {lon!r}")
    elif kind == "contact":
        contact = payload.get("contact")
        if not isinstance(contact, dict):
            raise bad("contact is required and must be an object with name and phone_number")
        for key, limit in (("name", CONTACT_NAME_LIMIT), ("phone_number", CONTACT_PHONE_LIMIT)):
            _check_str(contact, key, limit, required=True, allow_empty=False, prefix="contact.")
    elif kind == "sticker":
        if not _is_int(payload.get("sticker_id")):
            raise bad("sticker_id is required and must be an integer")
    elif kind == "url":
        _check_url(payload, "media", required=True)
    elif kind == "rich_media":
        validate_keyboard(payload.get("rich_media"), kind="rich_media")
