"""Proves the fake Viber REST API speaks real Viber, using viberbot's own classes as the judge.

Payloads are built with viberbot's message classes (and its MessageSender payload builder),
callbacks are checked with ``viberbot.Api.verify_signature`` and ``Api.parse_request``.  If
those agree with the fake, the app's end-to-end tests can trust it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientSession, web
from viberbot import Api
from viberbot.api.bot_configuration import BotConfiguration
from viberbot.api.message_sender import MessageSender
from viberbot.api.messages import (
    ContactMessage,
    FileMessage,
    KeyboardMessage,
    LocationMessage,
    PictureMessage,
    StickerMessage,
    TextMessage,
    URLMessage,
    VideoMessage,
)
from viberbot.api.messages.data_types.contact import Contact
from viberbot.api.messages.data_types.location import Location
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

try:
    from standins.viber import MEDIA_FAILED_DESC, SIGNATURE_HEADER, STATUS_MESSAGES, FakeViber
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from fake_viber import (  # type: ignore[no-redef]
        MEDIA_FAILED_DESC,
        SIGNATURE_HEADER,
        STATUS_MESSAGES,
        FakeViber,
    )

JSON = dict[str, Any]
BOT_NAME = "Support"
# nginx's page for a gateway failure, byte for byte.
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
KEYBOARD: JSON = {
    "Type": "keyboard",
    "DefaultHeight": False,
    "Buttons": [
        {"ActionType": "reply", "ActionBody": "menu:help", "Text": "Help", "Columns": 3},
        {"ActionType": "open-url", "ActionBody": "https://example.com", "Text": "Site"},
    ],
}


@dataclass
class Hook:
    """A tiny webhook server standing in for the app: records callbacks, answers as told."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200
    reply: str = ""
    set_webhook_answered: bool = False
    answered_at_callback: list[bool] = field(default_factory=list)


@pytest.fixture
async def fake() -> AsyncIterator[FakeViber]:
    viber = FakeViber()
    await viber.start()
    yield viber
    await viber.stop()
    assert not viber.server_errors, viber.server_errors


@pytest.fixture
async def client() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    state = Hook()

    async def handle(request: web.Request) -> web.Response:
        state.received.append((dict(request.headers), await request.read()))
        state.answered_at_callback.append(state.set_webhook_answered)
        return web.Response(status=state.status, text=state.reply, content_type="application/json")

    app = web.Application()
    app.router.add_post("/viber", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}/viber"
    yield state
    await runner.cleanup()


def viber_api(fake: FakeViber, token: str | None = None) -> Api:
    return Api(BotConfiguration(auth_token=token or fake.auth_token, name=BOT_NAME, avatar=None))


def payload(fake: FakeViber, receiver: str, message: Any) -> JSON:
    """The exact send_message body viberbot would POST (auth_token in the body)."""
    sender = MessageSender(
        logging.getLogger("test"), None, BotConfiguration(fake.auth_token, BOT_NAME, None)
    )
    body: JSON = sender._prepare_payload(
        message=message, receiver=receiver, sender_name=BOT_NAME, sender_avatar=None
    )
    return body


