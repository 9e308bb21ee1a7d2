"""A stand-in for the Telegram Bot API: the fake server of the tests, the benchmark and the demo.

The app talks to it over real HTTP through aiogram (``TelegramAPIServer.from_base(fake.url)``),
so the whole stack (request encoding, pydantic validation of answers, error classes) is
exercised.  The fake keeps a small in-memory world (users, chats, messages, forum topics,
files, webhook, pending updates), answers with the real JSON shapes and error texts, and
records every call so tests can assert on what the app did.  The operators' side is one forum
supergroup (``operator_chat_id``) or several (:meth:`FakeTelegram.add_group`), each with its own
message ids, topics, members, settings and flood budget (:class:`ForumGroup`).  Nothing here
sleeps: waiting is always done on a change event that fires after every call and every state
change.  The one exception is :meth:`FakeTelegram.delay`, which exists to make the *server*
slow on purpose so tests can exercise the app's request timeouts; it too wakes early when the
fake stops.

Flood control (:meth:`FakeTelegram.rate_limits`) is off by default, so ordinary tests never see
a 429 they did not ask for.  Its windows run on a clock of their own (``time.monotonic`` unless
frozen/advanced via :meth:`FakeTelegram.freeze_clock` / :meth:`FakeTelegram.advance_clock`), so a
test can let a 60 s window pass instantly instead of waiting for it.  Like Telegram, it charges
every call that writes into a chat (edits, reactions, pins and forum-topic operations as well as
messages; see ``FLOOD_METHODS``), and :meth:`FakeTelegram.operations` tells a test what the bot
spent in a chat, with flood control on or off.

Outages look as they do on the wire: during an incident Telegram's front (nginx) answers
``502 Bad Gateway`` with its HTML page, not the Bot API's JSON, so aiogram raises
``ClientDecodeError`` rather than ``TelegramServerError``.  :meth:`FakeTelegram.outage` and
``fail(..., html=True)`` reproduce that; :meth:`FakeTelegram.deliver_until_accepted` redelivers
an update to a failing webhook the way Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import random
import re
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, ClassVar, Generic, TypeVar, cast

from aiohttp import BodyPartReader, ClientError, ClientSession, ClientTimeout, MultipartReader, web
from aiohttp.web_request import FileField

from standins.telegram_business import BusinessMixin

# every fake made in this process, so a test can read what its people wrote (tests/log_watch.py)
INSTANCES: weakref.WeakSet[FakeTelegram] = weakref.WeakSet()

JSON = dict[str, Any]
T = TypeVar("T")

DEFAULT_OPERATOR_CHAT_ID = -1001234567890
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOPIC_NAME_LIMIT = 128
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)

# Telegram's standard (free) reaction emoji, exactly as the Bot API spells them.
STANDARD_REACTIONS: frozenset[str] = frozenset(
    (
        "👍",
        "👎",
        "❤",
        "🔥",
        "🥰",
        "👏",
        "😁",
        "🤔",
        "🤯",
        "😱",
        "🤬",
        "😢",
        "🎉",
        "🤩",
        "🤮",
        "💩",
        "🙏",
        "👌",
        "🕊",
        "🤡",
        "🥱",
        "🥴",
        "😍",
        "🐳",
        "❤\u200d🔥",
        "🌚",
        "🌭",
        "💯",
        "🤣",
        "⚡",
        "🍌",
        "🏆",
        "💔",
        "🤨",
        "😐",
        "🍓",
        "🍾",
        "💋",
        "🖕",
        "😈",
        "😴",
        "😭",
        "🤓",
        "👻",
        "👨\u200d💻",
        "👀",
        "🎃",
        "🙈",
        "😇",
        "😨",
        "🤝",
        "✍",
        "🤗",
        "🫡",
        "🎅",
        "🎄",
        "☃",
        "💅",
        "🤪",
        "🗿",
        "🆒",
        "💘",
        "🙉",
        "🦄",
        "😘",
        "💊",
        "🙊",
        "😎",
        "👾",
        "🤷\u200d♂",
        "🤷",
        "🤷\u200d♀",
        "😡",
    )
)

# Message fields that carry copyable content (everything else is metadata or a service event).
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "photo",
    "video",
    "animation",
    "document",
    "audio",
    "voice",
    "video_note",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
PRIMARY_CONTENT = (
    "text",
    "photo",
    "video",
    "animation",
    "document",
    "audio",
    "voice",
    "video_note",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
MEDIA_KINDS = ("photo", "video", "animation", "document", "audio", "voice", "video_note", "sticker")
# Keys the fake keeps on stored messages for tests only; never sent to the app.
PRIVATE_KEYS = ("html", "reactions")
# Form fields that are strings even when they look like JSON numbers (e.g. text="42").
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "address",
        "question",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "emoji",
        "icon_custom_emoji_id",
        "custom_emoji_id",
        "callback_query_id",
        "url",
        "secret_token",
        "parse_mode",
        "data",
        "file_id",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "explanation",
        "business_connection_id",
        "message_effect_id",
        "ip_address",
        "inline_message_id",
        "language_code",
        "performer",
        "description",
        "short_description",
        "action",
        *MEDIA_KINDS,
        "thumbnail",
    }
)
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# Calls that put (or change) a message in a chat: the ones the global limit (about 30 messages a
# second over all chats, Telegram's bot FAQ) counts.
MESSAGE_METHODS = frozenset(
    method.lower()
    for method in (
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "sendPhoto",
        "sendVideo",
        "sendAnimation",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    )
)
# Calls that write into a chat: Telegram charges each to the chat's budget (tdlib/td#2592: about
# 20 operations a minute in a group), not only the ones that post a message.  Deletions are free.
FLOOD_METHODS = MESSAGE_METHODS | frozenset(
    method.lower()
    for method in (
        "editMessageMedia",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
        "setMessageReaction",
        "pinChatMessage",
        "unpinChatMessage",
        "unpinAllForumTopicMessages",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
        "editGeneralForumTopic",
        "closeGeneralForumTopic",
        "reopenGeneralForumTopic",
    )
)
# The reason phrases nginx puts in its own error pages (and status lines), where they differ from
# the standard ones (it still says "Gateway Time-out").
NGINX_REASONS: dict[int, str] = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
# The name outage() gives the file download endpoint (/file/bot<token>/<path>).
FILE_ENDPOINT = "file"
# "Bots can currently download files of up to 20MB in size" (Bot API, getFile); getFile of a
# larger file answers 400 "Bad Request: file is too big".
DOWNLOAD_LIMIT = 20 * 1024 * 1024
FILE_CHUNK = 64 * 1024
# Telegram's redelivery to a failing webhook: the first pause, doubled up to the cap.
REDELIVERY_FIRST_PAUSE = 0.05
REDELIVERY_MAX_PAUSE = 1.0
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)


class ApiError(Exception):
    """An error answer of the Bot API; raised inside handlers, turned into JSON by the server."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        """The exact JSON body Telegram would send."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad(description: str) -> ApiError:
    """Shorthand for the most common error: 400 with a "Bad Request: ..." text."""
    return ApiError(400, f"Bad Request: {description}")


def nginx_reason(status: int) -> str:
    """The reason phrase nginx gives ``status`` (its own spelling, e.g. "Gateway Time-out")."""
    return NGINX_REASONS.get(status) or HTTPStatus(status).phrase


def nginx_page(status: int) -> str:
    """nginx's error page for ``status``, byte for byte (CRLF line ends), as Telegram's front sends.

    A client that expects the Bot API's JSON cannot decode it; that is the point.
    """
    title = f"{status} {nginx_reason(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


class FrontError(Exception):
    """An answer of Telegram's front (nginx) instead of the Bot API: an HTML page, not JSON."""

    def __init__(self, status: int) -> None:
        super().__init__(f"{status} {nginx_reason(status)}")
        self.status = status

    def response(self) -> web.Response:
        """The page as nginx sends it: text/html without a charset, ``Server: nginx``."""
        return web.Response(
            status=self.status,
            reason=nginx_reason(self.status),
            body=nginx_page(self.status).encode(),
            headers={"Content-Type": "text/html", "Server": "nginx"},
        )


@dataclass
class Call:
    """One recorded API request (failed ones included), so tests can assert on app behaviour.

    ``performed`` tells whether Telegram did it (refused and failed calls did nothing); ``cost``
    is what a performed call charged to the budget of chat ``chat_id`` (0 for reads, deletions,
    refused and failed calls; albums and copyMessages count per item).
    """

    method: str
    params: JSON
    at: float
    files: dict[str, StoredFile] = field(default_factory=dict)
    performed: bool = False
    cost: int = 0
    chat_id: int | None = None


@dataclass
class Topic:
    """A forum topic of an operator group, as the fake's world knows it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def as_api(self) -> JSON:
        """The ForumTopic object returned by createForumTopic."""
        out: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            out["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return out


@dataclass
class ForumGroup:
    """One operator supergroup the bot is an admin of: its settings, topics and members.

    Thread ids are per group (a topic's thread id is the id of its first message in that
    group), so two groups can both have a thread 101.  ``member_status`` holds the users whose
    status is not the default "member" (the owner is "creator" in every group).
    """

    chat_id: int
    title: str
    is_forum: bool = True
    username: str | None = None  # set: a public group (t.me/<username>)
    join_by_request: bool = False  # joining without an invite link needs approval
    bot_status: str = "administrator"
    bot_can_manage_topics: bool = True
    # deleteForumTopic also needs this right (Bot API: "can_delete_messages")
    bot_can_delete_messages: bool = True
    topics: dict[int, Topic] = field(default_factory=dict)
    # the General topic (thread 1, which has no Topic of its own)
    general_name: str = "General"
    general_closed: bool = False
    member_status: dict[int, str] = field(default_factory=dict)

    def bot_manages_topics(self) -> bool:
        return self.bot_status in ("administrator", "creator") and self.bot_can_manage_topics

    def live_topic(self, thread_id: Any) -> Topic | None:
        """The topic with this thread id unless it does not exist or was deleted."""
        topic = self.topics.get(thread_id)
        return None if topic is None or topic.deleted else topic


class _MainGroupSetting(Generic[T]):
    """A FakeTelegram attribute that is a setting of the main operator group (kept by name)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, fake: FakeTelegram, owner: type | None = None) -> T:
        return cast(T, getattr(fake.main_group, self.name))

    def __set__(self, fake: FakeTelegram, value: T) -> None:
        setattr(fake.main_group, self.name, value)


