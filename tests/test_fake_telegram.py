"""Proves the fake Bot API speaks real Telegram: a real aiogram Bot talks to it over HTTP.

If aiogram accepts (pydantic-validates) every answer and maps every error to the right
exception class here, the app's end-to-end tests can trust the fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    Poll,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientPayloadError, ClientResponseError, ClientSession, web

try:
    from standins.telegram import FLOOD_METHODS, MESSAGE_METHODS, PRIVATE_KEYS, FakeTelegram
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from fake_telegram import (  # type: ignore[no-redef]
        FLOOD_METHODS,
        MESSAGE_METHODS,
        PRIVATE_KEYS,
        FakeTelegram,
    )

pytestmark = pytest.mark.asyncio

JSON = dict[str, Any]
# nginx's page exactly as Telegram's front sends it during an incident.
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NGINX_504 = NGINX_502.replace("502 Bad Gateway", "504 Gateway Time-out")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    telegram = FakeTelegram()
    await telegram.start()
    yield telegram
    await telegram.stop()
    assert not telegram.server_errors, telegram.server_errors


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    return Bot(token or fake.token, session=session)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    yield client
    await client.session.close()


def assert_valid_world(fake: FakeTelegram) -> None:
    """Every stored message must be a Message aiogram accepts."""
    for chat_id in fake.messages:
        for stored in fake.chat_messages(chat_id):
            public = {k: v for k, v in stored.items() if k not in PRIVATE_KEYS}
            Message.model_validate(public)


async def test_get_me_and_wrong_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name) == (fake.bot_id, fake.bot_username, "Support Bot")
    intruder = make_bot(fake, "999:wrong")
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
    await intruder.session.close()
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]


async def test_chat_and_member_info(fake: FakeTelegram, bot: Bot) -> None:
    chat = await bot.get_chat(fake.operator_chat_id)
    assert (chat.type, chat.is_forum, chat.title) == ("supergroup", True, "Support operators")
    member = await bot.get_chat_member(fake.operator_chat_id, fake.bot_id)
    assert member.status == "administrator"
    assert member.can_manage_topics is True
    user = fake.add_user("Ivan")
    fake.set_member_status(user["id"], "left")
    assert (await bot.get_chat_member(fake.operator_chat_id, user["id"])).status == "left"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-100999)


async def test_create_topic_and_html_message(fake: FakeTelegram, bot: Bot) -> None:
    topic = await bot.create_forum_topic(fake.operator_chat_id, "Ivan Petrenko · @ivan")
    thread_id = topic.message_thread_id
    assert fake.topics[thread_id].name == "Ivan Petrenko · @ivan"
    header = fake.message(fake.operator_chat_id, thread_id)
    assert header["forum_topic_created"]["name"] == "Ivan Petrenko · @ivan"

    sent = await bot.send_message(
        fake.operator_chat_id,
        "<b>New customer</b> &amp; <a href='https://t.me/ivan'>profile</a>",
        parse_mode="HTML",
        message_thread_id=thread_id,
    )
    assert sent.message_thread_id == thread_id
    assert sent.is_topic_message is True
    # real Telegram quirk: a plain topic message "replies" to the topic's service header
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    stored = fake.message(fake.operator_chat_id, sent.message_id)
    assert stored["text"] == "New customer & profile"
    assert stored["html"].startswith("<b>New customer</b>")
    assert [e["type"] for e in stored["entities"]] == ["bold", "text_link"]
    assert fake.topic_messages(thread_id) == [stored]
    assert fake.sent_by_bot(fake.operator_chat_id, thread_id) == [stored]

    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(fake.operator_chat_id, thread_id, name="Ivan Petrenko · @ivan")
    await bot.close_forum_topic(fake.operator_chat_id, thread_id)
    assert fake.topics[thread_id].closed
    assert_valid_world(fake)


async def test_copy_customer_photo_into_topic(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan", username="ivan")
    topic = await bot.create_forum_topic(fake.operator_chat_id, "Ivan")
    update = fake.customer_message(user, photo=fake.photo(), caption="my receipt")
    Update.model_validate(update)
    source = update["message"]
    copied = await bot.copy_message(
        chat_id=fake.operator_chat_id,
        from_chat_id=user["id"],
        message_id=source["message_id"],
        message_thread_id=topic.message_thread_id,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Close", callback_data="close")]]
        ),
    )
    stored = fake.message(fake.operator_chat_id, copied.message_id)
    assert stored["photo"] == source["photo"]
    assert stored["caption"] == "my receipt"
    assert stored["message_thread_id"] == topic.message_thread_id
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "close"
    header = fake.message(fake.operator_chat_id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message can't be copied"):
        await bot.copy_message(user["id"], fake.operator_chat_id, header["message_id"])
    assert_valid_world(fake)


async def test_copy_album_keeps_grouping(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Olha")
    topic = await bot.create_forum_topic(fake.operator_chat_id, "Olha")
    first = fake.customer_message(user, media_group_id="album-1", photo=fake.photo(), caption="1")
    second = fake.customer_message(user, media_group_id="album-1", photo=fake.photo())
    ids = [first["message"]["message_id"], second["message"]["message_id"]]
    result = await bot.copy_messages(
        fake.operator_chat_id, user["id"], ids, message_thread_id=topic.message_thread_id
    )
    copies = [fake.message(fake.operator_chat_id, m.message_id) for m in result]
    assert len(copies) == 2
    group_ids = {c["media_group_id"] for c in copies}
    assert len(group_ids) == 1
    assert group_ids != {"album-1"}
    assert copies[0]["caption"] == "1"


async def test_media_group_upload_and_download(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Petro")
    sent = await bot.send_media_group(
        user["id"],
        [
            InputMediaPhoto(
                media=BufferedInputFile(b"one", "1.jpg"), caption="<i>a</i>", parse_mode="HTML"
            ),
            InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
        ],
    )
    assert len({m.media_group_id for m in sent}) == 1
    assert sent[0].caption == "a"
    document = await bot.send_document(user["id"], BufferedInputFile(b"hello", "report.txt"))
    assert document.document is not None
    assert document.document.file_name == "report.txt"
    assert fake.file_data(document.document.file_id) == b"hello"
    downloaded = await bot.download(sent[1].photo[-1].file_id)
    assert downloaded is not None
    assert downloaded.read() == b"two"

    made = fake.document("policy.pdf", b"%PDF-1.4 policy")
    via_api = await bot.download(made["file_id"])
    assert via_api is not None
    assert via_api.read() == b"%PDF-1.4 policy"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")
    assert_valid_world(fake)


async def test_reactions(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    message_id = fake.customer_message(user, text="thanks")["message"]["message_id"]
    await bot.set_message_reaction(user["id"], message_id, [ReactionTypeEmoji(emoji="👍")])
    assert fake.message(user["id"], message_id)["reactions"] == ["👍"]
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(user["id"], message_id, [ReactionTypeEmoji(emoji="🦖")])


async def test_edit_text_and_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    sent = await bot.send_message(user["id"], "first")
    edited = await bot.edit_message_text("second", chat_id=user["id"], message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "second"
    assert fake.message(user["id"], sent.message_id)["edit_date"] > 0
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("second", chat_id=user["id"], message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=999)
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.edit_message_text("x" * 4097, chat_id=user["id"], message_id=sent.message_id)


async def test_errors_surface_as_aiogram_exceptions(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(user["id"], "hi")
    assert retry.value.retry_after == 7
    assert (await bot.send_message(user["id"], "hi")).text == "hi"  # only once

    fake.block_bot(user["id"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user["id"], "hi")

    topic = await bot.create_forum_topic(fake.operator_chat_id, "Gone")
    fake.delete_topic(topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(
            fake.operator_chat_id, "hi", message_thread_id=topic.message_thread_id
        )
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(fake.operator_chat_id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(
            fake.operator_chat_id, "hi", reply_parameters=ReplyParameters(message_id=12345)
        )
    assert len(fake.calls_to("sendMessage")) == 6


async def test_long_poll_returns_delivered_update(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for(lambda: fake.calls_to("getUpdates"))
    assert not poll.done()
    update = fake.customer_message(user, text="hello")
    assert await fake.deliver(update) == 200
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_webhook_delivery_and_conflict(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, JSON]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url.endswith("/hook")
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        user = fake.add_user("Ivan")
        assert await fake.deliver(fake.customer_message(user, text="via hook")) == 200
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "via hook"
        assert (await fake.post_webhook(b"{}", secret=None))[0] == 200
        assert received[1][0] is None
    finally:
        await runner.cleanup()


async def test_webhook_reply_method_is_executed(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token="tok").register(
        app, path="/hook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="tok")
        user = fake.add_user("Ivan")
        assert await fake.deliver(fake.customer_message(user, text="ping")) == 200
        assert fake.sent_by_bot(user["id"])[-1]["text"] == "echo: ping"
        assert (await fake.post_webhook(b"{}", secret="wrong"))[0] == 401
    finally:
        await runner.cleanup()


async def test_all_content_kinds_copy_cleanly(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    operator = fake.add_user("Operator", username="op1")
    topic = await bot.create_forum_topic(fake.operator_chat_id, "Ivan")
    contents: list[JSON] = [
        {"text": "hi", "entities": [{"type": "bold", "offset": 0, "length": 2}]},
        {"video": fake.video(), "caption": "v"},
        {"animation": fake.animation()},
        {"document": fake.document()},
        {"audio": fake.audio()},
        {"voice": fake.voice()},
        {"video_note": fake.video_note()},
        {"sticker": fake.sticker()},
        {"location": {"latitude": 50.45, "longitude": 30.52}},
        {
            "venue": {
                "location": {"latitude": 50.45, "longitude": 30.52},
                "title": "Office",
                "address": "Khreshchatyk 1",
            }
        },
        {"contact": {"phone_number": "+380441234567", "first_name": "Ivan"}},
        {"dice": {"emoji": "🎲", "value": 3}},
    ]
    for content in contents:
        update = fake.customer_message(user, **content)
        Update.model_validate(update)
        await bot.copy_message(
            fake.operator_chat_id,
            user["id"],
            update["message"]["message_id"],
            message_thread_id=topic.message_thread_id,
        )
    poll = await bot.send_poll(user["id"], "Rate us", ["good", "bad"])
    await bot.copy_message(
        fake.operator_chat_id,
        user["id"],
        poll.message_id,
        message_thread_id=topic.message_thread_id,
    )
    assert len(fake.topic_messages(topic.message_thread_id)) == len(contents) + 1

    reply = fake.operator_message(
        operator,
        topic.message_thread_id,
        reply_to=fake.topic_messages(topic.message_thread_id)[0]["message_id"],
        text="answer",
    )
    assert reply["message"]["reply_to_message"]["text"] == "hi"
    plain = fake.operator_message(operator, topic.message_thread_id, text="plain")
    assert "forum_topic_created" in plain["message"]["reply_to_message"]
    for update in (
        reply,
        plain,
        fake.edit_message(user["id"], 1, text="hi!"),
        fake.callback_query(user, fake.sent_by_bot(user["id"])[0], "rate:5"),
        fake.member_update(user, blocked=True),
        fake.service_message(topic.message_thread_id, forum_topic_edited={"name": "Renamed"}),
        fake.other_chat_message(user, -100555, text="elsewhere"),
    ):
        Update.model_validate(update)
    assert fake.topics[topic.message_thread_id].name == "Renamed"
    assert_valid_world(fake)


async def test_flood_control_is_off_by_default(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    for n in range(5):
        await bot.send_message(user["id"], f"burst {n}")
    assert fake.flood_refusals == []


async def test_flood_per_private_chat(fake: FakeTelegram, bot: Bot) -> None:
    ivan, olha = fake.add_user("Ivan"), fake.add_user("Olha")
    fake.freeze_clock()  # windows are exact: no real time passes between the calls
    fake.rate_limits(chat_per_second=1)
    first = await bot.send_message(ivan["id"], "one")
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.edit_message_text("edited", chat_id=ivan["id"], message_id=first.message_id)
    assert retry.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in retry.value.message
    assert fake.message(ivan["id"], first.message_id)["text"] == "one"  # refused = not done
    await bot.send_message(olha["id"], "another chat has its own window")
    fake.advance_clock(1.0)
    edited = await bot.edit_message_text("edited", chat_id=ivan["id"], message_id=first.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "edited"
    assert [c.method for c in fake.flood_refusals] == ["editMessageText"]
    assert len(fake.calls_to("editMessageText")) == 2  # the refused call is recorded too


async def test_flood_slow_private_chat_rate(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.freeze_clock()
    fake.rate_limits(chat_per_second=0.5)  # one message per 2 s
    await bot.send_message(user["id"], "one")
    fake.advance_clock(1.0)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(user["id"], "two")
    assert retry.value.retry_after == 1
    fake.advance_clock(1.0)
    await bot.send_message(user["id"], "two")


async def test_flood_per_group_per_minute(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.freeze_clock()
    fake.rate_limits(group_per_minute=3, chat_per_second=1)
    first = await bot.send_message(fake.operator_chat_id, "one")
    fake.advance_clock(20)
    await bot.send_message(fake.operator_chat_id, "two")
    await bot.send_message(user["id"], "private chats do not count for the group")
    with pytest.raises(TelegramRetryAfter) as album:  # two items, one slot left
        await bot.send_media_group(
            fake.operator_chat_id,
            [
                InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg")),
                InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
            ],
        )
    assert album.value.retry_after == 40  # until "one" leaves the 60 s window
    question = fake.customer_message(user, text="question")["message"]["message_id"]
    await bot.copy_message(fake.operator_chat_id, user["id"], question)  # the last slot
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(fake.operator_chat_id, "four")
    assert retry.value.retry_after == 40
    fake.advance_clock(39.5)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(fake.operator_chat_id, "four")
    assert retry.value.retry_after == 1  # rounded up to whole seconds
    fake.advance_clock(0.5)
    await bot.send_message(fake.operator_chat_id, "four")
    texts = [m.get("text") for m in fake.sent_by_bot(fake.operator_chat_id)]
    assert texts == ["one", "two", "question", "four"]
    assert first.message_id in fake.messages[fake.operator_chat_id]
    assert len(fake.flood_refusals) == 3


async def test_flood_global_per_second(fake: FakeTelegram, bot: Bot) -> None:
    users = [fake.add_user(f"User {n}") for n in range(5)]
    fake.freeze_clock()
    fake.rate_limits(global_per_second=3)
    for user in users[:3]:
        await bot.send_message(user["id"], "hi")
    fake.advance_clock(0.25)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(users[3]["id"], "hi")
    assert retry.value.retry_after == 1
    with pytest.raises(TelegramRetryAfter):
        await bot.send_location(users[4]["id"], 50.45, 30.52)
    fake.advance_clock(0.75)
    await bot.send_message(users[3]["id"], "hi")
    await bot.send_location(users[4]["id"], 50.45, 30.52)
    await bot.get_me()  # not a message: never refused
    assert [c.method for c in fake.flood_refusals] == ["sendMessage", "sendLocation"]
    fake.rate_limits()  # off again
    for user in users:
        await bot.send_message(user["id"], "no limits")


async def test_server_errors_and_bursts(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.fail("sendMessage", 502, "Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(user["id"], "hi")
    assert fake.sent_by_bot(user["id"]) == []  # failed calls are not performed
    assert (await bot.send_message(user["id"], "hi")).text == "hi"
    fake.fail("getMe", 502, "Bad Gateway")
    async with ClientSession() as http, http.post(f"{fake.url}/bot{fake.token}/getMe") as answer:
        assert answer.status == 502
        body = await answer.json()
    assert body == {"ok": False, "error_code": 502, "description": "Bad Gateway"}


async def test_delay_longer_than_request_timeout(fake: FakeTelegram, bot: Bot) -> None:
    user, other = fake.add_user("Ivan"), fake.add_user("Olha")
    fake.delay("sendMessage", 1.0, when=lambda params: params.get("chat_id") == user["id"])
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(user["id"], "slow", request_timeout=0.2)  # type: ignore[arg-type]
    assert (await bot.send_message(other["id"], "fast", request_timeout=1)).text == "fast"
    # the server went on: the message the client gave up on still arrives, like on Telegram
    sent = await fake.wait_for(lambda: fake.sent_by_bot(user["id"]))
    assert sent[0]["text"] == "slow"
    assert (await bot.send_message(user["id"], "again", request_timeout=1)).text == "again"


async def test_delay_is_released_when_the_fake_stops() -> None:
    telegram = FakeTelegram()
    await telegram.start()
    client = make_bot(telegram)
    telegram.delay("getMe", 30.0)
    call = asyncio.create_task(client.get_me())
    await telegram.wait_for(lambda: telegram.calls_to("getMe"))
    await asyncio.wait_for(telegram.stop(), 5)
    with contextlib.suppress(TelegramNetworkError):
        await asyncio.wait_for(call, 5)
    await client.session.close()


# ---------------------------------------------------------------------- the group's budget


async def test_flood_charges_every_write_to_the_chat(fake: FakeTelegram, bot: Bot) -> None:
    group, user = fake.operator_chat_id, fake.add_user("Ivan")
    fake.freeze_clock()
    fake.rate_limits(group_per_minute=4, chat_per_second=1)
    topic = await bot.create_forum_topic(group, "Ivan")
    thread_id = topic.message_thread_id
    await bot.edit_forum_topic(group, thread_id, name="Ivan · waiting")
    sent = await bot.send_message(group, "hello", message_thread_id=thread_id)
    await bot.set_message_reaction(group, sent.message_id, [ReactionTypeEmoji(emoji="👍")])
    with pytest.raises(TelegramRetryAfter) as closing:  # the fifth operation within a minute
        await bot.close_forum_topic(group, thread_id)
    assert closing.value.retry_after == 60
    assert not fake.topics[thread_id].closed  # refused = not done
    with pytest.raises(TelegramRetryAfter):
        await bot.pin_chat_message(group, sent.message_id)
    assert await bot.delete_message(group, sent.message_id)  # deletions are free
    question = fake.customer_message(user, text="hi")["message"]["message_id"]
    await bot.send_message(user["id"], "answer")
    with pytest.raises(TelegramRetryAfter) as reacting:  # a private chat's budget counts too
        await bot.set_message_reaction(user["id"], question, [ReactionTypeEmoji(emoji="👍")])
    assert reacting.value.retry_after == 1
    fake.advance_clock(60)
    await bot.close_forum_topic(group, thread_id)
    assert fake.topics[thread_id].closed
    assert [c.method for c in fake.flood_refusals] == [
        "closeForumTopic",
        "pinChatMessage",
        "setMessageReaction",
    ]
    assert [c.method for c in fake.operations(group)] == [
        "createForumTopic",
        "editForumTopic",
        "sendMessage",
        "setMessageReaction",
        "closeForumTopic",
    ]
    assert fake.operation_count(group) == 5
    assert fake.operation_count(user["id"]) == 1


async def test_global_limit_counts_messages_only(fake: FakeTelegram, bot: Bot) -> None:
    """Telegram's ~30/s over all chats is a broadcast limit on messages; topic operations are
    charged to their chat, not to it."""
    ivan, olha = fake.add_user("Ivan"), fake.add_user("Olha")
    fake.freeze_clock()
    fake.rate_limits(global_per_second=1)
    await bot.send_message(ivan["id"], "one")
    topic = await bot.create_forum_topic(fake.operator_chat_id, "Olha")
    await bot.close_forum_topic(fake.operator_chat_id, topic.message_thread_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(olha["id"], "two")
    assert {"createforumtopic", "setmessagereaction"} <= FLOOD_METHODS - MESSAGE_METHODS
    assert "deletemessage" not in FLOOD_METHODS


async def test_operations_are_counted_without_rate_limits(fake: FakeTelegram, bot: Bot) -> None:
    group, user = fake.operator_chat_id, fake.add_user("Olha")
    topic = await bot.create_forum_topic(group, "Olha")
    thread_id = topic.message_thread_id
    first = fake.customer_message(user, media_group_id="a", photo=fake.photo())["message"]
    second = fake.customer_message(user, media_group_id="a", photo=fake.photo())["message"]
    ids = [first["message_id"], second["message_id"]]
    await bot.copy_messages(group, user["id"], ids, message_thread_id=thread_id)  # 2
    album = await bot.send_media_group(  # 2
        group,
        [
            InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg")),
            InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
        ],
        message_thread_id=thread_id,
    )
    await bot.set_message_reaction(group, album[0].message_id, [ReactionTypeEmoji(emoji="🔥")])
    await bot.pin_chat_message(group, album[0].message_id)
    await bot.unpin_chat_message(group, message_id=album[0].message_id)
    await bot.get_chat(group)  # reads are free
    await bot.delete_message(group, album[1].message_id)  # so are deletions
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):  # failed: not charged
        await bot.reopen_forum_topic(group, thread_id)
    await bot.send_message(user["id"], "copied")  # another chat's budget
    assert [c.method for c in fake.operations(group)] == [
        "createForumTopic",
        "copyMessages",
        "sendMediaGroup",
        "setMessageReaction",
        "pinChatMessage",
        "unpinChatMessage",
    ]
    assert [c.cost for c in fake.operations(group)] == [1, 2, 2, 1, 1, 1]
    assert fake.operation_count(group) == 8
    assert [c.method for c in fake.operations(user["id"])] == ["sendMessage"]
    reopen = next(c for c in fake.calls if c.method == "reopenForumTopic")
    assert (reopen.performed, reopen.cost) == (False, 0)
    assert fake.flood_refusals == []


async def test_write_methods_behave_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    """The newly counted methods work, and their answers are what aiogram expects."""
    group, user = fake.operator_chat_id, fake.add_user("Ivan")
    topic = await bot.create_forum_topic(group, "Ivan")
    thread_id = topic.message_thread_id
    sent = await bot.send_message(group, "pin me", message_thread_id=thread_id)
    assert await bot.pin_chat_message(group, sent.message_id, disable_notification=True)
    assert fake.pinned[group] == [sent.message_id]
    notice = fake.topic_messages(thread_id)[-1]
    assert notice["pinned_message"]["message_id"] == sent.message_id
    assert await bot.unpin_all_forum_topic_messages(group, thread_id)
    assert fake.pinned[group] == []
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(group, 99_999)

    assert await bot.edit_general_forum_topic(group, "Lobby")
    assert await bot.close_general_forum_topic(group)
    assert (fake.general_name, fake.general_closed) == ("Lobby", True)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_general_forum_topic(group)
    assert await bot.reopen_general_forum_topic(group)
    assert not fake.general_closed

    photo = await bot.send_photo(user["id"], BufferedInputFile(b"jpeg", "a.jpg"), caption="a")
    edited = await bot.edit_message_media(
        InputMediaDocument(media=BufferedInputFile(b"%PDF", "receipt.pdf"), caption="receipt"),
        chat_id=user["id"],
        message_id=photo.message_id,
    )
    assert isinstance(edited, Message)
    assert edited.document is not None and edited.document.file_name == "receipt.pdf"
    assert (edited.photo, edited.caption) == (None, "receipt")
    assert fake.file_data(edited.document.file_id) == b"%PDF"

    live = await bot.send_location(user["id"], 50.45, 30.52, live_period=600)
    moved = await bot.edit_message_live_location(
        50.46, 30.53, chat_id=user["id"], message_id=live.message_id
    )
    assert isinstance(moved, Message) and moved.location is not None
    assert (moved.location.latitude, moved.location.live_period) == (50.46, 600)
    stopped = await bot.stop_message_live_location(chat_id=user["id"], message_id=live.message_id)
    assert isinstance(stopped, Message) and stopped.location is not None
    assert stopped.location.live_period is None
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_live_location(
            50.47, 30.54, chat_id=user["id"], message_id=live.message_id
        )

    poll = await bot.send_poll(user["id"], "Rate us", ["good", "bad"])
    closed = await bot.stop_poll(user["id"], poll.message_id)
    assert isinstance(closed, Poll) and closed.is_closed
    with pytest.raises(TelegramBadRequest, match="poll has already been closed"):
        await bot.stop_poll(user["id"], poll.message_id)
    assert_valid_world(fake)
    assert [c.method for c in fake.operations(group)] == [
        "createForumTopic",
        "sendMessage",
        "pinChatMessage",
        "unpinAllForumTopicMessages",
        "editGeneralForumTopic",
        "closeGeneralForumTopic",
        "reopenGeneralForumTopic",
    ]
    assert [c.method for c in fake.operations(user["id"])] == [
        "sendPhoto",
        "editMessageMedia",
        "sendLocation",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "sendPoll",
        "stopPoll",
    ]


# ---------------------------------------------------------------------- outages


async def test_outage_answers_with_nginx_html(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    document = fake.document()
    stored = await bot.get_file(document["file_id"])
    fake.outage()
    with pytest.raises(ClientDecodeError) as decode:
        await bot.send_message(user["id"], "lost")
    assert decode.value.data == NGINX_502
    async with ClientSession() as http:
        async with http.post(f"{fake.url}/bot{fake.token}/getMe") as answer:
            assert (answer.status, answer.reason) == (502, "Bad Gateway")
            assert answer.headers["Content-Type"] == "text/html"
            assert answer.headers["Server"] == "nginx"
            assert await answer.text() == NGINX_502
        async with http.post(f"{fake.url}/bot999:wrong/getMe") as answer:
            assert answer.status == 502  # the front answers before any token check
        file_url = f"{fake.url}/file/bot{fake.token}/{stored.file_path}"
        async with http.get(file_url) as answer:
            assert (answer.status, await answer.text()) == (502, NGINX_502)
    assert fake.sent_by_bot(user["id"]) == []  # nothing performed
    assert [c.method for c in fake.calls][-3:] == ["sendMessage", "getMe", "getMe"]
    assert not any(c.performed for c in fake.calls[-3:])
    assert fake.operation_count(user["id"]) == 0
    fake.end_outage()
    assert (await bot.send_message(user["id"], "back")).text == "back"
    downloaded = await bot.download(document["file_id"])
    assert downloaded is not None and downloaded.read() == fake.file_data(document["file_id"])


async def test_outage_variants(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.outage(504)
    with pytest.raises(ClientDecodeError) as decode:
        await bot.get_me()
    assert decode.value.data == NGINX_504

    fake.outage(html=False)  # replaces the 504 one
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(user["id"], "lost")
    async with ClientSession() as http, http.post(f"{fake.url}/bot{fake.token}/getMe") as answer:
        assert (answer.status, answer.content_type) == (502, "application/json")
        body = await answer.json()
    assert body == {"ok": False, "error_code": 502, "description": "Bad Gateway"}

    document = fake.document()
    fake.outage(methods=["SendMessage", "file"])
    assert (await bot.get_me()).id == fake.bot_id
    with pytest.raises(ClientDecodeError):
        await bot.send_message(user["id"], "lost")
    with pytest.raises(ClientResponseError) as download:
        await bot.download(document["file_id"])  # getFile works, the file server does not
    assert download.value.status == 502

    fake.outage(methods=["sendMessage"])  # downloads are not named: they work
    downloaded = await bot.download(document["file_id"])
    assert downloaded is not None and downloaded.read() == fake.file_data(document["file_id"])
    fake.end_outage()
    assert (await bot.send_message(user["id"], "back")).text == "back"
    assert [m["text"] for m in fake.sent_by_bot(user["id"])] == ["back"]


# ---------------------------------------------------------------------- the file server


async def test_large_files_held_and_cut_downloads(fake: FakeTelegram, bot: Bot) -> None:
    """A 19 MB file downloads whole and is counted; a held download sends its first bytes and
    waits; a cut one drops the connection short of its Content-Length; getFile refuses a file
    over 20 MB with Telegram's words."""
    big = bytes(range(256)) * (19 * 4096)  # 19 MiB
    document = fake.document("big.bin", big, "application/octet-stream")
    file_id = document["file_id"]
    stored = await bot.get_file(file_id)
    url = f"{fake.url}/file/bot{fake.token}/{stored.file_path}"
    async with ClientSession() as http:
        async with http.get(url) as answer:
            assert (answer.content_length, await answer.read()) == (len(big), big)
        assert fake.downloads_of(file_id) == 1

        fake.hold_downloads(after_bytes=1024 * 1024)
        async with http.get(url) as answer:
            assert answer.content_length == len(big)
            head = await answer.content.readexactly(1024 * 1024)
            assert head == big[: 1024 * 1024]
            fake.release_downloads()
            assert head + await answer.content.read() == big
        assert fake.downloads_of(file_id) == 2

        fake.cut_downloads(after_bytes=100_000)
        async with http.get(url) as answer:
            assert answer.content_length == len(big)
            with pytest.raises(ClientPayloadError):
                await answer.read()
        async with http.get(url) as answer:  # one cut only
            assert await answer.read() == big
        assert fake.downloads_of(file_id) == 4

    fake.files[file_id].data = big + bytes(2 * 1024 * 1024)  # now 21 MiB
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(file_id)


