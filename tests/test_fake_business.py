"""Telegram Business in the fake Bot API, proven with a real aiogram Bot over HTTP.

Connections, the updates a connected account brings (validated as aiogram ``Update``), the bot
answering on the account's behalf, and the errors Telegram gives when it may not.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
    Update,
)
from aiohttp import ClientSession

from standins.telegram import PRIVATE_KEYS, FakeTelegram
from standins.telegram_business import (
    ACCESS_FORBIDDEN,
    CONNECTION_INVALID,
    FIRST_MESSAGE_ID,
    PEER_USAGE_MISSING,
)
from tests.log_watch import customers_texts

pytestmark = pytest.mark.asyncio

JSON = dict[str, Any]
DAY_AND_AN_HOUR = 25 * 3600


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    telegram = FakeTelegram()
    await telegram.start()
    yield telegram
    await telegram.stop()
    assert not telegram.server_errors, telegram.server_errors


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    client = Bot(fake.token, session=session)
    yield client
    await client.session.close()


async def raw_call(fake: FakeTelegram, method: str, **params: Any) -> tuple[int, JSON]:
    """The HTTP status and JSON body of one call, as Telegram sends them."""
    async with (
        ClientSession() as session,
        session.post(f"{fake.url}/bot{fake.token}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


def assert_valid(fake: FakeTelegram, connection_id: str, user_id: int) -> None:
    for stored in fake.business_chat(connection_id, user_id):
        Message.model_validate({k: v for k, v in stored.items() if k not in PRIVATE_KEYS})


async def test_business_updates_have_telegrams_shapes(fake: FakeTelegram) -> None:
    connection_id, update = fake.connect_business()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", connection_id)
    connected = Update.model_validate(update).business_connection
    assert connected is not None
    owner = connected.user
    assert (connected.id, owner.first_name, owner.username) == (connection_id, "Olena", "insure_ua")
    assert (connected.user_chat_id, connected.is_enabled, connected.can_reply) == (
        owner.id,
        True,
        True,
    )
    assert update["business_connection"]["rights"] == {
        "can_reply": True,
        "can_read_messages": True,
        "can_delete_sent_messages": True,
    }

    ivan = fake.add_user("Ivan", username="ivan")
    written = Update.model_validate(fake.business_message(connection_id, ivan, text="Hello there"))
    message = written.business_message
    assert message is not None and message.from_user is not None
    assert (message.business_connection_id, message.chat.id, message.chat.type) == (
        connection_id,
        ivan["id"],
        "private",
    )
    assert (message.from_user.id, message.chat.username, message.text) == (
        ivan["id"],
        "ivan",
        "Hello there",
    )
    # the account's chat has its own ids; the bot's private chat with Ivan stays empty
    assert message.message_id > FIRST_MESSAGE_ID
    assert fake.chat_messages(ivan["id"]) == []

    edited = Update.model_validate(
        fake.business_edit(connection_id, ivan, message.message_id, text="Hello again")
    ).edited_business_message
    assert edited is not None
    assert (edited.text, edited.business_connection_id) == ("Hello again", connection_id)
    assert edited.edit_date is not None

    photo = fake.business_message(connection_id, ivan, photo=fake.photo(), caption="my car")
    owners = Update.model_validate(fake.owner_message(connection_id, ivan, text="On it!"))
    assert owners.business_message is not None and owners.business_message.from_user is not None
    assert owners.business_message.from_user.id == owner.id
    assert owners.business_message.chat.id == ivan["id"]

    deleted = Update.model_validate(
        fake.business_delete(connection_id, ivan, [photo["business_message"]["message_id"]])
    ).deleted_business_messages
    assert deleted is not None
    assert (deleted.business_connection_id, deleted.chat.id, deleted.message_ids) == (
        connection_id,
        ivan["id"],
        [photo["business_message"]["message_id"]],
    )
    assert [m["text"] for m in fake.business_chat(connection_id, ivan["id"])] == [
        "Hello again",
        "On it!",
    ]

    changed = Update.model_validate(fake.change_business(connection_id, enabled=False))
    assert changed.business_connection is not None
    assert changed.business_connection.is_enabled is False
    assert_valid(fake, connection_id, ivan["id"])


async def test_connection_options_and_get(fake: FakeTelegram, bot: Bot) -> None:
    owner = fake.add_user("Marta", username="marta_insures")
    connection_id, update = fake.connect_business(
        owner, connection_id="AbCdEfGhIjKlMnOpQrStUv", can_reply=False, can_read=False
    )
    assert connection_id == "AbCdEfGhIjKlMnOpQrStUv"
    assert update["business_connection"]["user"] == owner
    assert update["business_connection"]["can_reply"] is False
    assert update["business_connection"]["rights"] == {}
    got = await bot.get_business_connection(connection_id)
    assert (got.id, got.user.id, got.can_reply) == (connection_id, owner["id"], False)
    assert (await bot.get_me()).can_connect_to_business is True
    status, body = await raw_call(fake, "getBusinessConnection", business_connection_id="nope")
    assert (status, body) == (
        400,
        {"ok": False, "error_code": 400, "description": CONNECTION_INVALID},
    )


async def test_bot_answers_on_the_accounts_behalf(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    owner = fake.business_connections[connection_id].owner
    ivan = fake.add_user("Ivan")
    asked = fake.business_message(connection_id, ivan, photo=fake.photo(), caption="a scratch")
    question = asked["business_message"]
    file_id = question["photo"][-1]["file_id"]

    await bot.send_chat_action(ivan["id"], "typing", business_connection_id=connection_id)
    text = await bot.send_message(
        ivan["id"],
        "<b>Thanks</b>, we will look",
        parse_mode="HTML",
        business_connection_id=connection_id,
        reply_parameters=ReplyParameters(message_id=question["message_id"]),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Call me", callback_data="call")]]
        ),
    )
    assert (text.business_connection_id, text.chat.id, text.text) == (
        connection_id,
        ivan["id"],
        "Thanks, we will look",
    )
    assert text.from_user is not None and text.from_user.id == owner["id"]
    assert text.sender_business_bot is not None and text.sender_business_bot.id == fake.bot_id
    assert text.reply_to_message is not None
    assert text.reply_to_message.message_id == question["message_id"]

    photo = await bot.send_photo(
        ivan["id"], file_id, caption="this one?", business_connection_id=connection_id
    )
    album = await bot.send_media_group(
        ivan["id"],
        [InputMediaPhoto(media=file_id), InputMediaPhoto(media=file_id, caption="both")],
        business_connection_id=connection_id,
    )
    assert {m.media_group_id for m in album} != {None}
    assert all(m.business_connection_id == connection_id for m in [photo, *album])
    chat = fake.business_chat(connection_id, ivan["id"])
    assert [m["message_id"] for m in chat] == [
        question["message_id"],
        text.message_id,
        photo.message_id,
        *(m.message_id for m in album),
    ]
    bots = [m for m in chat if "sender_business_bot" in m]
    assert len(bots) == 4
    assert all(m["from"]["id"] == owner["id"] for m in bots)
    assert all(m["sender_business_bot"]["id"] == fake.bot_id for m in bots)
    assert all(m["business_connection_id"] == connection_id for m in chat)
    assert fake.chat_messages(ivan["id"]) == []  # nothing in the bot's own chat with Ivan
    assert fake.sent_by_bot(ivan["id"]) == []

    # the customer presses the button of the bot's answer
    pressed = Update.model_validate(
        fake.business_press(connection_id, ivan, text.message_id, "call")
    ).callback_query
    assert pressed is not None and isinstance(pressed.message, Message)
    assert pressed.message.business_connection_id == connection_id
    assert pressed.message.message_id == text.message_id
    assert await bot.answer_callback_query(pressed.id, text="We will call")
    assert_valid(fake, connection_id, ivan["id"])


async def test_errors_in_telegrams_order(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    ivan, olha = fake.add_user("Ivan"), fake.add_user("Olha")
    fake.business_message(connection_id, ivan, text="Hi, about my policy")

    async def refused(method: str, **params: Any) -> tuple[int, JSON]:
        return await raw_call(fake, method, chat_id=ivan["id"], **params)

    def error(code: int, description: str) -> tuple[int, JSON]:
        return code, {"ok": False, "error_code": code, "description": description}

    invalid = error(400, CONNECTION_INVALID)
    assert await refused("sendMessage", text="x", business_connection_id="unknown") == invalid
    with pytest.raises(TelegramBadRequest) as bad:
        await bot.send_message(ivan["id"], "x", business_connection_id="unknown")
    assert bad.value.message == CONNECTION_INVALID

    # never wrote through this connection
    with pytest.raises(TelegramBadRequest) as missing:
        await bot.send_message(olha["id"], "x", business_connection_id=connection_id)
    assert missing.value.message == PEER_USAGE_MISSING

    fake.change_business(connection_id, can_reply=False, can_read=False)
    forbidden = error(403, ACCESS_FORBIDDEN)
    assert await refused("sendMessage", text="x", business_connection_id=connection_id) == (
        forbidden
    )
    with pytest.raises(TelegramForbiddenError) as no_right:  # checked before the 24 hours
        await bot.send_message(olha["id"], "x", business_connection_id=connection_id)
    assert no_right.value.message == ACCESS_FORBIDDEN
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text(
            "x", chat_id=ivan["id"], message_id=1, business_connection_id=connection_id
        )
    message_id = fake.business_chat(connection_id, ivan["id"])[0]["message_id"]
    with pytest.raises(TelegramForbiddenError) as no_read:
        await bot.read_business_message(connection_id, ivan["id"], message_id)
    assert no_read.value.message == ACCESS_FORBIDDEN

    fake.change_business(connection_id, can_reply=True, enabled=False)  # disabled beats rights
    assert await refused("sendMessage", text="x", business_connection_id=connection_id) == invalid
    assert await refused(
        "readBusinessMessage", message_id=message_id, business_connection_id=connection_id
    ) == (invalid)

    fake.change_business(connection_id, enabled=True)
    with pytest.raises(TelegramBadRequest) as not_found:
        await bot.edit_message_text(
            "x",
            chat_id=ivan["id"],
            message_id=message_id + 99,
            business_connection_id=connection_id,
        )
    assert not_found.value.message == "Bad Request: message to edit not found"
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):  # the customer's
        await bot.edit_message_text(
            "x", chat_id=ivan["id"], message_id=message_id, business_connection_id=connection_id
        )
    # refused calls did nothing
    assert [m["text"] for m in fake.business_chat(connection_id, ivan["id"])] == [
        "Hi, about my policy"
    ]
    assert fake.business_read(connection_id, ivan["id"]) is None


async def test_the_24_hour_rule(fake: FakeTelegram, bot: Bot) -> None:
    fake.freeze_clock()
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    first = fake.business_message(connection_id, ivan, text="Is my car covered?")
    asked_id = first["business_message"]["message_id"]
    sent = await bot.send_message(ivan["id"], "Checking", business_connection_id=connection_id)
    fake.advance_clock(23 * 3600)
    await bot.send_message(ivan["id"], "Still checking", business_connection_id=connection_id)

    fake.advance_clock(DAY_AND_AN_HOUR - 23 * 3600)
    for call in (
        bot.send_message(ivan["id"], "Late", business_connection_id=connection_id),
        bot.send_chat_action(ivan["id"], "typing", business_connection_id=connection_id),
        bot.read_business_message(connection_id, ivan["id"], asked_id),
    ):
        with pytest.raises(TelegramBadRequest) as late:
            await call
        assert late.value.message == PEER_USAGE_MISSING
    # sent messages stay editable
    edited = await bot.edit_message_text(
        "Checked: covered",
        chat_id=ivan["id"],
        message_id=sent.message_id,
        business_connection_id=connection_id,
    )
    assert isinstance(edited, Message) and edited.text == "Checked: covered"
    # the owner writing does not open the chat again; the customer does
    fake.owner_message(connection_id, ivan, text="Hi Ivan")
    with pytest.raises(TelegramBadRequest, match="BUSINESS_PEER_USAGE_MISSING"):
        await bot.send_message(ivan["id"], "Late", business_connection_id=connection_id)
    fake.business_message(connection_id, ivan, text="Thanks for checking")
    await bot.send_message(ivan["id"], "You are welcome", business_connection_id=connection_id)


async def test_edits_of_business_messages(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    photo = fake.business_message(connection_id, ivan, photo=fake.photo())["business_message"]
    text = await bot.send_message(ivan["id"], "Draft", business_connection_id=connection_id)
    media = await bot.send_photo(
        ivan["id"],
        photo["photo"][-1]["file_id"],
        caption="old caption",
        business_connection_id=connection_id,
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]]
    )
    edited = await bot.edit_message_text(
        "Final",
        chat_id=ivan["id"],
        message_id=text.message_id,
        business_connection_id=connection_id,
        reply_markup=markup,
    )
    assert isinstance(edited, Message)
    assert (edited.text, edited.business_connection_id) == ("Final", connection_id)
    assert edited.sender_business_bot is not None
    recaptioned = await bot.edit_message_caption(
        chat_id=ivan["id"],
        message_id=media.message_id,
        caption="new caption",
        business_connection_id=connection_id,
    )
    assert isinstance(recaptioned, Message) and recaptioned.caption == "new caption"
    unmarked = await bot.edit_message_reply_markup(
        chat_id=ivan["id"], message_id=text.message_id, business_connection_id=connection_id
    )
    assert isinstance(unmarked, Message) and unmarked.reply_markup is None
    stored = {m["message_id"]: m for m in fake.business_chat(connection_id, ivan["id"])}
    assert stored[text.message_id]["text"] == "Final"
    assert "edit_date" in stored[text.message_id]
    assert stored[media.message_id]["caption"] == "new caption"
    # without business_connection_id the id names a message of the bot's own chat: none
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ivan["id"], message_id=text.message_id)
    assert_valid(fake, connection_id, ivan["id"])


async def test_copy_and_forward_of_a_business_message_fail(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    asked = fake.business_message(connection_id, ivan, text="Please copy me")["business_message"]
    group = fake.operator_chat_id
    with pytest.raises(TelegramBadRequest) as copied:
        await bot.copy_message(group, ivan["id"], asked["message_id"])
    assert copied.value.message == "Bad Request: message to copy not found"
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await bot.forward_message(group, ivan["id"], asked["message_id"])
    # the bot's own chat with Ivan copies as before
    private = fake.customer_message(ivan, text="copy me, I am private")["message"]
    await bot.copy_message(group, ivan["id"], private["message_id"])
    assert fake.chat_messages(group)[-1]["text"] == "copy me, I am private"


async def test_read_and_delete_business_messages(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    first = fake.business_message(connection_id, ivan, text="one")["business_message"]
    second = fake.business_message(connection_id, ivan, text="two")["business_message"]
    assert await bot.read_business_message(connection_id, ivan["id"], second["message_id"])
    assert fake.business_read(connection_id, ivan["id"]) == second["message_id"]
    await bot.read_business_message(connection_id, ivan["id"], first["message_id"])
    assert fake.business_read(connection_id, ivan["id"]) == second["message_id"]  # no going back
    with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
        await bot.read_business_message(connection_id, ivan["id"], 1)

    answer = await bot.send_message(ivan["id"], "Answer", business_connection_id=connection_id)
    with pytest.raises(TelegramForbiddenError) as forbidden:  # the customer's: needs more rights
        await bot.delete_business_messages(connection_id, [first["message_id"]])
    assert forbidden.value.message == ACCESS_FORBIDDEN
    assert await bot.delete_business_messages(connection_id, [answer.message_id])
    fake.change_business(connection_id, can_delete_all=True)
    assert await bot.delete_business_messages(connection_id, [first["message_id"]])
    assert [m["text"] for m in fake.business_chat(connection_id, ivan["id"])] == ["two"]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_business_messages(connection_id, [answer.message_id])

    fake.change_business(connection_id, can_reply=False, can_delete_sent=False)
    kept = fake.business_chat(connection_id, ivan["id"])[0]["message_id"]
    fake.change_business(connection_id, can_delete_all=False)
    with pytest.raises(TelegramForbiddenError):
        await bot.delete_business_messages(connection_id, [kept])


async def test_business_sends_are_charged_to_the_customers_chat(
    fake: FakeTelegram, bot: Bot
) -> None:
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    asked = fake.business_message(connection_id, ivan, photo=fake.photo())["business_message"]
    file_id = asked["photo"][-1]["file_id"]
    sent = await bot.send_message(ivan["id"], "one", business_connection_id=connection_id)
    await bot.send_media_group(
        ivan["id"],
        [InputMediaPhoto(media=file_id), InputMediaPhoto(media=file_id)],
        business_connection_id=connection_id,
    )
    await bot.edit_message_text(
        "one!", chat_id=ivan["id"], message_id=sent.message_id, business_connection_id=connection_id
    )
    await bot.send_chat_action(ivan["id"], "typing", business_connection_id=connection_id)
    await bot.read_business_message(connection_id, ivan["id"], asked["message_id"])
    await bot.delete_business_messages(connection_id, [sent.message_id])
    with pytest.raises(TelegramBadRequest):  # refused: not charged
        await bot.send_message(ivan["id"], "x", business_connection_id="unknown")
    assert [(c.method, c.cost) for c in fake.operations(ivan["id"])] == [
        ("sendMessage", 1),
        ("sendMediaGroup", 2),
        ("editMessageText", 1),
    ]

    fake.freeze_clock()
    fake.rate_limits(chat_per_second=1)
    await bot.send_message(ivan["id"], "two", business_connection_id=connection_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ivan["id"], "three", business_connection_id=connection_id)
    with pytest.raises(TelegramRetryAfter):  # the same budget as the bot's own chat with Ivan
        await bot.send_message(ivan["id"], "private")
    fake.advance_clock(1.0)
    await bot.send_message(ivan["id"], "three", business_connection_id=connection_id)
    assert [c.method for c in fake.flood_refusals] == ["sendMessage", "sendMessage"]


async def test_allowed_updates_filter_business_updates(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, connected = fake.connect_business()
    ivan = fake.add_user("Ivan")
    updates = [
        connected,
        fake.business_message(connection_id, ivan, text="one"),
        fake.customer_message(ivan, text="private"),
    ]
    updates.append(fake.business_edit(connection_id, ivan, 10_001, text="one!"))
    updates.append(fake.business_delete(connection_id, ivan, [10_001]))
    for update in updates:
        await fake.deliver(update)
    got = await bot.get_updates(timeout=0)  # the default: business updates included
    kinds = [next(k for k in u.model_dump(exclude_none=True) if k != "update_id") for u in got]
    assert kinds == [
        "business_connection",
        "business_message",
        "message",
        "edited_business_message",
        "deleted_business_messages",
    ]
    await fake.deliver(fake.business_message(connection_id, ivan, text="two"))
    await fake.deliver(fake.customer_message(ivan, text="private two"))
    got = await bot.get_updates(
        offset=got[-1].update_id + 1, timeout=0, allowed_updates=["message"]
    )
    assert [u.message.text for u in got if u.message] == ["private two"]
    assert all(u.business_message is None for u in got)


async def test_log_watch_knows_business_texts(fake: FakeTelegram, bot: Bot) -> None:
    connection_id, _ = fake.connect_business()
    ivan = fake.add_user("Ivan")
    fake.business_message(connection_id, ivan, text="my policy number is 12345")
    fake.owner_message(connection_id, ivan, text="the owner wrote this by hand")
    await bot.send_message(
        ivan["id"], "the bot's answer to the customer", business_connection_id=connection_id
    )
    texts = customers_texts()
    assert "my policy number is 12345" in texts
    assert "the owner wrote this by hand" in texts
    assert "the bot's answer to the customer" not in texts
