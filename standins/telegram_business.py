"""Telegram Business in the fake Bot API: connected accounts, their chats, the bot's replies.

A person with Telegram Premium (the account *owner*) connects the bot to their account; from
then on the bot gets what customers write to that account (``business_message``, edits,
deletions) and may answer in those chats on the owner's behalf by passing
``business_connection_id`` to the send and edit methods.  A message sent that way belongs to
the account: its ``from`` is the owner and ``sender_business_bot`` names the bot.

Each connection (:class:`BusinessConnection`) keeps its own chats (:class:`BusinessChat`), apart
from the bot's private chats with the same people: the customer sees the account's chat, not the
bot's.  Message ids come from one sequence per connection (a user account numbers its private
chats' messages in one sequence, which is why ``deleteBusinessMessages`` names no chat); it starts
high, as on an account with a history, so a business message id is no id in the bot's chat.

The API methods reuse the ordinary handlers of :class:`standins.telegram.FakeTelegram`: a call
with ``business_connection_id`` is checked here (connection, rights, the 24-hour rule), then the
handler runs with the connection's chat in place of the bot's chat with that person
(:meth:`BusinessMixin._business_scope`), so text, media, albums, replies, markup, limits and
flood accounting behave exactly as in a private chat.  Errors, in the order Telegram checks them:
an unknown or disabled connection is 400 ``BUSINESS_CONNECTION_INVALID``; a connection without
the right to reply (or to read, for ``readBusinessMessage``; to delete, for
``deleteBusinessMessages``) is 403 ``BOT_ACCESS_FORBIDDEN``; a chat whose customer has not
written through the connection within the last 24 hours on the fake clock is 400
``BUSINESS_PEER_USAGE_MISSING`` (sends and reads; edits of sent messages are not bound by it).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from standins.telegram import FakeTelegram, _Request

JSON = dict[str, Any]

# A customer's message lets the bot write in that chat for this long (Bot API: "chats that were
# active in the last 24 hours").
PEER_ACTIVE_SECONDS = 24 * 3600
# Where a connection's message ids start: an account has a history, the bot's chats do not.
FIRST_MESSAGE_ID = 10_000

CONNECTION_INVALID = "Bad Request: BUSINESS_CONNECTION_INVALID"
ACCESS_FORBIDDEN = "Forbidden: BOT_ACCESS_FORBIDDEN"
PEER_USAGE_MISSING = "Bad Request: BUSINESS_PEER_USAGE_MISSING"

BUSINESS_UPDATES = (
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
)
# Methods that post into a business chat when given business_connection_id (24-hour rule).
BUSINESS_SEND_METHODS = frozenset(
    method.lower()
    for method in (
        "sendMessage",
        "sendPhoto",
        "sendVideo",
        "sendAnimation",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "sendChatAction",
    )
)
# Methods that change a message the bot sent there (no 24-hour rule).
BUSINESS_EDIT_METHODS = frozenset(
    method.lower()
    for method in (
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
    )
)
# BusinessBotRights, in the Bot API's order; the fake honours the first four.
RIGHTS = (
    "can_reply",
    "can_read_messages",
    "can_delete_sent_messages",
    "can_delete_all_messages",
    "can_edit_name",
    "can_edit_bio",
    "can_edit_profile_photo",
    "can_edit_username",
    "can_change_gift_settings",
    "can_view_gifts_and_stars",
    "can_convert_gifts_to_stars",
    "can_transfer_and_upgrade_gifts",
    "can_transfer_stars",
    "can_manage_stories",
)


def _api_error(error_code: int, description: str) -> Exception:
    """The fake's ApiError (imported late: standins.telegram imports this module)."""
    from standins.telegram import ApiError

    return ApiError(error_code, description)


def _public(message: JSON) -> JSON:
    from standins.telegram import _public as public

    return public(message)


def new_connection_id() -> str:
    """An opaque url-safe id like Telegram's (22 characters)."""
    return base64.urlsafe_b64encode(random.randbytes(16)).decode().rstrip("=")


@dataclass
class BusinessChat:
    """A connected account's private chat with one person (chat id = that person's user id)."""

    user_id: int
    messages: dict[int, JSON] = field(default_factory=dict)
    # the fake clock's reading when the customer last wrote here (None: never)
    last_incoming: float | None = None
    # the highest message id the bot marked as read (readBusinessMessage)
    last_read: int | None = None