@dataclass
class StoredFile:
    """A file known to the fake: uploaded by the app or created by a content factory."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def as_api(self) -> JSON:
        """The File object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class _Failure:
    """An injected error waiting for the next matching calls."""

    method: str
    error: ApiError
    times: int
    when: Callable[[JSON], bool] | None
    html: bool = False

    def exception(self) -> ApiError | FrontError:
        """What the call gets: the Bot API's JSON error, or nginx's page for the same status."""
        return FrontError(self.error.error_code) if self.html else self.error


@dataclass
class _Outage:
    """An ongoing incident: matching calls get the front's answer and are not performed."""

    status: int
    html: bool
    methods: frozenset[str] | None  # lower-case names, FILE_ENDPOINT for downloads; None = all

    def covers(self, name: str) -> bool:
        return self.methods is None or name.lower() in self.methods

    def exception(self) -> ApiError | FrontError:
        """nginx's page, or the JSON Telegram sends when the front still speaks the Bot API."""
        if self.html:
            return FrontError(self.status)
        return ApiError(self.status, HTTPStatus(self.status).phrase)


@dataclass
class _Delay:
    """An injected slow answer waiting for the next matching calls."""

    method: str
    seconds: float
    times: int
    when: Callable[[JSON], bool] | None


@dataclass
class _Window:
    """A sliding window: at most ``limit`` operations within any ``seconds``-long span."""

    limit: int
    seconds: float
    sends: deque[float] = field(default_factory=deque)

    def wait(self, now: float, count: int) -> float:
        """Seconds until ``count`` more messages fit (0 = they fit now).

        A batch bigger than the whole limit (a 10-item album against 3/min) could never fit
        by the letter of the rule; it is admitted into an empty window instead, so an app that
        honours retry_after is not refused forever.
        """
        while self.sends and self.sends[0] + self.seconds <= now:
            self.sends.popleft()
        excess = len(self.sends) + count - self.limit
        if excess <= 0 or not self.sends:
            return 0.0
        oldest_needed = self.sends[-1] if excess > len(self.sends) else self.sends[excess - 1]
        return max(0.0, oldest_needed + self.seconds - now)

    def add(self, now: float, count: int) -> None:
        self.sends.extend([now] * count)


@dataclass
class _FloodLimits:
    """Configured flood control; a window template per kind, live windows per chat."""

    chat: tuple[int, float] | None
    group: tuple[int, float] | None
    overall: _Window | None
    chats: dict[int, _Window] = field(default_factory=dict)
    groups: dict[int, _Window] = field(default_factory=dict)


@dataclass
class _Request:
    """A decoded API request handed to the method handlers."""

    method: str
    params: JSON
    files: dict[str, StoredFile]


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _HtmlEntities(HTMLParser):
    """Parses Telegram-flavoured HTML into plain text plus MessageEntity dicts."""

    TAGS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "code": "code",
        "pre": "pre",
        "a": "text_link",
        "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    }

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.text_pos = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[JSON] = []
        self.languages: dict[int, str] = {}

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        lines = self.source.split("\n")
        prefix = "\n".join(lines[: line - 1]) + ("\n" if line > 1 else "") + lines[line - 1][:col]
        return len(prefix.encode())

    def _fail(self, text: str) -> ApiError:
        return bad(f"can't parse entities: {text}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in self.TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self.stack.append((tag, self.text_pos, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            expected = f', expected "</{self.stack[-1][0]}>"' if self.stack else ""
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}{expected}, "
                f'found "</{tag}>"'
            )
        name, start, attributes = self.stack.pop()
        length = self.text_pos - start
        css = attributes.get("class") or ""
        if name == "code" and self.stack and self.stack[-1][0] == "pre" and css:
            self.languages[self.stack[-1][1]] = css.removeprefix("language-")
            return
        if length == 0:
            return
        entity: JSON = {"type": self.TAGS[name], "offset": start, "length": length}
        if name == "a":
            href = attributes.get("href") or ""
            match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if match:
                user = {"id": int(match[1]), "is_bot": False, "first_name": "User"}
                entity = {**entity, "type": "text_mention", "user": user}
            else:
                entity["url"] = href
        elif name == "pre" and start in self.languages:
            entity["language"] = self.languages[start]
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif name == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.text_pos += utf16_len(data)

    def result(self) -> tuple[str, list[JSON]]:
        """Plain text and entities sorted the way Telegram returns them."""
        self.close()
        if self.stack:
            tag = self.stack[-1][0]
            raise self._fail(f'Can\'t find end tag corresponding to start tag "{tag}"')
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Turn a parse_mode=HTML string into (plain text, entities) like Telegram does."""
    parser = _HtmlEntities(source)
    parser.feed(source)
    return parser.result()


def _decode_value(key: str, value: Any) -> Any:
    """Form fields arrive as strings; JSON-decode the ones that are not text by nature."""
    if not isinstance(value, str) or key in STRING_FIELDS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "[") or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if re.fullmatch(r"-?\d+", stripped):
        return int(stripped)
    if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", stripped):
        return float(stripped)
    return value


def _public(message: JSON) -> JSON:
    """A deep copy of a stored message without the fake's test-only keys."""
    out = copy.deepcopy(message)
    for key in PRIVATE_KEYS:
        out.pop(key, None)
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