async def test_fail_with_an_html_page(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ivan")
    fake.fail("sendMessage", 502, "Bad Gateway", html=True)
    fake.fail("getMe", 504, "Gateway Timeout", html=True, times=2)
    with pytest.raises(ClientDecodeError) as decode:
        await bot.send_message(user["id"], "lost")
    assert decode.value.data == NGINX_502
    for _ in range(2):
        with pytest.raises(ClientDecodeError) as decode:
            await bot.get_me()
        assert decode.value.data == NGINX_504
    assert (await bot.get_me()).id == fake.bot_id
    assert (await bot.send_message(user["id"], "sent")).text == "sent"
    assert [m["text"] for m in fake.sent_by_bot(user["id"])] == ["sent"]


# ---------------------------------------------------------------------- webhook redelivery


async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    """A webhook server on a free port; returns its runner (to clean up) and URL."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/hook"


async def test_redelivery_until_the_webhook_accepts(fake: FakeTelegram, bot: Bot) -> None:
    answers = [500, 502, 200, 200]
    received: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((await request.json())["update_id"])
        return web.Response(status=answers.pop(0), text="")

    runner, url = await serve(handler)
    try:
        await bot.set_webhook(url)
        user = fake.add_user("Ivan")
        first, second = (fake.customer_message(user, text=t) for t in ("one", "two"))
        assert await fake.deliver_until_accepted(first) == 3
        assert await fake.deliver_until_accepted(second) == 1
        assert received == [first["update_id"]] * 3 + [second["update_id"]]
    finally:
        await runner.cleanup()


async def test_redelivery_after_connection_errors(fake: FakeTelegram, bot: Bot) -> None:
    """A webhook that drops the connection is retried like one that answers an error."""
    bodies: list[JSON] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections > 2:
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            assert length is not None
            bodies.append(json.loads(await reader.readexactly(int(length[1]))))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()  # the first two are dropped without an answer

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        update = fake.customer_message(fake.add_user("Ivan"), text="hello")
        assert await fake.deliver_until_accepted(update) == 3
        assert [b["update_id"] for b in bodies] == [update["update_id"]]
    finally:
        server.close()
        await server.wait_closed()


async def test_redelivery_gives_up_after_the_timeout(fake: FakeTelegram, bot: Bot) -> None:
    received: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((await request.json())["update_id"])
        return web.Response(status=503, text="down")

    runner, url = await serve(handler)
    try:
        await bot.set_webhook(url)
        update = fake.customer_message(fake.add_user("Ivan"), text="hello")
        with pytest.raises(AssertionError, match="last: HTTP 503"):
            await fake.deliver_until_accepted(update, timeout=0.3)
        assert len(received) >= 2
        assert set(received) == {update["update_id"]}
    finally:
        await runner.cleanup()


async def test_redelivery_in_polling_mode_queues_once(fake: FakeTelegram, bot: Bot) -> None:
    update = fake.customer_message(fake.add_user("Ivan"), text="hello")
    assert await fake.deliver_until_accepted(update) == 1
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update["update_id"]]


async def test_groups_have_their_own_topics_and_thread_ids(fake: FakeTelegram, bot: Bot) -> None:
    main, sales = fake.operator_chat_id, fake.add_group("Sales operators")
    assert sales not in (main, *fake.users)
    user = fake.add_user("Ivan")
    in_main = await bot.create_forum_topic(main, "Ivan · main")
    in_sales = await bot.create_forum_topic(sales, "Ivan · sales")
    # a thread id is the topic's first message id in its own group: both are 101
    assert in_main.message_thread_id == in_sales.message_thread_id == 101
    assert fake.topics[101].name == "Ivan · main"  # ``topics`` is still the main group's
    assert fake.topics_of(main) is fake.topics
    assert fake.topics_of(sales)[101].name == "Ivan · sales"

    to_main = await bot.send_message(main, "hello main", message_thread_id=101)
    to_sales = await bot.send_message(sales, "hello sales", message_thread_id=101)
    assert (to_main.chat.id, to_sales.chat.id) == (main, sales)
    assert to_sales.chat.title == "Sales operators" and to_sales.chat.is_forum
    assert to_sales.reply_to_message is not None
    assert to_sales.reply_to_message.forum_topic_created is not None
    assert to_sales.reply_to_message.forum_topic_created.name == "Ivan · sales"
    assert [m["text"] for m in fake.sent_by_bot(main, 101)] == ["hello main"]
    assert [m["text"] for m in fake.sent_by_bot(sales, 101)] == ["hello sales"]
    reply = fake.operator_message(fake.owner, 101, group=sales, text="sales answers")
    assert reply["message"]["chat"]["id"] == sales
    assert [m.get("text") for m in fake.topic_messages(101, group=sales)] == [
        "hello sales",
        "sales answers",
    ]
    assert [m.get("text") for m in fake.topic_messages(101)] == ["hello main"]
    photo = fake.customer_message(user, photo=fake.photo())["message"]["message_id"]
    copied = await bot.copy_message(sales, user["id"], photo, message_thread_id=101)
    assert fake.message(sales, copied.message_id)["message_thread_id"] == 101

    # a button pressed in the second group, and the bot's writes there
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Close", callback_data="close")]]
    )
    card = await bot.send_message(sales, "card", message_thread_id=101, reply_markup=markup)
    press = fake.callback_query(fake.owner, fake.message(sales, card.message_id), "close")
    query = Update.model_validate(press).callback_query
    assert query is not None and query.message is not None
    assert (query.message.chat.id, query.message.message_id) == (sales, card.message_id)
    assert await bot.answer_callback_query(query.id, "closing")
    await bot.edit_message_text("card (closed)", chat_id=sales, message_id=card.message_id)
    await bot.set_message_reaction(sales, card.message_id, [ReactionTypeEmoji(emoji="👍")])
    assert await bot.pin_chat_message(sales, card.message_id)
    assert fake.pinned[sales] == [card.message_id] and main not in fake.pinned
    assert await bot.unpin_all_forum_topic_messages(sales, 101)
    assert fake.pinned[sales] == []

    # closing, editing, deleting one group's thread 101 leaves the other's alone
    await bot.close_forum_topic(main, 101)
    assert fake.topics[101].closed and not fake.topics_of(sales)[101].closed
    await bot.reopen_forum_topic(main, 101)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(sales, 101)
    await bot.edit_forum_topic(sales, 101, name="Ivan · sales · VIP")
    assert fake.topics[101].name == "Ivan · main"
    fake.service_message(101, group=sales, forum_topic_closed={})
    assert fake.topics_of(sales)[101].closed and not fake.topics[101].closed
    await bot.delete_forum_topic(main, 101)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(main, "gone", message_thread_id=101)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(main, 101)
    with pytest.raises(ValueError, match="does not exist or was deleted"):
        fake.operator_message(fake.owner, 101, text="gone")
    assert fake.topic_messages(101) == []
    still = await bot.send_message(sales, "still here", message_thread_id=101)
    assert fake.message(sales, still.message_id)["message_thread_id"] == 101
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(sales, "no such topic", message_thread_id=777)

    # topics made by people and the General topic are per group too
    human = fake.create_topic("Walk-in", group=sales)
    assert human.thread_id in fake.topics_of(sales) and human.thread_id not in fake.topics
    fake.delete_topic(human.thread_id, group=sales)
    assert fake.topics_of(sales)[human.thread_id].deleted
    assert await bot.close_general_forum_topic(sales)
    assert fake.groups[sales].general_closed and not fake.general_closed
    assert_valid_world(fake)


async def test_groups_have_their_own_members_and_settings(fake: FakeTelegram, bot: Bot) -> None:
    main = fake.operator_chat_id
    sales = fake.add_group("Sales operators", chat_id=-1009876543210)
    assert sales == -1009876543210
    with pytest.raises(ValueError, match="already exists"):
        fake.add_group("Again", chat_id=sales)
    plain = fake.add_group("Not a forum", is_forum=False)

    chats = [await bot.get_chat(chat_id) for chat_id in (main, sales, plain)]
    assert [(c.id, c.type, c.title, c.is_forum) for c in chats] == [
        (main, "supergroup", "Support operators", True),
        (sales, "supergroup", "Sales operators", True),
        (plain, "supergroup", "Not a forum", None),
    ]
    fake.groups[sales].username = "sales_team"
    fake.groups[sales].join_by_request = True
    chat = await bot.get_chat(sales)
    assert (chat.username, chat.join_by_request) == ("sales_team", True)
    chat = await bot.get_chat(main)
    assert (chat.username, chat.join_by_request) == (None, None)

    # the owner created every group; a user is a member unless told otherwise, per group
    ivan = fake.add_user("Ivan")
    fake.set_member_status(ivan["id"], "left", group=sales)
    assert (await bot.get_chat_member(main, ivan["id"])).status == "member"
    assert (await bot.get_chat_member(sales, ivan["id"])).status == "left"
    assert (await bot.get_chat_member(sales, fake.owner["id"])).status == "creator"
    fake.set_member_status(ivan["id"], "administrator")  # in the main group only
    main_admins = {m.user.id for m in await bot.get_chat_administrators(main)}
    sales_admins = {m.user.id for m in await bot.get_chat_administrators(sales)}
    assert main_admins == {fake.owner["id"], fake.bot_id, ivan["id"]}
    assert sales_admins == {fake.owner["id"], fake.bot_id}

    # the bot's rights are per group
    fake.groups[sales].bot_can_manage_topics = False
    member = await bot.get_chat_member(sales, fake.bot_id)
    assert (member.status, member.can_manage_topics) == ("administrator", False)
    assert (await bot.get_chat_member(main, fake.bot_id)).can_manage_topics is True
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(sales, "Ivan")
    await bot.create_forum_topic(main, "Ivan")
    fake.groups[sales].bot_status = "kicked"
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(sales, "hi")
    await bot.send_message(main, "hi")

    # a group that is not a forum has no topics, with Telegram's errors
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain, "Ivan")
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(plain, "hi", message_thread_id=101)
    sent = await bot.send_message(plain, "hi")
    assert sent.message_id == 101 and sent.chat.title == "Not a forum"
    with pytest.raises(ValueError, match="not a forum"):
        fake.create_topic("Walk-in", group=plain)
    with pytest.raises(KeyError, match="not an operator group"):
        fake.topics_of(ivan["id"])
    assert_valid_world(fake)


async def test_flood_windows_are_per_group(fake: FakeTelegram, bot: Bot) -> None:
    main, sales = fake.operator_chat_id, fake.add_group("Sales operators")
    fake.freeze_clock()
    fake.rate_limits(group_per_minute=2)
    for chat_id in (main, sales):
        topic = await bot.create_forum_topic(chat_id, "Ivan")
        await bot.send_message(chat_id, "one", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(main, "two")
    assert retry.value.retry_after == 60
    fake.advance_clock(30)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(sales, "two")
    third = fake.add_group("Claims operators")
    await bot.send_message(third, "its own budget")  # the other two are full
    fake.advance_clock(30)
    await bot.send_message(main, "two")
    await bot.send_message(sales, "two")
    assert [fake.operation_count(chat_id) for chat_id in (main, sales, third)] == [3, 3, 1]
    assert [c.chat_id for c in fake.operations(sales)] == [sales] * 3
    assert [c.params["chat_id"] for c in fake.flood_refusals] == [main, sales]