@dataclass
class BusinessConnection:
    """The bot's connection to one business account, its rights and chats."""

    connection_id: str
    owner: JSON
    date: int
    enabled: bool = True
    rights: dict[str, bool] = field(default_factory=dict)
    chats: dict[int, BusinessChat] = field(default_factory=dict)
    last_message_id: int = FIRST_MESSAGE_ID

    def can(self, right: str) -> bool:
        return bool(self.rights.get(right))

    def as_api(self) -> JSON:
        """The BusinessConnection object (false rights left out, as Telegram leaves them)."""
        return {
            "id": self.connection_id,
            "user": copy.deepcopy(self.owner),
            "user_chat_id": self.owner["id"],
            "date": self.date,
            "is_enabled": self.enabled,
            "can_reply": self.can("can_reply"),
            "rights": {right: True for right in RIGHTS if self.can(right)},
        }


class BusinessMixin:
    """The business side of :class:`standins.telegram.FakeTelegram` (which inherits it)."""

    business_connections: dict[str, BusinessConnection]
    # getMe's can_connect_to_business: Business Mode is on in BotFather (connect_business sets it)
    business_mode: bool
    _business_current: tuple[BusinessConnection, BusinessChat] | None

    def _init_business(self) -> None:
        self.business_connections = {}
        self.business_mode = False
        self._business_current = None

    def _fake(self) -> FakeTelegram:
        return cast("FakeTelegram", self)

    # ------------------------------------------------------------------ world helpers

    def _known_user(self, user: JSON) -> JSON:
        """The stored user for ``user``; one made elsewhere gets a user and private chat here."""
        fake = self._fake()
        known = fake.users.get(user["id"])
        if known is not None:
            return known
        fake.users[user["id"]] = copy.deepcopy(user)
        chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        fake.chats[user["id"]] = chat
        fake.messages.setdefault(user["id"], {})
        return fake.users[user["id"]]

    def _connection(self, connection_id: str) -> BusinessConnection:
        connection = self.business_connections.get(connection_id)
        if connection is None:
            raise KeyError(f"no business connection {connection_id!r} (see connect_business)")
        return connection

    def _business_chat_of(self, connection_id: str, user: JSON) -> BusinessChat:
        connection = self._connection(connection_id)
        customer = self._known_user(user)
        return connection.chats.setdefault(customer["id"], BusinessChat(customer["id"]))

    @contextlib.contextmanager
    def _business_scope(self, connection: BusinessConnection, chat: BusinessChat) -> Iterator[None]:
        """Run the fake's chat code on a business chat: while inside, the person's chat is the
        connection's (its messages and id sequence), no other chat is visible, and a message
        stored there is stamped with the connection (:meth:`_business_stamp`).

        Only synchronous code runs inside, so no other request sees the swap.
        """
        fake = self._fake()
        saved = (fake.messages, fake._next_message_id, fake.blocked)
        fake.messages = {chat.user_id: chat.messages}
        fake._next_message_id = {chat.user_id: connection.last_message_id}
        fake.blocked = set()  # blocking the bot does not block the account
        self._business_current = (connection, chat)
        try:
            yield
        finally:
            connection.last_message_id = fake._next_message_id[chat.user_id]
            fake.messages, fake._next_message_id, fake.blocked = saved
            self._business_current = None

    def _business_stamp(self, message: JSON) -> None:
        """Hook of FakeTelegram._store: a message stored in a business chat carries the
        connection id; one the bot sends there is the owner's, sent by the bot."""
        if self._business_current is None:
            return
        fake = self._fake()
        connection, _ = self._business_current
        message["business_connection_id"] = connection.connection_id
        if message.get("from", {}).get("id") == fake.bot_id:
            message["from"] = copy.deepcopy(connection.owner)
            message["sender_business_bot"] = copy.deepcopy(fake.bot_user)

    def _sent_by_this_bot(self, message: JSON) -> bool:
        """Whether the bot wrote ``message`` (itself, or on a business account's behalf)."""
        sender = message.get("sender_business_bot") or message.get("from") or {}
        return bool(sender.get("id") == self._fake().bot_id)

    # ------------------------------------------------------------------ connections

    def connect_business(
        self,
        owner: JSON | None = None,
        *,
        connection_id: str | None = None,
        can_reply: bool = True,
        can_read: bool = True,
        enabled: bool = True,
        can_delete_sent: bool | None = None,
        can_delete_all: bool = False,
    ) -> tuple[str, JSON]:
        """The owner connects the bot to their business account: (connection id, the
        ``business_connection`` Update).

        ``owner`` None creates "Olena" (@insure_ua); a user made elsewhere is registered.
        Rights: ``can_reply`` (send and edit), ``can_read`` (can_read_messages),
        ``can_delete_sent`` (delete the bot's messages; None = as ``can_reply``),
        ``can_delete_all`` (delete any message).  Turns on :attr:`business_mode`.
        """
        fake = self._fake()
        user = (
            fake.add_user("Olena", username="insure_ua")
            if owner is None
            else self._known_user(owner)
        )
        connection_id = connection_id or new_connection_id()
        if connection_id in self.business_connections:
            raise ValueError(f"business connection {connection_id!r} already exists")
        connection = BusinessConnection(connection_id, copy.deepcopy(user), int(time.time()))
        self.business_connections[connection_id] = connection
        self.business_mode = True
        update = self.change_business(
            connection_id,
            enabled=enabled,
            can_reply=can_reply,
            can_read=can_read,
            can_delete_sent=can_reply if can_delete_sent is None else can_delete_sent,
            can_delete_all=can_delete_all,
        )
        return connection_id, update

    def change_business(
        self,
        connection_id: str,
        *,
        enabled: bool | None = None,
        can_reply: bool | None = None,
        can_read: bool | None = None,
        can_delete_sent: bool | None = None,
        can_delete_all: bool | None = None,
    ) -> JSON:
        """The owner changes the connection (None = unchanged; ``enabled=False`` is how
        Telegram tells the bot it was disconnected): the ``business_connection`` Update."""
        fake = self._fake()
        connection = self._connection(connection_id)
        if enabled is not None:
            connection.enabled = enabled
        changes = {
            "can_reply": can_reply,
            "can_read_messages": can_read,
            "can_delete_sent_messages": can_delete_sent,
            "can_delete_all_messages": can_delete_all,
        }
        for right, value in changes.items():
            if value is not None:
                connection.rights[right] = value
        fake._changed()
        return fake._new_update("business_connection", connection.as_api())

    # ------------------------------------------------------------------ people act

    def _business_store(
        self,
        connection_id: str,
        user: JSON,
        sender: JSON,
        content: JSON,
        reply_to: int | None,
        media_group_id: str | None,
    ) -> tuple[BusinessChat, JSON]:
        fake = self._fake()
        connection = self._connection(connection_id)
        chat = self._business_chat_of(connection_id, user)
        replied = chat.messages[reply_to] if reply_to is not None else None
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        with self._business_scope(connection, chat):
            message = fake._store(chat.user_id, sender, content, reply_to=replied)
        return chat, message

    def business_message(
        self,
        connection_id: str,
        user: JSON,
        *,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        **content: Any,
    ) -> JSON:
        """A customer writes to the business account (content as in ``customer_message``):
        the ``business_message`` Update.  The bot may answer there for 24 hours from now on
        the fake clock."""
        sender = self._known_user(user)
        chat, message = self._business_store(
            connection_id, user, sender, content, reply_to, media_group_id
        )
        chat.last_incoming = self._fake()._now()
        return self._fake()._new_update("business_message", _public(message))

    def owner_message(
        self,
        connection_id: str,
        user: JSON,
        *,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        **content: Any,
    ) -> JSON:
        """The owner writes by hand (from their phone) in the chat with ``user``: the
        ``business_message`` Update, ``from`` the owner (it does not open the 24 hours)."""
        owner = self._connection(connection_id).owner
        _, message = self._business_store(
            connection_id, user, owner, content, reply_to, media_group_id
        )
        return self._fake()._new_update("business_message", _public(message))

    def business_edit(
        self, connection_id: str, user: JSON, message_id: int, **changes: Any
    ) -> JSON:
        """Someone edits a message of the chat with ``user``: ``edited_business_message``."""
        fake = self._fake()
        message = self._business_chat_of(connection_id, user).messages[message_id]
        for main, entities in (("text", "entities"), ("caption", "caption_entities")):
            if main in changes and entities not in changes:
                message.pop(entities, None)
        message.update(copy.deepcopy(changes))
        message["edit_date"] = int(time.time())
        fake._changed()
        return fake._new_update("edited_business_message", _public(message))

    def business_delete(self, connection_id: str, user: JSON, message_ids: Iterable[int]) -> JSON:
        """Messages of the chat with ``user`` are deleted (by the customer or the owner):
        the ``deleted_business_messages`` Update."""
        fake = self._fake()
        chat = self._business_chat_of(connection_id, user)
        ids = list(message_ids)
        for message_id in ids:
            chat.messages.pop(message_id, None)
        fake._changed()
        payload: JSON = {
            "business_connection_id": connection_id,
            "chat": fake._chat_public(chat.user_id),
            "message_ids": ids,
        }
        return fake._new_update("deleted_business_messages", payload)

    def business_press(self, connection_id: str, user: JSON, message_id: int, data: str) -> JSON:
        """The customer presses an inline button of a message in the account's chat with them
        (one the bot sent on the account's behalf): the ``callback_query`` Update."""
        fake = self._fake()
        connection = self._connection(connection_id)
        chat = self._business_chat_of(connection_id, user)
        message = chat.messages[message_id]
        with self._business_scope(connection, chat):
            return fake.callback_query(self._known_user(user), message, data)

    # ------------------------------------------------------------------ what tests read

    def business_chat(self, connection_id: str, user_id: int) -> list[JSON]:
        """Every message of the account's chat with ``user_id`` (the customer's, the owner's
        and the bot's), in order."""
        chat = self._connection(connection_id).chats.get(user_id)
        if chat is None:
            return []
        return [chat.messages[i] for i in sorted(chat.messages)]

    def business_read(self, connection_id: str, user_id: int) -> int | None:
        """The highest message id the bot marked as read in that chat (None: none)."""
        chat = self._connection(connection_id).chats.get(user_id)
        return None if chat is None else chat.last_read

    # ------------------------------------------------------------------ API

    def _usable_connection(self, params: JSON) -> BusinessConnection:
        connection = self.business_connections.get(str(params.get("business_connection_id")))
        if connection is None or not connection.enabled:
            raise _api_error(400, CONNECTION_INVALID)
        return connection

    def _chat_key(self, params: JSON) -> int | None:
        """The user id chat_id names (an id or a @username), None if it names nobody."""
        value = params.get("chat_id")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            name = value.lstrip("@")
            for chat in self._fake().chats.values():
                if chat.get("type") == "private" and chat.get("username") == name:
                    return int(chat["id"])
        return None

    def _require(self, connection: BusinessConnection, right: str) -> None:
        if not connection.can(right):
            raise _api_error(403, ACCESS_FORBIDDEN)

    def _active_chat(self, connection: BusinessConnection, params: JSON) -> BusinessChat:
        """The chat named by chat_id, if its customer wrote within the last 24 hours."""
        fake = self._fake()
        chat_id = self._chat_key(params)
        chat = connection.chats.get(chat_id) if chat_id is not None else None
        if (
            chat is None
            or chat.last_incoming is None
            or fake._now() - chat.last_incoming >= PEER_ACTIVE_SECONDS
        ):
            raise _api_error(400, PEER_USAGE_MISSING)
        return chat

    def _business_route(
        self, method: str, params: JSON, handler: Callable[[_Request], Any]
    ) -> Callable[[_Request], Any]:
        """Hook of FakeTelegram._dispatch: a send or edit with business_connection_id runs
        its ordinary handler on the business chat, after the connection's checks."""
        name = method.lower()
        if name not in BUSINESS_SEND_METHODS | BUSINESS_EDIT_METHODS:
            return handler  # copyMessage, forwardMessage...: no business_connection_id
        if params.get("business_connection_id") in (None, ""):
            return handler

        def on_behalf(r: _Request) -> Any:
            connection = self._usable_connection(r.params)
            self._require(connection, "can_reply")
            if name in BUSINESS_SEND_METHODS:
                chat = self._active_chat(connection, r.params)
            else:
                chat_id = self._chat_key(r.params)
                found = connection.chats.get(chat_id) if chat_id is not None else None
                # no such chat: an empty one, so the handler finds no message to edit
                chat = found if found is not None else BusinessChat(chat_id or 0)
            with self._business_scope(connection, chat):
                return handler(r)

        return on_behalf

    def api_getBusinessConnection(self, r: _Request) -> JSON:
        connection = self.business_connections.get(str(r.params.get("business_connection_id")))
        if connection is None:
            raise _api_error(400, CONNECTION_INVALID)
        return connection.as_api()

    def api_readBusinessMessage(self, r: _Request) -> bool:
        connection = self._usable_connection(r.params)
        self._require(connection, "can_read_messages")
        chat = self._active_chat(connection, r.params)
        message_id = r.params.get("message_id")
        if not isinstance(message_id, int) or message_id not in chat.messages:
            raise _api_error(400, "Bad Request: MESSAGE_ID_INVALID")
        chat.last_read = max(chat.last_read or 0, message_id)
        self._fake()._changed()
        return True

    def api_deleteBusinessMessages(self, r: _Request) -> bool:
        connection = self._usable_connection(r.params)
        ids = r.params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _api_error(400, "Bad Request: message identifiers are not specified")
        chat = next(
            (c for c in connection.chats.values() if any(i in c.messages for i in ids)), None
        )
        if chat is None:
            raise _api_error(400, "Bad Request: message to delete not found")
        found = [chat.messages[i] for i in ids if i in chat.messages]
        for message in found:
            own = self._sent_by_this_bot(message) and connection.can("can_delete_sent_messages")
            if not own:
                self._require(connection, "can_delete_all_messages")
        for message in found:
            del chat.messages[message["message_id"]]
        self._fake()._changed()
        return True