class FakeTelegram(BusinessMixin):
    """In-memory Telegram world plus a Bot API HTTP server for it.

    The world has one operator forum supergroup, ``operator_chat_id`` (the main group), and
    any number more added with :meth:`add_group`; each is a :class:`ForumGroup` in ``groups``.
    The attributes below keep naming the main group's settings, as before there were several.
    Business accounts connected to the bot, their chats and the bot's answers on their behalf
    come from :class:`standins.telegram_business.BusinessMixin`.
    """

    topics: _MainGroupSetting[dict[int, Topic]] = _MainGroupSetting("topics")
    group_is_forum: _MainGroupSetting[bool] = _MainGroupSetting("is_forum")
    group_title: _MainGroupSetting[str] = _MainGroupSetting("title")
    group_username: _MainGroupSetting[str | None] = _MainGroupSetting("username")
    group_join_by_request: _MainGroupSetting[bool] = _MainGroupSetting("join_by_request")
    bot_status: _MainGroupSetting[str] = _MainGroupSetting("bot_status")
    bot_can_manage_topics: _MainGroupSetting[bool] = _MainGroupSetting("bot_can_manage_topics")
    bot_can_delete_messages: _MainGroupSetting[bool] = _MainGroupSetting("bot_can_delete_messages")
    member_status: _MainGroupSetting[dict[int, str]] = _MainGroupSetting("member_status")
    general_name: _MainGroupSetting[str] = _MainGroupSetting("general_name")
    general_closed: _MainGroupSetting[bool] = _MainGroupSetting("general_closed")

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - a fake token for tests
        *,
        operator_chat_id: int = DEFAULT_OPERATOR_CHAT_ID,
    ) -> None:
        self.token = token
        self.operator_chat_id = operator_chat_id
        INSTANCES.add(self)
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = "support_bridge_test_bot"
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Support Bot",
            "username": self.bot_username,
        }
        self.url = ""
        # world state
        self.users: dict[int, JSON] = {}
        self.blocked: set[int] = set()
        self.chats: dict[int, JSON] = {}
        self.messages: dict[int, dict[int, JSON]] = {}
        # the operator supergroups by chat id, the main one (operator_chat_id) first
        self.groups: dict[int, ForumGroup] = {}
        # message ids pinned in each chat, oldest pin first
        self.pinned: dict[int, list[int]] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook: JSON = {"url": "", "secret_token": None, "allowed_updates": None}
        self.pending_updates: list[JSON] = []
        self.allowed_updates: list[str] = []
        self.commands: dict[str, list[JSON]] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.calls: list[Call] = []
        self.server_errors: list[str] = []
        self.downloads: list[str] = []  # file paths, one per GET of the file server
        self._held_after: int | None = None  # hold_downloads(): bytes sent before holding
        self._downloads_released = asyncio.Event()
        self._cuts: list[int] = []  # cut_downloads(): bytes sent before each drop
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._outage: _Outage | None = None
        self._flood: _FloodLimits | None = None
        # every 429 flood control gave (not the ones injected with fail())
        self.flood_refusals: list[Call] = []
        self._clock_frozen_at: float | None = None
        self._clock_offset = 0.0
        self._media: dict[str, tuple[str, Any]] = {}
        self._next_message_id: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(700_000_001)
        self._update_ids = itertools.count(500_000_001)
        self._event = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []  # on_change()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._group_ids = itertools.count(operator_chat_id - 1, -1)
        self._init_business()
        self.owner = self.add_user("Olena", last_name="Owner", username="support_owner")
        self.add_group("Support operators", chat_id=operator_chat_id)
        self._methods: dict[str, Callable[[_Request], Any]] = {
            name.removeprefix("api_").lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("api_")
        }

    # ------------------------------------------------------------------ server lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port and set ``url``."""
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._client = ClientSession(timeout=ClientTimeout(total=30))

    async def stop(self) -> None:
        """Release long polls and shut the server down."""
        self._closing = True
        self._downloads_released.set()
        self._changed()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ change notification

    def _changed(self) -> None:
        """Wake everyone waiting on the world (wait_for, long polls)."""
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
        """The last calls (without getUpdates noise) for assertion messages."""
        calls = [c for c in self.calls if c.method.lower() != "getupdates"][-last:]
        lines = [f"last {len(calls)} calls (getUpdates omitted):"]
        lines += [f"  {c.method} {json.dumps(c.params, ensure_ascii=False)[:400]}" for c in calls]
        if self.server_errors:
            lines.append("fake server errors:")
            lines += [f"  {e}" for e in self.server_errors]
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP layer

    async def _decode(self, request: web.Request) -> tuple[JSON, dict[str, StoredFile]]:
        params: JSON = {}
        files: dict[str, StoredFile] = {}
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, FileField):
                    data = value.file.read()
                    files[key] = self._new_file(
                        "documents", data, file_name=value.filename, mime_type=value.content_type
                    )
                else:
                    raw[key] = value
        for key, value in raw.items():
            params[key] = _decode_value(key, value)
        return params, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, files = await self._decode(request)
        except Exception as exc:  # reported to the test via params
            params, files = {"_undecodable": repr(exc)}, {}
        status, body = await self._dispatch(request.match_info["token"], method, params, files)
        if isinstance(body, FrontError):
            return body.response()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _dispatch(
        self, token: str, method: str, params: JSON, files: dict[str, StoredFile]
    ) -> tuple[int, JSON | FrontError]:
        """Record the call, apply outages, injected delays/failures and flood control, run it.

        Returns (status, JSON body), or the front's page as a FrontError.  Order: an outage
        answers first (the front never passes the call on); a delayed call is slow first and
        only then fails or is refused, like a request that sat in a queue before Telegram
        looked at it.
        """
        call = Call(method, params, time.monotonic(), files)
        self.calls.append(call)
        self._changed()
        body: JSON | FrontError
        try:
            if self._outage is not None and self._outage.covers(method):
                raise self._outage.exception()
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            handler = self._business_route(method, params, handler)
            await self._maybe_delay(method, params)
            self._maybe_fail(method, params)
            self._flood_check(call)
            result = handler(_Request(method, params, files))
            if isinstance(result, Awaitable):
                result = await result
            call.performed = True
            self._charge(call, result)
            body = {"ok": True, "result": result}
            status = 200
        except FrontError as err:
            body, status = err, err.status
        except ApiError as err:
            body, status = err.payload(), err.error_code
        except Exception as exc:  # a fake bug must show, not hang
            self.server_errors.append(f"{method}: {exc!r}")
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc}"}
            status = 500
        finally:
            self._changed()
        return status, body

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.downloads.append(path)
        self._changed()
        if self._outage is not None and self._outage.covers(FILE_ENDPOINT):
            error = self._outage.exception()
            if isinstance(error, FrontError):
                return error.response()
            return web.json_response(error.payload(), status=error.error_code, dumps=_dumps)
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        if self._held_after is None and not self._cuts:
            return web.Response(body=stored.data, content_type="application/octet-stream")
        return await self._send_file_slowly(request, stored.data)

    async def _send_file_slowly(self, request: web.Request, data: bytes) -> web.StreamResponse:
        """The file in chunks, held or cut off part-way as hold_downloads/cut_downloads say."""
        cut = self._cuts.pop(0) if self._cuts else None
        held = self._held_after
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(data)
        await response.prepare(request)
        stop_at = min(len(data), cut if cut is not None else held if held is not None else 0)
        try:
            for start in range(0, stop_at, FILE_CHUNK):
                await response.write(data[start : min(start + FILE_CHUNK, stop_at)])
            if cut is not None:
                if request.transport is not None:
                    request.transport.close()  # the connection drops mid-file
                return response
            if held is not None:
                self._changed()
                await self._downloads_released.wait()
            for start in range(stop_at, len(data), FILE_CHUNK):
                await response.write(data[start : start + FILE_CHUNK])
            await response.write_eof()
        except ConnectionError:  # the client left; nothing to tell it
            pass
        finally:
            self._changed()
        return response

    def _maybe_fail(self, method: str, params: JSON) -> None:
        for failure in self._failures:
            if failure.method == method.lower() and (failure.when is None or failure.when(params)):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise failure.exception()

    async def _maybe_delay(self, method: str, params: JSON) -> None:
        """Hold a call matching an injected delay; stop() releases it early."""
        for delay in self._delays:
            if delay.method == method.lower() and (delay.when is None or delay.when(params)):
                delay.times -= 1
                if delay.times <= 0:
                    self._delays.remove(delay)
                break
        else:
            return
        await self._pause(delay.seconds)

    async def _pause(self, seconds: float) -> None:
        """Let ``seconds`` pass, waking on changes; stop() ends it early so nothing hangs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing:
            event = self._event
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ------------------------------------------------------------------ flood control

    def _now(self) -> float:
        """The flood-control clock: monotonic, unless a test froze or advanced it."""
        base = time.monotonic() if self._clock_frozen_at is None else self._clock_frozen_at
        return base + self._clock_offset

    @staticmethod
    def _flood_count(params: JSON) -> int:
        """How many messages a call produces: albums and bulk copies count per item."""
        for key in ("media", "message_ids"):
            items = params.get(key)
            if isinstance(items, list) and items:
                return len(items)
        return 1

    def _flood_windows(self, call: Call) -> list[_Window]:
        """The windows a call counts against: its chat's (none if the chat is unknown), and the
        global one if it is a message (see ``MESSAGE_METHODS``)."""
        flood = self._flood
        assert flood is not None
        windows: list[_Window] = []
        if flood.overall is not None and call.method.lower() in MESSAGE_METHODS:
            windows.append(flood.overall)
        try:
            chat_id = self._chat_id(call.params)
        except ApiError:  # inline_message_id edits, unknown chats: the handler says why
            return windows
        if self.chats[chat_id].get("type") == "private":
            table, template = flood.chats, flood.chat
        else:
            table, template = flood.groups, flood.group
        if template is not None:
            limit, seconds = template
            windows.append(table.setdefault(chat_id, _Window(limit, seconds)))
        return windows

    def _flood_check(self, call: Call) -> None:
        """Refuse a call writing into a chat that would overflow a window, like Telegram."""
        if self._flood is None or call.method.lower() not in FLOOD_METHODS:
            return
        now, count = self._now(), self._flood_count(call.params)
        wait = max((w.wait(now, count) for w in self._flood_windows(call)), default=0.0)
        if wait > 0:
            self.flood_refusals.append(call)
            retry_after = max(1, math.ceil(round(wait, 6)))  # 40.0000000001 s is 40 s
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _charge(self, call: Call, result: Any) -> None:
        """Charge a performed call to its chat (``cost``), and to the windows if flood control
        is on.  Only performed calls get here: a refused or failed one wrote nothing."""
        if call.method.lower() not in FLOOD_METHODS:
            return
        call.cost = len(result) if isinstance(result, list) else 1
        with contextlib.suppress(ApiError):  # inline_message_id edits name no chat
            call.chat_id = self._chat_id(call.params)
        if self._flood is None:
            return
        now = self._now()
        for window in self._flood_windows(call):
            window.add(now, call.cost)

    def operations(self, chat_id: int) -> list[Call]:
        """Performed calls that wrote into ``chat_id``: what the bot spent of its budget there.

        Counted whether or not :meth:`rate_limits` is on; refused and failed calls are not in.
        """
        return [c for c in self.calls if c.cost and c.chat_id == chat_id]

    def operation_count(self, chat_id: int) -> int:
        """Operations charged to ``chat_id`` (albums and copyMessages count per item)."""
        return sum(c.cost for c in self.operations(chat_id))

    def rate_limits(
        self,
        *,
        chat_per_second: float | None = None,
        group_per_minute: int | None = None,
        global_per_second: int | None = None,
    ) -> None:
        """Turn on Telegram-like flood control (all None = off, the default).

        Calls that write into a chat (see ``FLOOD_METHODS``: messages, edits, reactions, pins,
        forum-topic operations; albums and copyMessages count per item) are checked against
        sliding windows: per private chat ``chat_per_second`` (below 1 it means one operation
        per ``1/chat_per_second`` s) and per group/supergroup/channel ``group_per_minute`` per
        60 s; messages (``MESSAGE_METHODS``) also against ``global_per_second`` over all chats
        per 1 s, Telegram's broadcast limit.  A call that would overflow one
        is not performed and gets 429 with ``retry_after`` = whole seconds (>= 1) until every
        window admits it; it is appended to ``flood_refusals``.  Only performed calls fill the
        windows.  Calling this again replaces the limits and forgets earlier operations.
        """
        if chat_per_second is not None and chat_per_second <= 0:
            raise ValueError("chat_per_second must be positive")
        chat: tuple[int, float] | None = None
        if chat_per_second is not None:
            seconds = 1.0 if chat_per_second >= 1 else 1.0 / chat_per_second
            chat = (max(1, math.floor(chat_per_second * seconds + 1e-9)), seconds)
        group = (group_per_minute, 60.0) if group_per_minute is not None else None
        overall = _Window(global_per_second, 1.0) if global_per_second is not None else None
        if chat is None and group is None and overall is None:
            self._flood = None
        else:
            self._flood = _FloodLimits(chat, group, overall)
        self._changed()

    def freeze_clock(self) -> None:
        """Stop the flood-control clock at its current reading, so windows are exact."""
        self._clock_frozen_at = self._now() - self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the flood-control clock forward: a window passes without the test waiting."""
        self._clock_offset += seconds
        self._changed()

    # ------------------------------------------------------------------ world configuration

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "uk",
        is_bot: bool = False,
    ) -> JSON:
        """Create a User (id auto) and its private chat with the bot (chat.id == user.id)."""
        user: JSON = {"id": next(self._user_ids), "is_bot": is_bot, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None and not is_bot:
            user["language_code"] = language_code
        self.users[user["id"]] = user
        chat: JSON = {"id": user["id"], "type": "private", "first_name": first_name}
        if last_name is not None:
            chat["last_name"] = last_name
        if username is not None:
            chat["username"] = username
        self.chats[user["id"]] = chat
        self.messages[user["id"]] = {}
        return copy.deepcopy(user)

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """Make the user block (or unblock) the bot: sends to them fail with 403."""
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        self._changed()

    @property
    def main_group(self) -> ForumGroup:
        """The main operator group (``operator_chat_id``)."""
        return self.groups[self.operator_chat_id]

    def add_group(self, title: str, *, chat_id: int | None = None, is_forum: bool = True) -> int:
        """Add an operator supergroup the bot administers (managing topics); return its chat id.

        It has its own message ids (starting high like the main group's, so they never collide
        with private ones or General's thread 1), topics, General topic, members (the owner is
        its creator, every other user a member unless :meth:`set_member_status` says otherwise)
        and settings (``groups[chat_id]``).  ``chat_id`` None picks an unused -100... id.
        """
        if chat_id is None:
            chat_id = next(i for i in self._group_ids if i not in self.chats)
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} already exists")
        self.groups[chat_id] = ForumGroup(chat_id, title, is_forum=is_forum)
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup"}
        self.messages[chat_id] = {}
        # the group has history: its ids never collide with private ones or General's thread 1
        self._next_message_id[chat_id] = 100
        self.groups[chat_id].member_status[self.owner["id"]] = "creator"
        self._changed()
        return chat_id

    def topics_of(self, chat_id: int) -> dict[int, Topic]:
        """The topics of one operator group by thread id (``topics`` is the main group's)."""
        return self._group_of(chat_id).topics

    def set_member_status(self, user_id: int, status: str, group: int | None = None) -> None:
        """Status getChatMember reports for a user in an operator group (left, kicked...);
        ``group`` None is the main one."""
        self._group_of(group).member_status[user_id] = status
        self._changed()

    def create_topic(
        self, name: str, *, icon_color: int = TOPIC_COLORS[0], group: int | None = None
    ) -> Topic:
        """A topic created by a human admin (not the bot) in an operator group (None = main);
        no API call recorded."""
        return self._create_topic(self._group_of(group), name, icon_color, None, self.owner)

    def delete_topic(self, thread_id: int, *, group: int | None = None) -> None:
        """As if an admin deleted the topic: it and its messages disappear."""
        self._delete_topic(self._group_of(group), thread_id)
        self._changed()

    def fail(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[JSON], bool] | None = None,
        html: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail with this error.

        The answer's HTTP status is ``error_code`` (e.g. 502 for a gateway failure, which
        aiogram raises as TelegramServerError), the body Telegram's error JSON.  With
        ``html=True`` the body is nginx's page for that status instead (``description`` and
        ``retry_after`` unused), as Telegram's front sends in an incident; aiogram raises
        ClientDecodeError.  Failed calls are not performed.
        """
        error = ApiError(error_code, description, retry_after)
        self._failures.append(_Failure(method.lower(), error, times, when, html))

    def outage(
        self, status: int = 502, *, html: bool = True, methods: Iterable[str] | None = None
    ) -> None:
        """Start an incident: every call (or only ``methods``) fails until :meth:`end_outage`.

        Calls are answered by the front with HTTP ``status`` and nginx's page (``html=True``),
        or with Telegram's JSON ``{"ok": false, "error_code": status, "description":
        "Bad Gateway"}`` (``html=False``; the standard reason phrase).  They are recorded in
        ``calls`` but not performed, before any token check, delay or injected failure.
        Downloads (/file/...) fail the same way; name them ``"file"`` in ``methods``.
        Calling it again replaces the current outage.
        """
        HTTPStatus(status)  # an unknown status is a test bug: fail here, not in a handler
        names = None if methods is None else frozenset(m.lower() for m in methods)
        self._outage = _Outage(status, html, names)
        self._changed()

    def end_outage(self) -> None:
        """End the incident started by :meth:`outage`; calls are performed again."""
        self._outage = None
        self._changed()

    def delay(
        self,
        method: str,
        seconds: float,
        *,
        times: int = 1,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) answer ``seconds`` late.

        For timeout tests: the call is recorded on arrival, then held, then handled as usual,
        so a client that gave up still finds the message sent later (as with real Telegram).
        """
        self._delays.append(_Delay(method.lower(), seconds, times, when))

    def hold_downloads(self, *, after_bytes: int = 0) -> None:
        """From now on the file server sends the headers (with Content-Length) and the first
        ``after_bytes`` of each file, then holds the rest until :meth:`release_downloads` (or
        stop): a slow file server, and a way to see whether a client passes bytes on as they
        come."""
        self._held_after = after_bytes
        self._downloads_released = asyncio.Event()
        self._changed()

    def release_downloads(self) -> None:
        """Let held downloads finish; new ones are served at once again."""
        self._held_after = None
        self._downloads_released.set()
        self._changed()

    def cut_downloads(self, *, after_bytes: int, times: int = 1) -> None:
        """The next ``times`` downloads send the headers (with the full Content-Length) and
        ``after_bytes`` bytes, then the connection drops: a file server that dies mid-file."""
        self._cuts.extend([after_bytes] * times)

    def downloads_of(self, file_id: str) -> int:
        """How many times the file server was asked for this file (failed GETs included)."""
        return self.downloads.count(self.files[file_id].file_path)

    # ------------------------------------------------------------------ media factories

    def _new_file(
        self,
        folder: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        extension: str | None = None,
    ) -> StoredFile:
        number = next(self._ids)
        if extension is None:
            guessed = mimetypes.guess_extension(mime_type or "") if mime_type else None
            suffix = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else None
            extension = suffix or (guessed or ".bin").lstrip(".")
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}{random.randbytes(6).hex()}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _base_media(self, stored: StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }

    def _build_media(self, kind: str, stored: StoredFile) -> Any:
        """The API object of ``kind`` for a file, registered so its file_id can be reused."""
        base = self._base_media(stored)
        name, mime = stored.file_name, stored.mime_type
        value: Any
        if kind == "photo":
            small = self._new_file("photos", stored.data, extension="jpg")
            stored.file_path = re.sub(r"^[^/]+/", "photos/", stored.file_path)
            value = [
                {**self._base_media(small), "width": 90, "height": 51},
                {**base, "width": 1280, "height": 720},
            ]
            self._media[small.file_id] = (kind, value)
        elif kind == "document":
            value = {
                **base,
                "file_name": name or "file.bin",
                "mime_type": mime or "application/octet-stream",
            }
        elif kind == "video":
            value = {
                **base,
                "width": 1280,
                "height": 720,
                "duration": 5,
                "file_name": name or "video.mp4",
                "mime_type": "video/mp4",
            }
        elif kind == "animation":
            value = {
                **base,
                "width": 320,
                "height": 240,
                "duration": 3,
                "file_name": name or "animation.gif.mp4",
                "mime_type": "video/mp4",
            }
        elif kind == "audio":
            value = {
                **base,
                "duration": 60,
                "performer": "Test Artist",
                "title": "Test Track",
                "file_name": name or "track.mp3",
                "mime_type": "audio/mpeg",
            }
        elif kind == "voice":
            value = {**base, "duration": 3, "mime_type": "audio/ogg"}
        elif kind == "video_note":
            value = {**base, "length": 240, "duration": 4}
        elif kind == "sticker":
            value = {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "set_name": "TestStickers",
            }
        else:
            raise ValueError(f"unknown media kind {kind}")
        self._media[stored.file_id] = (kind, value)
        return copy.deepcopy(value)

    def photo(self, data: bytes = b"\x89PNG\r\n\x1a\nfake-photo") -> list[JSON]:
        """A PhotoSize list (small + large) backed by downloadable bytes."""
        return cast(
            list[JSON], self._build_media("photo", self._new_file("photos", data, extension="jpg"))
        )

    def document(
        self,
        file_name: str = "policy.pdf",
        data: bytes = b"%PDF-1.4 fake document",
        mime_type: str = "application/pdf",
    ) -> JSON:
        """A Document with a name, MIME type and downloadable bytes."""
        stored = self._new_file("documents", data, file_name=file_name, mime_type=mime_type)
        return cast(JSON, self._build_media("document", stored))

    def video(self, data: bytes = b"fake-mp4-video") -> JSON:
        """A Video object backed by downloadable bytes."""
        return cast(
            JSON, self._build_media("video", self._new_file("videos", data, extension="mp4"))
        )

    def animation(self, data: bytes = b"fake-gif-animation") -> JSON:
        """An Animation object (GIF as MP4) backed by downloadable bytes."""
        return cast(
            JSON,
            self._build_media("animation", self._new_file("animations", data, extension="mp4")),
        )

    def audio(self, data: bytes = b"fake-mp3-audio") -> JSON:
        """An Audio object backed by downloadable bytes."""
        return cast(
            JSON, self._build_media("audio", self._new_file("music", data, extension="mp3"))
        )

    def voice(self, data: bytes = b"OggS-fake-voice") -> JSON:
        """A Voice object backed by downloadable bytes."""
        return cast(
            JSON, self._build_media("voice", self._new_file("voice", data, extension="oga"))
        )

    def video_note(self, data: bytes = b"fake-video-note") -> JSON:
        """A VideoNote object backed by downloadable bytes."""
        return cast(
            JSON,
            self._build_media("video_note", self._new_file("video_notes", data, extension="mp4")),
        )

    def sticker(self, data: bytes = b"RIFF-fake-webp") -> JSON:
        """A regular Sticker backed by downloadable bytes."""
        return cast(
            JSON, self._build_media("sticker", self._new_file("stickers", data, extension="webp"))
        )

    def file_data(self, file_id: str) -> bytes:
        """Bytes behind a file_id (uploaded by the app or made by a factory)."""
        return self.files[file_id].data

    # ------------------------------------------------------------------ world internals

    def _group_of(self, chat_id: int | None) -> ForumGroup:
        """An operator group by chat id (None = the main one), for the test-side helpers."""
        group = self.groups.get(self.operator_chat_id if chat_id is None else chat_id)
        if group is None:
            raise KeyError(f"chat {chat_id} is not an operator group (see add_group)")
        return group

    def _chat_public(self, chat_id: int) -> JSON:
        chat = copy.deepcopy(self.chats[chat_id])
        group = self.groups.get(chat_id)
        if group is not None:
            chat["title"] = group.title
            if group.username:
                chat["username"] = group.username
            if group.is_forum:
                chat["is_forum"] = True
        return chat

    def _store(
        self,
        chat_id: int,
        sender: JSON | None,
        content: JSON,
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """Put a new message into a chat with the next message_id and Telegram's thread quirks."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        message: JSON = {"message_id": message_id}
        if sender is not None:
            message["from"] = copy.deepcopy(sender)
        message["chat"] = self._chat_public(chat_id)
        message["date"] = int(time.time())
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply_to is None and thread_id in self.messages[chat_id]:
                reply_to = self.messages[chat_id][thread_id]
        if reply_to is not None:
            replied = _public(reply_to)
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        message.update(copy.deepcopy(content))
        self._business_stamp(message)
        if "animation" in message and "document" not in message:
            dropped = ("width", "height", "duration")
            message["document"] = {
                k: v for k, v in message["animation"].items() if k not in dropped
            }
        self.messages[chat_id][message_id] = message
        self._changed()
        return message

    def _create_topic(
        self,
        group: ForumGroup,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
        creator: JSON,
    ) -> Topic:
        if not group.is_forum:
            raise ValueError(f"group {group.chat_id} is not a forum")
        thread_id = self._next_message_id.get(group.chat_id, 0) + 1
        topic = Topic(thread_id, name, icon_color, icon_custom_emoji_id)
        group.topics[thread_id] = topic
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        message = self._store(
            group.chat_id, creator, {"forum_topic_created": created}, thread_id=thread_id
        )
        assert message["message_id"] == thread_id
        return topic

    def _delete_topic(self, group: ForumGroup, thread_id: int) -> None:
        topic = group.topics.get(thread_id)
        if topic is None:
            raise KeyError(f"no topic {thread_id} in chat {group.chat_id}")
        topic.deleted = True
        stored = self.messages[group.chat_id]
        for message_id in [i for i, m in stored.items() if m.get("message_thread_id") == thread_id]:
            del stored[message_id]

    def _new_update(self, kind: str, payload: JSON) -> JSON:
        return {"update_id": next(self._update_ids), kind: payload}

    @staticmethod
    def _live_topic(group: ForumGroup, thread_id: int) -> Topic:
        topic = group.live_topic(thread_id)
        if topic is None:
            raise ValueError(
                f"topic {thread_id} of chat {group.chat_id} does not exist or was deleted"
            )
        return topic

    # ------------------------------------------------------------------ people act

    def customer_message(
        self,
        user: JSON,
        *,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        **content: Any,
    ) -> JSON:
        """The customer writes to the bot in private; returns the message Update."""
        chat_id = user["id"]
        replied = self.messages[chat_id][reply_to] if reply_to is not None else None
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        message = self._store(chat_id, self.users.get(chat_id, user), content, reply_to=replied)
        return self._new_update("message", _public(message))

    def operator_message(
        self,
        user: JSON,
        thread_id: int | None,
        *,
        group: int | None = None,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        **content: Any,
    ) -> JSON:
        """Someone writes in an operator group (None = the main one; thread_id None = General)."""
        forum = self._group_of(group)
        chat_id = forum.chat_id
        replied = self.messages[chat_id][reply_to] if reply_to is not None else None
        if thread_id is None and replied is not None:
            thread_id = replied.get("message_thread_id")
        if thread_id is not None:
            self._live_topic(forum, thread_id)
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        message = self._store(chat_id, user, content, thread_id=thread_id, reply_to=replied)
        return self._new_update("message", _public(message))

    def service_message(
        self, thread_id: int | None, *, group: int | None = None, **fields: Any
    ) -> JSON:
        """A service message in an operator group (None = the main one); topic events also
        change the topic state."""
        forum = self._group_of(group)
        sender = fields.pop("from", None) or fields.pop("from_user", None) or self.owner
        if thread_id is not None and thread_id in forum.topics:
            topic = forum.topics[thread_id]
            edited = fields.get("forum_topic_edited")
            if edited:
                topic.name = edited.get("name", topic.name)
                if "icon_custom_emoji_id" in edited:
                    topic.icon_custom_emoji_id = edited["icon_custom_emoji_id"] or None
            if "forum_topic_closed" in fields:
                topic.closed = True
            if "forum_topic_reopened" in fields:
                topic.closed = False
        message = self._store(forum.chat_id, sender, fields, thread_id=thread_id)
        return self._new_update("message", _public(message))

    def edit_message(self, chat_id: int, message_id: int, **changes: Any) -> JSON:
        """A person edits their message; returns the edited_message Update."""
        message = self.messages[chat_id][message_id]
        for main, entities in (("text", "entities"), ("caption", "caption_entities")):
            if main in changes and entities not in changes:
                message.pop(entities, None)
        message.update(copy.deepcopy(changes))
        message["edit_date"] = int(time.time())
        self._changed()
        return self._new_update("edited_message", _public(message))

    def callback_query(self, user: JSON, message: JSON, data: str) -> JSON:
        """A user presses an inline button on a stored message."""
        query_id = str(random.randint(10**17, 10**18))
        chat_id = message["chat"]["id"]
        current = self.messages.get(chat_id, {}).get(message["message_id"], message)
        query: JSON = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": _public(current),
            "chat_instance": str(abs(chat_id) * 7 + 13),
            "data": data,
        }
        self.callback_queries[query_id] = query
        return self._new_update("callback_query", copy.deepcopy(query))

    def member_update(self, user: JSON, *, blocked: bool) -> JSON:
        """The user blocks/unblocks the bot: my_chat_member update for their private chat."""
        self.block_bot(user["id"], blocked)
        member: JSON = {"status": "member", "user": copy.deepcopy(self.bot_user)}
        kicked: JSON = {"status": "kicked", "user": copy.deepcopy(self.bot_user), "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        payload: JSON = {
            "chat": self._chat_public(user["id"]),
            "from": copy.deepcopy(user),
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return self._new_update("my_chat_member", payload)

    def other_chat_message(self, user: JSON, chat_id: int, **content: Any) -> JSON:
        """A message in some other group the bot is in (the app should ignore it)."""
        if chat_id not in self.chats:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            self.chats[chat_id] = {"id": chat_id, "type": kind, "title": f"Other chat {chat_id}"}
            self.messages[chat_id] = {}
        message = self._store(chat_id, user, content)
        return self._new_update("message", _public(message))

    # ------------------------------------------------------------------ delivery

    async def deliver(self, update: JSON) -> int:
        """Webhook set: POST it there and return the status; else queue it for getUpdates.

        A method the app answers the webhook with (aiogram's reply-in-webhook) is executed and
        recorded like a normal call, as Telegram does.
        """
        if self.webhook["url"]:
            status, _ = await self.post_webhook(update, secret=self.webhook["secret_token"])
            return status
        self.pending_updates.append(copy.deepcopy(update))
        self._changed()
        return 200

    async def deliver_until_accepted(
        self,
        update: JSON,
        *,
        timeout: float = 60.0,  # noqa: ASYNC109 - the deadline is the point of this helper
    ) -> int:
        """Deliver like Telegram: retry the webhook until it accepts; return the attempts made.

        Telegram keeps an update the webhook did not take (a non-2xx answer, a connection
        error) and sends it again after a growing pause, before any later update, so calling
        this for each update in turn keeps their order.  The pause starts at
        ``REDELIVERY_FIRST_PAUSE`` and doubles up to ``REDELIVERY_MAX_PAUSE`` (Telegram's own
        schedule is slower; tests need not wait for it).  Past ``timeout`` it raises
        AssertionError with the last answer.  Without a webhook (or once it is deleted) the
        update is queued for getUpdates, as :meth:`deliver` does, and that counts as accepted.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pause = REDELIVERY_FIRST_PAUSE
        attempts = 0
        last = "no answer"
        while True:
            attempts += 1
            if not self.webhook["url"]:
                await self.deliver(update)
                return attempts
            try:
                status, _ = await asyncio.wait_for(
                    self.post_webhook(update, secret=self.webhook["secret_token"]),
                    max(0.0, deadline - loop.time()),
                )
            except (ClientError, TimeoutError) as exc:
                last = f"no HTTP answer: {exc!r}"
            else:
                if 200 <= status < 300:
                    return attempts
                last = f"HTTP {status}"
            remaining = deadline - loop.time()
            if remaining > 0:
                await self._pause(min(pause, remaining))
            if loop.time() >= deadline or self._closing:
                raise AssertionError(
                    f"the webhook did not accept update {update.get('update_id')} within "
                    f"{timeout}s ({attempts} attempts); last: {last}\n{self.dump_calls()}"
                )
            pause = min(pause * 2, REDELIVERY_MAX_PAUSE)

    async def post_webhook(self, update: JSON | bytes, *, secret: str | None) -> tuple[int, str]:
        """Raw POST to the registered webhook with a chosen secret header (None = no header)."""
        if not self.webhook["url"]:
            raise AssertionError("no webhook is set")
        if self._client is None:
            raise AssertionError("FakeTelegram is not started")
        body = update if isinstance(update, bytes) else _dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        reply: JSON = {}
        async with self._client.post(self.webhook["url"], data=body, headers=headers) as response:
            status = response.status
            if response.content_type.startswith("multipart/"):
                reader = MultipartReader.from_response(response)
                while (part := await reader.next()) is not None:
                    if isinstance(part, BodyPartReader) and part.name:
                        reply[part.name] = await part.text()
                text = _dumps(reply)
            else:
                text = await response.text()
                with contextlib.suppress(ValueError):
                    decoded = json.loads(text)
                    reply = decoded if isinstance(decoded, dict) else {}
        if status == 200 and isinstance(reply.get("method"), str):
            # Telegram executes a method the app returns in the webhook response.
            method = reply.pop("method")
            params = {key: _decode_value(key, value) for key, value in reply.items()}
            await self._dispatch(self.token, method, params, {})
        return status, text

    # ------------------------------------------------------------------ what each side sees

    def calls_to(self, method: str) -> list[JSON]:
        """Params of every call to ``method`` (case-insensitive), failed ones included."""
        return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def chat_messages(self, chat_id: int) -> list[JSON]:
        """Stored messages of a chat in message_id order."""
        return [self.messages[chat_id][i] for i in sorted(self.messages.get(chat_id, {}))]

    def topic_messages(self, thread_id: int, group: int | None = None) -> list[JSON]:
        """Messages of one topic of an operator group (None = the main one), without its
        forum_topic_created header."""
        return [
            m
            for m in self.chat_messages(self._group_of(group).chat_id)
            if m.get("message_thread_id") == thread_id and "forum_topic_created" not in m
        ]

    def sent_by_bot(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        """Non-service messages the bot put into a chat (optionally one topic)."""
        return [
            m
            for m in self.chat_messages(chat_id)
            if m.get("from", {}).get("id") == self.bot_id
            and any(key in m for key in PRIMARY_CONTENT)
            and (thread_id is None or m.get("message_thread_id") == thread_id)
        ]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """Current state of a stored message (edits applied, ``reactions`` the bot set)."""
        try:
            return self.messages[chat_id][message_id]
        except KeyError:
            raise KeyError(f"no message {message_id} in chat {chat_id}") from None

    # ------------------------------------------------------------------ request helpers

    def _chat_id(self, params: JSON, key: str = "chat_id") -> int:
        value = params.get(key)
        if value is None or value == "":
            raise bad("chat_id is empty")
        if isinstance(value, str):
            found = [c["id"] for c in self.chats.values() if c.get("username") == value.lstrip("@")]
            if not found:
                raise bad("chat not found")
            return int(found[0])
        if not isinstance(value, int) or value not in self.chats:
            raise bad("chat not found")
        return value

    def _writable_chat(self, params: JSON) -> int:
        chat_id = self._chat_id(params)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        group = self.groups.get(chat_id)
        if group is not None and group.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        if group is not None and group.bot_status == "kicked":
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        return chat_id

    def _thread(self, chat_id: int, params: JSON) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        group = self.groups.get(chat_id)
        if group is None or not group.is_forum:
            raise bad("message thread not found")
        topic = group.live_topic(int(thread_id))
        if topic is None:
            raise bad("message thread not found")
        if topic.closed and not group.bot_manages_topics():
            raise bad("TOPIC_CLOSED")
        return topic.thread_id

    def _reply(self, chat_id: int, thread_id: int | None, params: JSON) -> tuple[JSON | None, JSON]:
        """Resolve reply_parameters/reply_to_message_id; returns (replied, extra fields)."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not reply:
            return None, {}
        reply_chat = reply.get("chat_id", chat_id)
        if isinstance(reply_chat, str):
            reply_chat = self._chat_id({"chat_id": reply_chat})
        target = self.messages.get(reply_chat, {}).get(int(reply.get("message_id", 0)))
        same_chat = reply_chat == chat_id and thread_id is not None
        if target is not None and same_chat and target.get("message_thread_id") != thread_id:
            target = None
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None, {}
            raise bad("message to be replied not found")
        if reply_chat != chat_id:
            origin = self._origin(target)
            external: JSON = {
                "origin": origin,
                "chat": self._chat_public(reply_chat),
                "message_id": target["message_id"],
            }
            return None, {"external_reply": external}
        return target, {}

    def _origin(self, message: JSON) -> JSON:
        sender = message.get("from")
        if sender is not None:
            return {"type": "user", "date": message["date"], "sender_user": copy.deepcopy(sender)}
        return {
            "type": "chat",
            "date": message["date"],
            "sender_chat": copy.deepcopy(message["chat"]),
        }

    def _formatted(
        self,
        params: JSON,
        text_key: str,
        entities_key: str,
        limit: int,
        too_long: str,
        empty: str | None,
    ) -> JSON:
        """Text or caption with parse_mode/entities applied, limits enforced."""
        raw = params.get(text_key)
        if raw is None or raw == "":
            if empty is not None:
                raise bad(empty)
            return {}
        raw = str(raw)
        fields: JSON = {}
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            text, entities = parse_html(raw)
            fields["html"] = raw
        else:
            text, entities = raw, list(params.get(entities_key) or [])
        if not text.strip():
            if empty is not None:
                raise bad(empty)
            return {}
        if len(text) > limit:
            raise bad(too_long)
        fields[text_key] = text
        if entities:
            fields[entities_key] = entities
        if text_key == "caption" and params.get("show_caption_above_media"):
            fields["show_caption_above_media"] = True
        return fields

    def _text(self, params: JSON) -> JSON:
        return self._formatted(
            params, "text", "entities", TEXT_LIMIT, "message is too long", "message text is empty"
        )

    def _caption(self, params: JSON) -> JSON:
        return self._formatted(
            params,
            "caption",
            "caption_entities",
            CAPTION_LIMIT,
            "message caption is too long",
            None,
        )

    def _send(self, params: JSON, content: JSON, *, chat_id: int | None = None) -> JSON:
        """Common tail of every send*: checks chat/thread/reply, stores the bot's message."""
        if chat_id is None:
            chat_id = self._writable_chat(params)
        thread_id = self._thread(chat_id, params)
        replied, extra = self._reply(chat_id, thread_id, params)
        if replied is not None and thread_id is None and chat_id in self.groups:
            thread_id = replied.get("message_thread_id")
        content = {**content, **extra}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            content["reply_markup"] = markup
        if params.get("protect_content"):
            content["has_protected_content"] = True
        if params.get("link_preview_options") and "text" in content:
            content["link_preview_options"] = params["link_preview_options"]
        return self._store(chat_id, self.bot_user, content, thread_id=thread_id, reply_to=replied)

    def _resolve_media(self, kind: str, value: Any, files: dict[str, StoredFile]) -> Any:
        """file_id, HTTP URL or attach://upload -> the API media object of ``kind``."""
        if isinstance(value, str) and value.startswith("attach://"):
            stored = files.get(value.removeprefix("attach://"))
            if stored is None:
                raise bad(f"file {value} not found in the request")
            folder = {"photo": "photos", "document": "documents"}.get(kind, f"{kind}s")
            stored.file_path = re.sub(r"^[^/]+/", f"{folder}/", stored.file_path)
            return self._build_media(kind, stored)
        if isinstance(value, str) and re.match(r"https?://", value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or None
            stored = self._new_file(f"{kind}s", f"downloaded from {value}".encode(), file_name=name)
            return self._build_media(kind, stored)
        if isinstance(value, str) and value in self._media:
            known_kind, known = self._media[value]
            if known_kind == kind:
                return copy.deepcopy(known)
            if kind == "document" and known_kind != "photo":
                return {
                    k: v
                    for k, v in known.items()
                    if k in ("file_id", "file_unique_id", "file_size", "file_name", "mime_type")
                }
            raise bad(f"can't use file of type {known_kind.title()} as {kind.title()}")
        raise bad("wrong file identifier/HTTP URL specified")

    def _message_or(self, chat_id: int, message_id: Any, description: str) -> JSON:
        try:
            return self.messages[chat_id][int(message_id)]
        except (KeyError, TypeError, ValueError):
            raise bad(description) from None

    # ------------------------------------------------------------------ API: bot and chats

    def api_getMe(self, r: _Request) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": self.business_mode,
            "has_main_web_app": False,
        }

    def api_getChat(self, r: _Request) -> JSON:
        chat_id = self._chat_id(r.params)
        chat = self._chat_public(chat_id)
        group = self.groups.get(chat_id)
        if group is not None and group.join_by_request:
            chat["join_by_request"] = True
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return chat

    def _admin_rights(self, manage_topics: bool, delete_messages: bool = True) -> JSON:
        return {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": delete_messages,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_send_welcome_messages": False,
            "can_pin_messages": True,
            "can_manage_topics": manage_topics,
        }

    def _member(self, user: JSON, status: str, group: ForumGroup | None = None) -> JSON:
        if status == "administrator":
            if user["id"] == self.bot_id and group is not None:
                rights = self._admin_rights(
                    group.bot_can_manage_topics, group.bot_can_delete_messages
                )
            else:
                rights = self._admin_rights(True)
            return {"status": status, "user": user, **rights}
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def api_getChatMember(self, r: _Request) -> JSON:
        chat_id = self._chat_id(r.params)
        group = self.groups.get(chat_id)
        user_id = r.params.get("user_id")
        if user_id == self.bot_id:
            status = group.bot_status if group is not None else "member"
            return self._member(copy.deepcopy(self.bot_user), status, group)
        user = self.users.get(user_id) if isinstance(user_id, int) else None
        if user is None:
            raise bad("PARTICIPANT_ID_INVALID")
        if group is not None:
            status = group.member_status.get(user["id"], "member")
        elif chat_id == user["id"]:
            status = "member"
        else:
            status = "left"
        return self._member(copy.deepcopy(user), status)

    def api_getChatAdministrators(self, r: _Request) -> list[JSON]:
        group = self.groups.get(self._chat_id(r.params))
        if group is None:
            raise bad("there are no administrators in the private chat")
        admins = [self._member(copy.deepcopy(self.owner), "creator")]
        if group.bot_status in ("administrator", "creator"):
            admins.append(self._member(copy.deepcopy(self.bot_user), group.bot_status, group))
        for user_id, status in group.member_status.items():
            if status == "administrator":
                admins.append(self._member(copy.deepcopy(self.users[user_id]), status))
        return admins

    def api_setMyCommands(self, r: _Request) -> bool:
        scope = json.dumps(r.params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[scope + str(r.params.get("language_code") or "")] = list(
            r.params.get("commands") or []
        )
        return True

    def api_deleteMyCommands(self, r: _Request) -> bool:
        scope = json.dumps(r.params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands.pop(scope + str(r.params.get("language_code") or ""), None)
        return True

    def api_getMyCommands(self, r: _Request) -> list[JSON]:
        scope = json.dumps(r.params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get(scope + str(r.params.get("language_code") or ""), [])

    def api_sendChatAction(self, r: _Request) -> bool:
        chat_id = self._writable_chat(r.params)
        self._thread(chat_id, r.params)
        return True

    # ------------------------------------------------------------------ API: updates / webhook

    def _deliverable(self) -> list[JSON]:
        allowed = set(self.allowed_updates) or DEFAULT_ALLOWED_UPDATES
        self.pending_updates = [u for u in self.pending_updates if _update_kind(u) in allowed]
        return self.pending_updates

    async def api_getUpdates(self, r: _Request) -> list[JSON]:
        if self.webhook["url"]:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int(r.params.get("offset") or 0)
        limit = max(1, min(100, int(r.params.get("limit") or 100)))
        timeout = float(r.params.get("timeout") or 0)
        if "allowed_updates" in r.params:
            self.allowed_updates = list(r.params["allowed_updates"] or [])
        if offset > 0:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._event
            pending = self._deliverable()
            available = pending[offset:] if offset < 0 else pending
            remaining = deadline - loop.time()
            if available or self._closing or remaining <= 0:
                return copy.deepcopy(available[:limit])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def api_setWebhook(self, r: _Request) -> bool:
        url = str(r.params.get("url") or "")
        secret = r.params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise bad("secret token contains unallowed characters")
        if url and not re.match(r"https?://", url):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if r.params.get("drop_pending_updates"):
            self.pending_updates.clear()
        allowed = r.params.get("allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed)
        self.webhook = {
            "url": url,
            "secret_token": secret if url else None,
            "allowed_updates": allowed if url else None,
        }
        return True

    def api_deleteWebhook(self, r: _Request) -> bool:
        if r.params.get("drop_pending_updates"):
            self.pending_updates.clear()
        self.webhook = {"url": "", "secret_token": None, "allowed_updates": None}
        return True

    def api_getWebhookInfo(self, r: _Request) -> JSON:
        info: JSON = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }
        if self.webhook["url"]:
            info["max_connections"] = 40
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # ------------------------------------------------------------------ API: forum topics

    def _group_for_topics(self, params: JSON) -> ForumGroup:
        group = self.groups.get(self._chat_id(params))
        if group is None or not group.is_forum:
            raise bad("the chat is not a forum")
        return group

    def _topic_for_edit(self, params: JSON) -> tuple[ForumGroup, Topic]:
        group = self._group_for_topics(params)
        topic = group.live_topic(params.get("message_thread_id"))
        if topic is None:
            raise bad("TOPIC_ID_INVALID")
        if not group.bot_manages_topics():
            raise bad("CHAT_ADMIN_REQUIRED")
        return group, topic

    @staticmethod
    def _clean_topic_name(name: Any) -> str:
        cleaned = " ".join(str(name or "").split())[:TOPIC_NAME_LIMIT].strip()
        if not cleaned:
            raise bad("title must be non-empty")
        return cleaned

    def api_createForumTopic(self, r: _Request) -> JSON:
        group = self._group_for_topics(r.params)
        if not group.bot_manages_topics():
            raise bad("not enough rights to create a topic")
        name = self._clean_topic_name(r.params.get("name"))
        color = r.params.get("icon_color", TOPIC_COLORS[0])
        if color not in TOPIC_COLORS:
            raise bad("TOPIC_COLOR_INVALID")
        emoji = r.params.get("icon_custom_emoji_id") or None
        topic = self._create_topic(group, name, int(color), emoji, self.bot_user)
        return topic.as_api()

    def api_editForumTopic(self, r: _Request) -> bool:
        group, topic = self._topic_for_edit(r.params)
        edited: JSON = {}
        if r.params.get("name") not in (None, ""):
            name = self._clean_topic_name(r.params["name"])
            if name != topic.name:
                edited["name"] = name
        if "icon_custom_emoji_id" in r.params:
            emoji = r.params["icon_custom_emoji_id"] or None
            if emoji != topic.icon_custom_emoji_id:
                edited["icon_custom_emoji_id"] = emoji or ""
        if not edited:
            raise bad("TOPIC_NOT_MODIFIED")
        topic.name = edited.get("name", topic.name)
        if "icon_custom_emoji_id" in edited:
            topic.icon_custom_emoji_id = edited["icon_custom_emoji_id"] or None
        self._store(
            group.chat_id,
            self.bot_user,
            {"forum_topic_edited": edited},
            thread_id=topic.thread_id,
        )
        return True

    def api_closeForumTopic(self, r: _Request) -> bool:
        group, topic = self._topic_for_edit(r.params)
        if topic.closed:
            raise bad("TOPIC_NOT_MODIFIED")
        topic.closed = True
        self._store(
            group.chat_id,
            self.bot_user,
            {"forum_topic_closed": {}},
            thread_id=topic.thread_id,
        )
        return True

    def api_reopenForumTopic(self, r: _Request) -> bool:
        group, topic = self._topic_for_edit(r.params)
        if not topic.closed:
            raise bad("TOPIC_NOT_MODIFIED")
        topic.closed = False
        self._store(
            group.chat_id,
            self.bot_user,
            {"forum_topic_reopened": {}},
            thread_id=topic.thread_id,
        )
        return True

    def api_deleteForumTopic(self, r: _Request) -> bool:
        group, topic = self._topic_for_edit(r.params)
        if not group.bot_can_delete_messages:
            raise bad("CHAT_ADMIN_REQUIRED")
        self._delete_topic(group, topic.thread_id)
        return True

    def _general_for_edit(self, params: JSON) -> ForumGroup:
        group = self._group_for_topics(params)
        if not group.bot_manages_topics():
            raise bad("CHAT_ADMIN_REQUIRED")
        return group

    def api_editGeneralForumTopic(self, r: _Request) -> bool:
        group = self._general_for_edit(r.params)
        name = self._clean_topic_name(r.params.get("name"))
        if name == group.general_name:
            raise bad("TOPIC_NOT_MODIFIED")
        group.general_name = name
        self._store(group.chat_id, self.bot_user, {"forum_topic_edited": {"name": name}})
        return True

    def _set_general_closed(self, params: JSON, closed: bool) -> bool:
        group = self._general_for_edit(params)
        if group.general_closed == closed:
            raise bad("TOPIC_NOT_MODIFIED")
        group.general_closed = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._store(group.chat_id, self.bot_user, {event: {}})
        return True

    def api_closeGeneralForumTopic(self, r: _Request) -> bool:
        return self._set_general_closed(r.params, True)

    def api_reopenGeneralForumTopic(self, r: _Request) -> bool:
        return self._set_general_closed(r.params, False)

    def api_getForumTopicIconStickers(self, r: _Request) -> list[JSON]:
        icons = [
            ("📰", "5434144690511290129"),
            ("💡", "5312536423851630001"),
            ("⚡️", "5312016608254762256"),
            ("❓", "5377316857231450742"),
        ]
        return [
            {
                "file_id": f"CAACAgIAAxUAAWTopicIcon{n}",
                "file_unique_id": f"AgADTopicIcon{n}",
                "type": "custom_emoji",
                "width": 512,
                "height": 512,
                "is_animated": True,
                "is_video": False,
                "emoji": emoji,
                "set_name": "Topics",
                "custom_emoji_id": emoji_id,
            }
            for n, (emoji, emoji_id) in enumerate(icons)
        ]

    # ------------------------------------------------------------------ API: sending

    def api_sendMessage(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        content = self._text(r.params)
        return _public(self._send(r.params, content, chat_id=chat_id))

    def _send_media(self, r: _Request, kind: str) -> JSON:
        chat_id = self._writable_chat(r.params)
        if r.params.get(kind) in (None, ""):
            raise bad(f"there is no {kind} in the request")
        caption = self._caption(r.params) if kind not in ("sticker", "video_note") else {}
        media = self._resolve_media(kind, r.params[kind], r.files)
        content: JSON = {kind: media, **caption}
        if r.params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        return _public(self._send(r.params, content, chat_id=chat_id))

    def api_sendPhoto(self, r: _Request) -> JSON:
        return self._send_media(r, "photo")

    def api_sendVideo(self, r: _Request) -> JSON:
        return self._send_media(r, "video")

    def api_sendAnimation(self, r: _Request) -> JSON:
        return self._send_media(r, "animation")

    def api_sendDocument(self, r: _Request) -> JSON:
        return self._send_media(r, "document")

    def api_sendAudio(self, r: _Request) -> JSON:
        return self._send_media(r, "audio")

    def api_sendVoice(self, r: _Request) -> JSON:
        return self._send_media(r, "voice")

    def api_sendVideoNote(self, r: _Request) -> JSON:
        return self._send_media(r, "video_note")

    def api_sendSticker(self, r: _Request) -> JSON:
        return self._send_media(r, "sticker")

    def api_sendMediaGroup(self, r: _Request) -> list[JSON]:
        chat_id = self._writable_chat(r.params)
        items = r.params.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise bad("wrong number of media in the media group")  # real: 2..10 items
        self._thread(chat_id, r.params)
        self._reply(chat_id, self._thread(chat_id, r.params), r.params)
        group_id = str(random.randint(10**17, 10**18))
        contents: list[JSON] = []
        for item in items:
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise bad("invalid media type in the media group")
            merged = {**r.params, **item}
            caption = self._caption(merged)
            contents.append(
                {
                    kind: self._resolve_media(kind, item.get("media"), r.files),
                    **caption,
                    "media_group_id": group_id,
                }
            )
        sent = [self._send(r.params, content, chat_id=chat_id) for content in contents]
        return [_public(m) for m in sent]

    def api_sendLocation(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        location: JSON = {
            "latitude": float(r.params["latitude"]),
            "longitude": float(r.params["longitude"]),
        }
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if key in r.params:
                location[key] = r.params[key]
        return _public(self._send(r.params, {"location": location}, chat_id=chat_id))

    def api_sendVenue(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        location = {
            "latitude": float(r.params["latitude"]),
            "longitude": float(r.params["longitude"]),
        }
        venue: JSON = {
            "location": location,
            "title": str(r.params.get("title", "")),
            "address": str(r.params.get("address", "")),
        }
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if key in r.params:
                venue[key] = r.params[key]
        content = {"venue": venue, "location": location}
        return _public(self._send(r.params, content, chat_id=chat_id))

    def api_sendContact(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        contact: JSON = {
            "phone_number": str(r.params.get("phone_number", "")),
            "first_name": str(r.params.get("first_name", "")),
        }
        for key in ("last_name", "vcard"):
            if key in r.params:
                contact[key] = str(r.params[key])
        return _public(self._send(r.params, {"contact": contact}, chat_id=chat_id))

    def _new_poll(self, question: str, options: list[Any], params: JSON) -> JSON:
        texts = [o if isinstance(o, str) else o.get("text", "") for o in options]
        poll: JSON = {
            "id": str(random.randint(10**17, 10**18)),
            "question": question,
            "options": [
                {"persistent_id": f"opt{i}", "text": t, "voter_count": 0}
                for i, t in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed", False)),
            "is_anonymous": bool(params.get("is_anonymous", True)),
            "type": str(params.get("type") or "regular"),
            "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
            "allows_revoting": True,
            "members_only": False,
        }
        if params.get("correct_option_id") is not None:
            poll["correct_option_id"] = params["correct_option_id"]
        return poll

    def api_sendPoll(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        options = r.params.get("options") or []
        if not 2 <= len(options) <= 12:
            raise bad("poll must have at least 2 option")
        poll = self._new_poll(str(r.params.get("question", "")), options, r.params)
        return _public(self._send(r.params, {"poll": poll}, chat_id=chat_id))

    def api_sendDice(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        emoji = str(r.params.get("emoji") or "🎲")
        dice = {"emoji": emoji, "value": random.randint(1, 6)}
        return _public(self._send(r.params, {"dice": dice}, chat_id=chat_id))

    # ------------------------------------------------------------------ API: copy / forward

    def _copy_content(self, source: JSON, params: JSON, *, keep_caption: bool = True) -> JSON:
        if not any(key in source for key in PRIMARY_CONTENT):
            raise bad("message can't be copied")
        content: JSON = {k: copy.deepcopy(source[k]) for k in CONTENT_KEYS if k in source}
        if "html" in source:
            content["html"] = source["html"]
        if "poll" in content:
            poll = content["poll"]
            content["poll"] = self._new_poll(poll["question"], poll["options"], poll)
        if "caption" in params and "text" not in source:
            content.pop("caption_entities", None)
            content.pop("html", None)
            content.update(self._caption(params))
        elif not keep_caption:
            for key in ("caption", "caption_entities", "html"):
                content.pop(key, None)
        return content

    def api_copyMessage(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        from_chat = self._chat_id(r.params, "from_chat_id")
        source = self._message_or(
            from_chat, r.params.get("message_id"), "message to copy not found"
        )
        content = self._copy_content(source, r.params)
        sent = self._send(r.params, content, chat_id=chat_id)
        return {"message_id": sent["message_id"]}

    def api_copyMessages(self, r: _Request) -> list[JSON]:
        chat_id = self._writable_chat(r.params)
        from_chat = self._chat_id(r.params, "from_chat_id")
        ids = r.params.get("message_ids") or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message identifiers are not specified")
        if ids != sorted(set(ids)):
            raise bad("message identifiers must be in a strictly increasing order")
        self._thread(chat_id, r.params)
        sources = [self.messages[from_chat][i] for i in ids if i in self.messages[from_chat]]
        sources = [s for s in sources if any(key in s for key in PRIMARY_CONTENT)]
        if not sources:
            raise bad("there are no messages to copy")
        new_groups: dict[str, str] = {}
        result: list[JSON] = []
        for source in sources:
            content = self._copy_content(
                source, {}, keep_caption=not r.params.get("remove_caption")
            )
            if "media_group_id" in source:
                content["media_group_id"] = new_groups.setdefault(
                    source["media_group_id"], str(random.randint(10**17, 10**18))
                )
            params = {k: v for k, v in r.params.items() if k != "reply_markup"}
            sent = self._send(params, content, chat_id=chat_id)
            result.append({"message_id": sent["message_id"]})
        return result

    def api_forwardMessage(self, r: _Request) -> JSON:
        chat_id = self._writable_chat(r.params)
        from_chat = self._chat_id(r.params, "from_chat_id")
        source = self._message_or(
            from_chat, r.params.get("message_id"), "message to forward not found"
        )
        if not any(key in source for key in PRIMARY_CONTENT):
            raise bad("message can't be forwarded")
        content: JSON = {k: copy.deepcopy(source[k]) for k in CONTENT_KEYS if k in source}
        origin = copy.deepcopy(source.get("forward_origin")) or self._origin(source)
        content["forward_origin"] = origin
        dropped = ("reply_parameters", "reply_markup")
        params = {k: v for k, v in r.params.items() if k not in dropped}
        return _public(self._send(params, content, chat_id=chat_id))

    # ------------------------------------------------------------------ API: editing

    def _editable(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad("message to edit not found")
        chat_id = self._chat_id(params)
        message = self._message_or(chat_id, params.get("message_id"), "message to edit not found")
        if not self._sent_by_this_bot(message):
            raise bad("message can't be edited")
        return message

    @staticmethod
    def _markup_of(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None

    def _apply_edit(self, message: JSON, changes: JSON, markup: JSON | None) -> JSON:
        keys = ("text", "entities", "caption", "caption_entities")
        before = {k: message.get(k) for k in keys}
        after = dict(before)
        for main, entities in (("text", "entities"), ("caption", "caption_entities")):
            if main in changes:
                after[main], after[entities] = changes[main], changes.get(entities)
        if before == after and message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        for key in keys:
            if after[key] is None:
                message.pop(key, None)
            else:
                message[key] = after[key]
        if "html" in changes:
            message["html"] = changes["html"]
        elif "text" in changes or "caption" in changes:
            message.pop("html", None)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self._changed()
        return _public(message)

    def api_editMessageText(self, r: _Request) -> JSON:
        message = self._editable(r.params)
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        changes = self._formatted(
            r.params, "text", "entities", TEXT_LIMIT, "MESSAGE_TOO_LONG", "message text is empty"
        )
        return self._apply_edit(message, changes, self._markup_of(r.params))

    def api_editMessageCaption(self, r: _Request) -> JSON:
        message = self._editable(r.params)
        if not any(kind in message for kind in MEDIA_KINDS):
            raise bad("there is no caption in the message to edit")
        changes = self._formatted(
            r.params, "caption", "caption_entities", CAPTION_LIMIT, "MESSAGE_TOO_LONG", None
        )
        changes.setdefault("caption", None)
        return self._apply_edit(message, changes, self._markup_of(r.params))

    def api_editMessageReplyMarkup(self, r: _Request) -> JSON:
        message = self._editable(r.params)
        return self._apply_edit(message, {}, self._markup_of(r.params))

    def api_deleteMessage(self, r: _Request) -> bool:
        chat_id = self._chat_id(r.params)
        message = self._message_or(
            chat_id, r.params.get("message_id"), "message to delete not found"
        )
        if "forum_topic_created" in message:
            raise bad("message can't be deleted")
        del self.messages[chat_id][message["message_id"]]
        return True

    def api_deleteMessages(self, r: _Request) -> bool:
        chat_id = self._chat_id(r.params)
        for message_id in r.params.get("message_ids") or []:
            self.messages[chat_id].pop(int(message_id), None)
        return True

    def api_setMessageReaction(self, r: _Request) -> bool:
        chat_id = self._chat_id(r.params)
        message = self._message_or(chat_id, r.params.get("message_id"), "MESSAGE_ID_INVALID")
        reactions = r.params.get("reaction") or []
        emoji: list[str] = []
        for reaction in reactions:
            if reaction.get("type") != "emoji" or reaction.get("emoji") not in STANDARD_REACTIONS:
                raise bad("REACTION_INVALID")
            emoji.append(reaction["emoji"])
        if len(emoji) > 1:
            raise bad("REACTIONS_TOO_MANY")
        message["reactions"] = emoji
        return True

    def _pinnable_chat(self, params: JSON) -> int:
        chat_id = self._writable_chat(params)
        group = self.groups.get(chat_id)
        if group is not None and group.bot_status not in ("administrator", "creator"):
            raise bad("not enough rights to manage pinned messages in the chat")
        return chat_id

    def api_pinChatMessage(self, r: _Request) -> bool:
        chat_id = self._pinnable_chat(r.params)
        message = self._message_or(chat_id, r.params.get("message_id"), "message to pin not found")
        pins = self.pinned.setdefault(chat_id, [])
        if message["message_id"] in pins:
            pins.remove(message["message_id"])
        pins.append(message["message_id"])
        # Telegram announces a pin with a service message next to the pinned one.
        pinned = _public(message)
        pinned.pop("reply_to_message", None)
        thread_id = message.get("message_thread_id")
        self._store(chat_id, self.bot_user, {"pinned_message": pinned}, thread_id=thread_id)
        return True

    def api_unpinChatMessage(self, r: _Request) -> bool:
        chat_id = self._pinnable_chat(r.params)
        pins = self.pinned.setdefault(chat_id, [])
        if r.params.get("message_id") is None:  # the most recent pin, if any
            if pins:
                pins.pop()
            return True
        message = self._message_or(
            chat_id, r.params.get("message_id"), "message to unpin not found"
        )
        if message["message_id"] in pins:
            pins.remove(message["message_id"])
        return True

    def api_unpinAllForumTopicMessages(self, r: _Request) -> bool:
        group = self._group_for_topics(r.params)
        chat_id = self._pinnable_chat(r.params)
        topic = group.live_topic(r.params.get("message_thread_id"))
        if topic is None:
            raise bad("TOPIC_ID_INVALID")
        stored = self.messages[chat_id]
        self.pinned[chat_id] = [
            i
            for i in self.pinned.get(chat_id, [])
            if i not in stored or stored[i].get("message_thread_id") != topic.thread_id
        ]
        return True

    def api_editMessageMedia(self, r: _Request) -> JSON:
        message = self._editable(r.params)
        editable_kinds = ("photo", "video", "animation", "document", "audio")
        if not any(kind in message for kind in editable_kinds):
            raise bad("there is no media in the message to edit")
        media = r.params.get("media")
        kind = media.get("type") if isinstance(media, dict) else None
        if not isinstance(media, dict) or kind not in editable_kinds:
            raise bad("can't parse InputMedia: unsupported media type")
        resolved = self._resolve_media(str(kind), media.get("media"), r.files)
        caption = self._caption(media)
        for key in (*MEDIA_KINDS, "caption", "caption_entities", "html", "has_media_spoiler"):
            message.pop(key, None)
        message.update({kind: resolved, **copy.deepcopy(caption)})
        if kind == "animation":  # as _store: an animation is also a document
            dropped = ("width", "height", "duration")
            message["document"] = {k: v for k, v in resolved.items() if k not in dropped}
        markup = self._markup_of(r.params)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self._changed()
        return _public(message)

    def _live_location(self, params: JSON) -> JSON:
        message = self._editable(params)
        if "live_period" not in message.get("location", {}):
            raise bad("message can't be edited")  # not live, or already stopped
        return message

    def api_editMessageLiveLocation(self, r: _Request) -> JSON:
        message = self._live_location(r.params)
        location = dict(message["location"])
        location["latitude"] = float(r.params["latitude"])
        location["longitude"] = float(r.params["longitude"])
        for key in ("horizontal_accuracy", "heading", "proximity_alert_radius", "live_period"):
            if key in r.params:
                location[key] = r.params[key]
        if location == message["location"]:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        message["location"] = location
        message["edit_date"] = int(time.time())
        self._changed()
        return _public(message)

    def api_stopMessageLiveLocation(self, r: _Request) -> JSON:
        message = self._live_location(r.params)
        # a stopped live location is an ordinary one: no live_period, no more edits
        message["location"] = {
            k: v
            for k, v in message["location"].items()
            if k not in ("live_period", "heading", "proximity_alert_radius")
        }
        message["edit_date"] = int(time.time())
        self._changed()
        return _public(message)

    def api_stopPoll(self, r: _Request) -> JSON:
        chat_id = self._chat_id(r.params)
        description = "message with poll to stop not found"
        message = self._message_or(chat_id, r.params.get("message_id"), description)
        if "poll" not in message:
            raise bad(description)
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad("message can't be edited")
        if message["poll"]["is_closed"]:
            raise bad("poll has already been closed")
        message["poll"]["is_closed"] = True
        markup = self._markup_of(r.params)
        if markup is not None:
            message["reply_markup"] = markup
        self._changed()
        return copy.deepcopy(message["poll"])

    def api_answerCallbackQuery(self, r: _Request) -> bool:
        query_id = str(r.params.get("callback_query_id") or "")
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if len(str(r.params.get("text") or "")) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(r.params)
        return True

    def api_getFile(self, r: _Request) -> JSON:
        stored = self.files.get(str(r.params.get("file_id") or ""))
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise bad("file is too big")
        return stored.as_api()