async def post(
    client: ClientSession, fake: FakeViber, path: str, body: JSON | bytes, token: str | None = ""
) -> JSON:
    """POST like the bridge: JSON body, token in X-Viber-Auth-Token (None = no header)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Viber-Auth-Token"] = token or fake.auth_token
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with client.post(f"{fake.url}/{path}", data=data, headers=headers) as response:
        assert response.status == 200
        answer: JSON = await response.json()
        return answer


def text_body(receiver: str, text: str = "Вітаємо!", **extra: Any) -> JSON:
    return {
        "receiver": receiver,
        "sender": {"name": BOT_NAME},
        "type": "text",
        "text": text,
        **extra,
    }


# ---------------------------------------------------------------------- set_webhook


async def test_set_webhook_calls_back_signed_before_answering(
    fake: FakeViber, client: ClientSession, hook: Hook
) -> None:
    answer = await post(
        client,
        fake,
        "set_webhook",
        {"url": hook.url, "event_types": ["delivered", "failed"], "send_name": True},
    )
    hook.set_webhook_answered = True
    assert answer == {
        "status": 0,
        "status_message": "ok",
        "event_types": ["delivered", "failed", "subscribed", "unsubscribed"],
    }
    assert hook.answered_at_callback == [False]  # the callback came while set_webhook waited
    assert fake.webhook_url == hook.url
    assert fake.event_types == ["delivered", "failed", "subscribed", "unsubscribed"]
    headers, body = hook.received[0]
    api = viber_api(fake)
    assert api.verify_signature(body, headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert event["event"] == "webhook" and event["chat_hostname"] == "SN-CHAT-01_"
    assert isinstance(event["message_token"], int) and event["timestamp"] > 10**12
    assert api.parse_request(body).event_type == "webhook"


async def test_set_webhook_rejects_a_url_that_does_not_answer_200(
    fake: FakeViber, client: ClientSession, hook: Hook
) -> None:
    hook.status = 500
    answer = await post(client, fake, "set_webhook", {"url": hook.url})
    assert answer == {"status": 1, "status_message": "invalidUrl"}
    assert len(hook.received) == 1
    closed = hook.url.replace("/viber", "/nowhere")  # 404 from the same server
    assert (await post(client, fake, "set_webhook", {"url": closed}))["status"] == 1
    assert fake.webhook_url is None
    bad_events = await post(client, fake, "set_webhook", {"url": hook.url, "event_types": ["x"]})
    assert bad_events["status"] == 3


async def test_auth_token_header_body_and_errors(fake: FakeViber, client: ClientSession) -> None:
    user = fake.add_user("Taras")
    wrong = await post(client, fake, "send_message", text_body(user["id"]), token="nope")
    assert wrong == {"status": 2, "status_message": "invalidAuthToken"}
    missing = await post(client, fake, "send_message", text_body(user["id"]), token=None)
    assert missing == {"status": 2, "status_message": "missing_auth_token"}
    # viberbot puts auth_token in the body
    in_body = payload(fake, user["id"], TextMessage(text="hi"))
    assert (await post(client, fake, "send_message", in_body, token=None))["status"] == 0
    assert [c.path for c in fake.calls] == ["send_message"] * 3
    info = await post(client, fake, "get_account_info", {})
    assert info["status"] == 0 and info["subscribers_count"] == 1
    details = await post(client, fake, "get_user_details", {"id": user["id"]})
    assert details["user"]["id"] == user["id"] and details["user"]["name"] == "Taras"
    assert (await post(client, fake, "get_user_details", {"id": "nobody=="}))["status"] == 5


# ---------------------------------------------------------------------- send_message


async def test_send_text_with_keyboard(fake: FakeViber, client: ClientSession) -> None:
    user = fake.add_user("Оксана")
    message = TextMessage(text="Оберіть дію", keyboard=KEYBOARD, tracking_data="t1")
    answer = await post(client, fake, "send_message", payload(fake, user["id"], message))
    assert answer["status"] == 0 and answer["status_message"] == "ok"
    assert isinstance(answer["message_token"], int)
    assert answer["chat_hostname"] == "SN-CHAT-01_"
    keyboard_only = payload(fake, user["id"], KeyboardMessage(keyboard=KEYBOARD))
    assert (await post(client, fake, "send_message", keyboard_only))["status"] == 0
    got = fake.received(user["id"])
    assert [m.get("text") for m in got] == ["Оберіть дію", None]
    assert got[0]["message_token"] == answer["message_token"]
    assert got[0]["keyboard"] == KEYBOARD and got[0]["tracking_data"] == "t1"
    assert "auth_token" not in got[0]
    assert fake.calls_to("send_message")[0]["text"] == "Оберіть дію"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sender": {}}, "sender.name is required"),
        ({"sender": {"name": "x" * 29}}, "sender.name is 29 characters"),
        ({"text": ""}, "text must not be empty"),
        ({"text": "x" * 7001}, "text is 7001 characters"),
        ({"type": "voice"}, "type 'voice' is not one of"),
        ({"tracking_data": "x" * 4001}, "tracking_data is 4001"),
        ({"keyboard": {"Type": "keyboard", "Buttons": []}}, "keyboard.Buttons"),
        ({"keyboard": {"Type": "keyboard", "Buttons": [{"Text": "a"}]}}, "ActionBody"),
        ({"keyboard": {"Buttons": [{"ActionBody": "a"}]}}, 'keyboard.Type must be "keyboard"'),
        ({"type": "picture", "text": "", "media": None}, "media must be an http(s) URL"),
        ({"type": "picture", "media": "http://x.test/a.jpg", "text": "x" * 513}, "text is 513"),
        ({"type": "file", "media": "http://x.test/a.pdf", "size": 10}, "file_name is required"),
        ({"type": "video", "media": "http://x.test/a.mp4"}, "size is required"),
        ({"type": "location", "location": {"lat": 91, "lon": 0}}, "location.lat"),
        ({"type": "contact", "contact": {"name": "A"}}, "contact.phone_number is required"),
        ({"type": "sticker", "sticker_id": "40133"}, "sticker_id"),
        ({"type": "url", "media": "not a url"}, "media must be an http(s) URL"),
    ],
)
async def test_payload_validation(
    fake: FakeViber, client: ClientSession, change: JSON, expected: str
) -> None:
    user = fake.add_user("Ivan")
    body = {**text_body(user["id"]), **change}
    answer = await post(client, fake, "send_message", body)
    assert answer["status"] == 3, answer
    assert answer["status_message"].startswith("badData: ")
    assert expected in answer["status_message"]
    assert fake.received(user["id"]) == []


async def test_limits_boundaries_and_body_size(fake: FakeViber, client: ClientSession) -> None:
    user = fake.add_user("Ivan")
    ok = text_body(user["id"], "x" * 7000, sender={"name": "y" * 28})
    assert (await post(client, fake, "send_message", ok))["status"] == 0
    huge = text_body(user["id"], "x" * 7000, tracking_data="z" * 4000, pad="p" * 20_000)
    answer = await post(client, fake, "send_message", huge)
    assert answer["status"] == 3 and "30KB" in answer["status_message"]
    not_json = await post(client, fake, "send_message", b"{not json")
    assert not_json["status"] == 3


async def test_receivers_and_subscription(fake: FakeViber, client: ClientSession) -> None:
    unknown = await post(client, fake, "send_message", text_body("AAAAAAAAAAAAAAAAAAAAAA=="))
    assert unknown["status"] == 5 and unknown["status_message"] == "receiverNotRegistered"
    user = fake.add_user("Petro", subscribed=False)
    assert len(user["id"]) == 24 and user["id"].endswith("==")
    answer = await post(client, fake, "send_message", text_body(user["id"]))
    assert answer["status"] == 6 and answer["status_message"] == "receiverNotSubscribed"
    fake.subscribe(user["id"])
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 0
    fake.unsubscribe(user["id"])
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 6


async def test_injected_failures(fake: FakeViber, client: ClientSession) -> None:
    user = fake.add_user("Petro")
    fake.fail(12, "tooManyRequests", times=2)
    fake.fail(6, "receiverNotSubscribed", when=lambda body: body.get("text") == "second")
    first = await post(client, fake, "send_message", text_body(user["id"], "first"))
    assert first["status"] == 12 and first["status_message"] == "tooManyRequests"
    assert isinstance(first["message_token"], int)
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 12
    # a malformed payload is still badData, and does not use up an injected failure
    assert (await post(client, fake, "send_message", text_body(user["id"], "")))["status"] == 3
    assert (await post(client, fake, "send_message", text_body(user["id"], "x")))["status"] == 0
    assert (await post(client, fake, "send_message", text_body(user["id"], "second")))[
        "status"
    ] == 6
    assert (await post(client, fake, "send_message", text_body(user["id"], "second")))[
        "status"
    ] == 0
    assert [m["text"] for m in fake.received(user["id"])] == ["x", "second"]


# ---------------------------------------------------------------------- media


async def test_hosted_media_is_served_and_fetched(fake: FakeViber, client: ClientSession) -> None:
    user = fake.add_user("Olha")
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg"
    url = fake.host_media(jpeg, "image/jpeg", "photo.jpg")
    async with client.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Content-Length"] == str(len(jpeg))
        assert await response.read() == jpeg
    message = PictureMessage(media=url, text="Фото")
    answer = await post(client, fake, "send_message", payload(fake, user["id"], message))
    assert answer["status"] == 0
    pdf = fake.host_media(b"%PDF-1.4", "application/pdf", "a.pdf")
    doc = FileMessage(media=pdf, size=8, file_name="a.pdf")
    assert (await post(client, fake, "send_message", payload(fake, user["id"], doc)))["status"] == 0
    video = VideoMessage(media=fake.host_media(b"mp4", "video/mp4", "v.mp4"), size=3, duration=2)
    assert (await post(client, fake, "send_message", payload(fake, user["id"], video)))[
        "status"
    ] == 0
    picture, file, clip = fake.received(user["id"])
    assert picture["fetched"] == {"status": 200, "content_type": "image/jpeg", "data": jpeg}
    assert picture["text"] == "Фото" and "failed" not in picture
    assert file["fetched"]["data"] == b"%PDF-1.4" and file["file_name"] == "a.pdf"
    assert clip["fetched"]["content_type"] == "video/mp4"
    assert len(fake.downloads) == 4


async def test_failed_media_download_sends_failed_callback(
    fake: FakeViber, client: ClientSession, hook: Hook
) -> None:
    assert (await post(client, fake, "set_webhook", {"url": hook.url}))["status"] == 0
    user = fake.add_user("Olha")
    broken = fake.host_media(b"", "image/jpeg", "gone.jpg", status=404)
    message = PictureMessage(media=broken)
    answer = await post(client, fake, "send_message", payload(fake, user["id"], message))
    assert answer["status"] == 0
    token = answer["message_token"]
    await fake.wait_for(lambda: len(hook.received) == 2)
    headers, body = hook.received[1]
    api = viber_api(fake)
    assert api.verify_signature(body, headers[SIGNATURE_HEADER])
    failed = api.parse_request(body)
    assert isinstance(failed, ViberFailedRequest)
    assert failed.message_token == token and failed.user_id == user["id"]
    assert failed.desc == MEDIA_FAILED_DESC
    (record,) = fake.received(user["id"])
    assert record["failed"] == MEDIA_FAILED_DESC and record["fetched"]["status"] == 404


# ---------------------------------------------------------------------- callbacks


async def test_callbacks_parse_with_viberbot(fake: FakeViber, hook: Hook) -> None:
    api = viber_api(fake)
    user = fake.add_user("Marta", avatar="https://media-direct.cdn.viber.com/a.jpg")
    media = fake.host_media(b"\xff\xd8jpeg", "image/jpeg", "p.jpg")
    cases: list[tuple[JSON, type, type | None]] = [
        (fake.message_event(user, fake.text("Добрий день")), ViberMessageRequest, TextMessage),
        (fake.message_event(user, fake.picture(media, "caption")), ViberMessageRequest, None),
        (fake.message_event(user, fake.video(media)), ViberMessageRequest, VideoMessage),
        (fake.message_event(user, fake.file(media, "a.pdf", 10)), ViberMessageRequest, None),
        (fake.message_event(user, fake.sticker()), ViberMessageRequest, StickerMessage),
        (fake.message_event(user, fake.location(50.45, 30.52)), ViberMessageRequest, None),
        (fake.message_event(user, fake.contact("Ann", "+380501234567")), ViberMessageRequest, None),
        (fake.message_event(user, fake.url_message("https://x.test")), ViberMessageRequest, None),
        (fake.conversation_started(user, context="ad"), ViberConversationStartedRequest, None),
        (fake.subscribed_event(user), ViberSubscribedRequest, None),
        (fake.unsubscribed_event(user["id"]), ViberUnsubscribedRequest, None),
        (fake.delivered(user["id"], 123), ViberDeliveredRequest, None),
        (fake.seen(user["id"], 123), ViberSeenRequest, None),
        (fake.failed(user["id"], 123), ViberFailedRequest, None),
    ]
    for event, request_class, message_class in cases:
        status, _ = await fake.send_callback(event, url=hook.url)
        assert status == 200
        headers, body = hook.received[-1]
        assert api.verify_signature(body, headers[SIGNATURE_HEADER])
        parsed = api.parse_request(body)
        assert isinstance(parsed, request_class), event
        assert isinstance(event["message_token"], int) and event["timestamp"] > 10**12
        if message_class is not None:
            assert isinstance(getattr(parsed, "message", None), message_class)
    message = api.parse_request(hook.received[0][1])
    assert message.sender.id == user["id"] and message.message.text == "Добрий день"
    assert isinstance(api.parse_request(hook.received[1][1]).message, PictureMessage)
    assert isinstance(api.parse_request(hook.received[3][1]).message, FileMessage)
    location = api.parse_request(hook.received[5][1]).message
    assert isinstance(location, LocationMessage) and location.location.latitude == 50.45
    contact = api.parse_request(hook.received[6][1]).message
    assert isinstance(contact, ContactMessage) and contact.contact.phone_number == "+380501234567"
    assert isinstance(api.parse_request(hook.received[7][1]).message, URLMessage)
    started = api.parse_request(hook.received[8][1])
    assert started.context == "ad" and started.subscribed is False and started.type == "open"


async def test_signature_variants(fake: FakeViber, hook: Hook) -> None:
    api = viber_api(fake)
    user = fake.add_user("Marta")
    await fake.send_callback(fake.delivered(user["id"], 1), url=hook.url, signature=None)
    assert SIGNATURE_HEADER not in hook.received[-1][0]
    await fake.send_callback(fake.seen(user["id"], 1), url=hook.url, signature="deadbeef")
    headers, body = hook.received[-1]
    assert headers[SIGNATURE_HEADER] == "deadbeef"
    assert not api.verify_signature(body, "deadbeef")
    raw = b'{"event":"seen","timestamp":1,"message_token":1,"user_id":"x"}'
    await fake.send_callback(raw, url=hook.url)
    headers, body = hook.received[-1]
    assert body == raw and api.verify_signature(raw, headers[SIGNATURE_HEADER])
    assert not viber_api(fake, "other-token").verify_signature(raw, headers[SIGNATURE_HEADER])


async def test_conversation_started_welcome_and_subscription(
    fake: FakeViber, client: ClientSession, hook: Hook
) -> None:
    assert (await post(client, fake, "set_webhook", {"url": hook.url}))["status"] == 0
    user = fake.add_user("Nadia", subscribed=False)
    hook.reply = json.dumps(
        {"sender": {"name": BOT_NAME}, "type": "text", "text": "Вітаємо! Напишіть нам."},
        ensure_ascii=False,
    )
    status, text = await fake.send_callback(fake.conversation_started(user))
    assert status == 200 and "Вітаємо" in text
    (welcome,) = fake.received(user["id"])
    assert welcome["welcome"] is True and welcome["text"] == "Вітаємо! Напишіть нам."
    # only the inline welcome reaches a user who has not subscribed
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 6
    hook.reply = ""
    await fake.send_callback(fake.message_event(user, fake.text("hello")))
    assert fake.is_subscribed(user["id"])  # the first message subscribes
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 0
    await fake.send_callback(fake.unsubscribed_event(user["id"]))
    assert (await post(client, fake, "send_message", text_body(user["id"])))["status"] == 6
    hook.reply = json.dumps({"type": "text", "text": "no sender"})
    await fake.send_callback(fake.conversation_started(user))
    assert fake.welcome_errors and "sender" in fake.welcome_errors[0]


async def test_wait_for_times_out_with_a_dump(fake: FakeViber, client: ClientSession) -> None:
    await post(client, fake, "get_account_info", {})
    with pytest.raises(AssertionError, match="get_account_info"):
        await fake.wait_for(lambda: False, timeout=0.05)


async def test_viberbot_message_classes_are_accepted(
    fake: FakeViber, client: ClientSession
) -> None:
    user = fake.add_user("Roman")
    messages = [
        LocationMessage(location=Location(lat=50.45, lon=30.52)),
        ContactMessage(contact=Contact(name="Ann", phone_number="+380501234567")),
        StickerMessage(sticker_id=40133),
        URLMessage(media="https://example.com/page"),
    ]
    for message in messages:
        answer = await post(client, fake, "send_message", payload(fake, user["id"], message))
        assert answer["status"] == 0, answer
    assert [m["type"] for m in fake.received(user["id"])] == [
        "location",
        "contact",
        "sticker",
        "url",
    ]


# ---------------------------------------------------------------------- account problems, outages


async def test_status_names_follow_the_error_code_table(
    fake: FakeViber, client: ClientSession
) -> None:
    assert [STATUS_MESSAGES[n] for n in range(16, 25)] == [
        "inchatReplyMessageNotAllowed",
        "publicAccountIsNotInline",
        "noPublicChat",
        "cannotSendBroadcast",
        "broadcastNotAllowed",
        "unsupportedCountry",
        "paymentUnsupported",
        "freeMessagesExceeded",
        "noBalance",
    ]
    user = fake.add_user("Petro")
    fake.fail(21)
    answer = await post(client, fake, "send_message", text_body(user["id"]))
    assert (answer["status"], answer["status_message"]) == (21, "unsupportedCountry")
    fake.fail(99)  # outside the table
    answer = await post(client, fake, "send_message", text_body(user["id"]))
    assert (answer["status"], answer["status_message"]) == (99, "generalError")


async def test_account_problem_refuses_every_send_until_cleared(
    fake: FakeViber, client: ClientSession
) -> None:
    petro, olha = fake.add_user("Petro"), fake.add_user("Olha")
    fake.account_problem(23)
    for user in (petro, olha):
        answer = await post(client, fake, "send_message", text_body(user["id"]))
        assert (answer["status"], answer["status_message"]) == (23, "freeMessagesExceeded")
        assert isinstance(answer["message_token"], int)
        assert answer["chat_hostname"] == "SN-CHAT-01_"
    # a malformed payload is still badData; the account's other calls still work
    assert (await post(client, fake, "send_message", text_body(petro["id"], "")))["status"] == 3
    assert (await post(client, fake, "get_account_info", {}))["status"] == 0
    fake.account_problem(24)
    answer = await post(client, fake, "send_message", text_body(petro["id"]))
    assert (answer["status"], answer["status_message"]) == (24, "noBalance")
    assert fake.received(petro["id"]) == [] and fake.received(olha["id"]) == []
    fake.account_problem(None)
    assert (await post(client, fake, "send_message", text_body(petro["id"], "paid")))["status"] == 0
    assert [m["text"] for m in fake.received(petro["id"])] == ["paid"]
    assert len(fake.calls_to("send_message")) == 5  # refused calls are recorded too
    with pytest.raises(ValueError, match="status 0"):
        fake.account_problem(0)


async def test_outage_answers_with_nginx_html(
    fake: FakeViber, client: ClientSession, hook: Hook
) -> None:
    user = fake.add_user("Petro")
    assert (await post(client, fake, "set_webhook", {"url": hook.url}))["status"] == 0
    callbacks = len(hook.received)
    fake.outage()
    headers = {"X-Viber-Auth-Token": fake.auth_token}
    body = json.dumps(text_body(user["id"])).encode()
    async with client.post(f"{fake.url}/send_message", data=body, headers=headers) as response:
        assert (response.status, response.reason) == (502, "Bad Gateway")
        assert response.headers["Content-Type"] == "text/html"
        assert response.headers["Server"] == "nginx"
        assert await response.text() == NGINX_502
    webhook = json.dumps({"url": hook.url}).encode()
    async with client.post(f"{fake.url}/set_webhook", data=webhook, headers=headers) as response:
        assert response.status == 502
    async with client.post(f"{fake.url}/get_account_info", data=b"{}") as response:
        assert response.status == 502  # no auth check either: the front answers
    assert fake.received(user["id"]) == []
    assert len(hook.received) == callbacks  # set_webhook did not call back
    assert [c.path for c in fake.calls][-3:] == ["send_message", "set_webhook", "get_account_info"]

    fake.outage(503, html=False)
    async with client.post(f"{fake.url}/send_message", data=body, headers=headers) as response:
        assert response.status == 503
        assert await response.read() == b""
    fake.end_outage()
    assert (await post(client, fake, "send_message", text_body(user["id"], "back")))["status"] == 0
    assert [m["text"] for m in fake.received(user["id"])] == ["back"]


async def test_callbacks_carry_the_world_clock_and_can_be_dated() -> None:
    """Every callback is stamped in epoch milliseconds from the clock the fake was given (the
    one the app under test reads), and ``sent_at`` makes the same callback from another time."""
    from datetime import UTC, datetime, timedelta

    moment = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    viber = FakeViber(now=lambda: moment)
    user = viber.add_user("Clocked")
    event = viber.message_event(user, viber.text("hi"))
    assert event["timestamp"] == 1_795_514_400_000 == int(moment.timestamp() * 1000)
    assert viber.delivered(user["id"], 1)["timestamp"] == event["timestamp"]
    old = viber.sent_at(event, moment - timedelta(hours=2))
    assert old["timestamp"] == event["timestamp"] - 2 * 3600 * 1000
    assert {**old, "timestamp": event["timestamp"]} == event  # nothing else changed
    parsed = viber_api(viber).parse_request(json.dumps(old))
    assert parsed.timestamp == old["timestamp"]
