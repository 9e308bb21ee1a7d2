"""The demo's world: the stand-ins, the real bridge wired to them, and the people in it.

A Telegram customer, a Viber customer, a customer of the company's own Telegram account
(Telegram Business, connected at start) and one operator act through the stand-ins' own moves
(`customer_message`, `business_message`, `callback_query`, `operator_message`, Viber
callbacks), so every step goes over HTTP into the bridge as it would in production. Each
customer can be replaced by a new person, whose first message opens a new topic. What the page
shows is read back from the stand-ins (`bot.demo.view`).
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.config import Settings, load_settings
from bot.demo.clock import DemoClock
from bot.garbage_collection import settle_after_start
from bridge.departments import Departments
from bridge.errors import ConfigError
from bridge.faq.source import FaqSource
from bridge.working_hours import Schedule
from standins.telegram import FakeTelegram
from standins.viber import FakeViber

JSON = dict[str, Any]
# A token of the right shape that no Telegram server knows: the demo's stand-in accepts it.
DEMO_TOKEN = "100000001:support-bridge-demo-token-not-a-secret"  # noqa: S105
DEMO_VIBER_TOKEN = "demo-viber-auth-token-not-a-secret"  # noqa: S105
DEMO_GROUP = -1001000000001
TEXT_LIMIT = 4096
CHANNELS = ("telegram", "viber", "business")
# The people "New customer" brings, in turn: plausible names, so each topic reads like a real one.
NEW_NAMES = (
    ("Oksana", "Melnyk"),
    ("Andrii", "Bondarenko"),
    ("Nataliia", "Tkachenko"),
    ("Dmytro", "Kravchenko"),
    ("Yuliia", "Moroz"),
    ("Serhii", "Lysenko"),
    ("Halyna", "Savchenko"),
    ("Taras", "Rudenko"),
    ("Iryna", "Marchenko"),
    ("Bohdan", "Polishchuk"),
)


class DemoProblem(Exception):
    """A move the page asked for that makes no sense now (unknown chat, button or topic)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_settings(**overrides: Any) -> Settings:
    """The production settings (FAQ_FILE, TEXTS_DIR, WORKING_HOURS, DEPARTMENTS_FILE,
    SNIPPETS_FILE, ...) from the environment and .env, with the demo's own token, servers and
    database instead of any real ones."""
    values: JSON = {
        "telegram_bot_token": DEMO_TOKEN,
        "operator_chat_id": DEMO_GROUP,
        "telegram_api_url": "http://127.0.0.1:9",  # replaced once the stand-in listens
        "telegram_webhook_secret": None,
        "public_url": None,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "database_url": "sqlite+aiosqlite://",  # replaced by the demo's own file
        "redis_url": None,
        "viber_auth_token": None,
        # reminders come within seconds of moving the clock, not a quarter of a minute
        "sla_check_seconds": 2,
        **overrides,
    }
    settings = load_settings(Settings, **values)
    if settings.departments_file is None:
        return settings
    departments = Departments.load(
        settings.departments_file, FaqSource(settings.faq_file).catalog, settings.timezone
    )
    # the groups of the file's departments stand in; General's alerts go to the default one's
    values["operator_chat_id"] = departments.default.group
    return load_settings(Settings, **values)


def operator_groups(settings: Settings) -> dict[int, str]:
    """The operators' groups the stand-in must have, by chat id, with a title each."""
    if settings.departments_file is None:
        return {settings.operator_chat_id: "Support operators"}
    departments = Departments.load(
        settings.departments_file, FaqSource(settings.faq_file).catalog, settings.timezone
    )
    titles: dict[int, list[str]] = {settings.operator_chat_id: []}
    for department in departments.all:
        titles.setdefault(department.group, []).append(department.name.en)
    return {group: " · ".join(names) or "Support operators" for group, names in titles.items()}


@dataclass
class ViberEntry:
    """One line of the Viber customer's chat: what they sent, or a message the bot sent."""

    side: str  # "customer" or "bot"
    message: JSON
    label: str | None = None  # a pressed button's text, shown instead of its value


@dataclass
class People:
    telegram_customer: JSON
    viber_customer: JSON
    operator: JSON
    business_customer: JSON
    business: str  # the business account's connection id
    # callback query id -> "customer", "business" or "operator", for the answers as notices
    queries: dict[str, str] = field(default_factory=dict)
    newcomers: int = 0  # how many new customers came (the next name and language)

    def next_person(self) -> tuple[str, str, str]:
        """(first name, last name, language) of the next new customer: English first, then
        Ukrainian and English in turn."""
        first, last = NEW_NAMES[self.newcomers % len(NEW_NAMES)]
        language = "en" if self.newcomers % 2 == 0 else "uk"
        self.newcomers += 1
        return first, last, language


class DemoWorld:
    """Starts and stops everything; the moves a person makes on the page."""

    def __init__(self, workdir: Path, clock: DemoClock | None = None, **overrides: Any) -> None:
        """Reads the settings (a ConfigError says what is wrong); `overrides` are settings by
        name, as tests give them."""
        self.workdir = workdir
        self.clock = clock or DemoClock()
        self.settings = settings = demo_settings(**overrides)
        self.schedule = Schedule.parse(settings.timezone, settings.working_hours, settings.holidays)
        self.telegram = FakeTelegram(DEMO_TOKEN, operator_chat_id=settings.operator_chat_id)
        groups = operator_groups(settings)
        self.telegram.group_title = groups[settings.operator_chat_id]
        for group, title in groups.items():
            if group != settings.operator_chat_id:
                self.telegram.add_group(title, chat_id=group)
        self.viber = FakeViber(DEMO_VIBER_TOKEN, now=self.clock.now)
        self.app: Application | None = None
        self.viber_chat: list[ViberEntry] = []
        self._viber_seen = 0
        self._receipts: set[asyncio.Task[None]] = set()
        self._listeners: set[Callable[[], None]] = set()
        self.people: People | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        settings = self.settings
        await self.telegram.start()
        await self.viber.start()
        self.telegram.on_change(self._changed)
        self.viber.on_change(self._viber_changed)
        self.clock.listeners.append(self._changed)
        # Olena (@insure_ua) lets the bot reply and read; Telegram tells the bridge once it runs
        business, connected = self.telegram.connect_business()
        self.people = People(
            self.telegram.add_user("Olha", last_name="Kovalenko", language_code="en"),
            self.viber.add_user("Mykola Shevchuk", language="en", subscribed=False),
            self.telegram.add_user("Iryna", last_name="Operator", username="iryna_ops"),
            self.telegram.add_user("Sofiia", last_name="Hnatiuk", language_code="en"),
            business,
        )
        database = f"sqlite+aiosqlite:///{self.workdir / 'support-bridge-demo.db'}"
        for attempt in range(3):
            port = free_port()
            self.settings = settings.model_copy(
                update={
                    "telegram_api_url": self.telegram.url,
                    "public_url": f"http://127.0.0.1:{port}",
                    "http_port": port,
                    "database_url": database,
                    "viber_auth_token": self.viber.auth_token,
                    "viber_api_url": self.viber.url,
                }
            )
            self.app = Application(self.settings, self.clock)
            try:
                await self.app.start()
                break
            except ConfigError as error:
                await self.app.stop()
                if "HTTP_PORT" not in str(error) or attempt == 2:  # taken meanwhile: another
                    raise
            except BaseException:
                await self.app.stop()
                raise
        settle_after_start()
        await self._deliver(connected)
        # opening the Viber chat: Viber tells the bot, which greets with its keyboard
        await self.viber.send_callback(self.viber.conversation_started(self.viber_customer))

    async def stop(self) -> None:
        for task in list(self._receipts):
            task.cancel()
        await asyncio.gather(*self._receipts, return_exceptions=True)
        if self.app is not None:
            await self.app.stop()
        await self.viber.stop()
        await self.telegram.stop()

    # ------------------------------------------------------------------ change notification

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every change of the world or the clock; returns the call
        that stops it."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _viber_changed(self) -> None:
        """New messages to the Viber customer join their chat; their phone reports each as
        delivered and seen, as Viber does."""
        if self.people is not None:
            received = self.viber.received(self.viber_customer["id"])
            for message in received[self._viber_seen :]:
                self.viber_chat.append(ViberEntry("bot", message))
                if not message.get("welcome"):
                    self._receipt(self.viber_customer["id"], int(message["message_token"]))
            self._viber_seen = len(received)
        self._changed()

    def _receipt(self, user_id: str, token: int) -> None:
        async def report() -> None:
            with contextlib.suppress(AssertionError):  # the bridge stopped meanwhile
                await self.viber.send_callback(self.viber.delivered(user_id, token))
                await self.viber.send_callback(self.viber.seen(user_id, token))

        task = asyncio.get_running_loop().create_task(report())
        self._receipts.add(task)
        task.add_done_callback(self._receipts.discard)

    # ------------------------------------------------------------------ who is who

    @property
    def _people(self) -> People:
        if self.people is None:
            raise DemoProblem(503, "the demo is still starting")
        return self.people

    @property
    def telegram_customer(self) -> JSON:
        return self._people.telegram_customer

    @property
    def viber_customer(self) -> JSON:
        return self._people.viber_customer

    @property
    def operator(self) -> JSON:
        return self._people.operator

    @property
    def business_customer(self) -> JSON:
        return self._people.business_customer

    @property
    def business(self) -> str:
        """The business account's connection id."""
        return self._people.business

    async def new_customer(self, channel: str) -> None:
        """Replace the customer of one pane by a new person (a new user of the stand-in), so
        their first message opens a new topic; the old topics stay with the operators."""
        people = self._people
        if channel not in CHANNELS:
            raise DemoProblem(404, f"no such customer pane: choose one of {', '.join(CHANNELS)}")
        first, last, language = people.next_person()
        if channel == "telegram":
            people.telegram_customer = self.telegram.add_user(
                first, last_name=last, language_code=language
            )
        elif channel == "business":
            people.business_customer = self.telegram.add_user(
                first, last_name=last, language_code=language
            )
        else:
            user = self.viber.add_user(f"{first} {last}", language=language, subscribed=False)
            people.viber_customer = user
            self.viber_chat = []
            self._viber_seen = 0
            self._changed()
            # they open the chat: the bot greets them with its keyboard, as it did the first
            await self._callback(self.viber.conversation_started(user))
            return
        self._changed()

    # ------------------------------------------------------------------ Telegram customer

    async def telegram_writes(self, text: str) -> None:
        user = self.telegram_customer
        await self._deliver(self.telegram.customer_message(user, **with_commands(text)))

    async def telegram_sends_file(self, name: str, data: bytes, caption: str) -> None:
        content = self._telegram_file(name, data, caption)
        await self._deliver(self.telegram.customer_message(self.telegram_customer, **content))

    def _telegram_file(self, name: str, data: bytes, caption: str) -> JSON:
        """A message's content with the file stored in the stand-in: a photo or a document."""
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        content: JSON = {"caption": caption} if caption else {}
        if mime in ("image/jpeg", "image/png"):
            content["photo"] = self.telegram.photo(data)
        else:
            content["document"] = self.telegram.document(name, data, mime)
        return content

    async def telegram_presses(self, message_id: int, data: str) -> None:
        user = self.telegram_customer
        message = self.telegram.messages[user["id"]].get(message_id)
        if message is None or data not in callback_data(message):
            raise DemoProblem(404, "no such button in the customer's chat")
        update = self.telegram.callback_query(user, message, data)
        self._people.queries[update["callback_query"]["id"]] = "customer"
        await self._deliver(update)

    # ------------------------------------------------------------------ business customer

    async def business_writes(self, text: str) -> None:
        """The customer writes to the company's account (not to the bot)."""
        update = self.telegram.business_message(self.business, self.business_customer, text=text)
        await self._deliver(update)

    async def business_sends_file(self, name: str, data: bytes, caption: str) -> None:
        content = self._telegram_file(name, data, caption)
        user = self.business_customer
        await self._deliver(self.telegram.business_message(self.business, user, **content))

    async def business_presses(self, message_id: int, data: str) -> None:
        user = self.business_customer
        chat = self.telegram.business_chat(self.business, user["id"])
        message = next((m for m in chat if m["message_id"] == message_id), None)
        if message is None or data not in callback_data(message):
            raise DemoProblem(404, "no such button in the chat with the business account")
        update = self.telegram.business_press(self.business, user, message_id, data)
        self._people.queries[update["callback_query"]["id"]] = "business"
        await self._deliver(update)

    async def owner_writes(self, text: str) -> None:
        """The account's owner answers by hand, from their phone, in the chat with the
        customer (after the customer wrote: there is no chat before)."""
        user = self.business_customer
        if not self.telegram.business_chat(self.business, user["id"]):
            raise DemoProblem(409, "the customer has not written to the account yet")
        await self._deliver(self.telegram.owner_message(self.business, user, text=text))

    # ------------------------------------------------------------------ Viber customer

    async def viber_writes(self, text: str, label: str | None = None) -> None:
        message = self.viber.text(text)
        self.viber_chat.append(ViberEntry("customer", message, label))
        await self._callback(self.viber.message_event(self.viber_customer, message))

    async def viber_presses(self, body: str) -> None:
        keyboard = self.viber_keyboard()
        button = next(
            (b for b in keyboard if b.get("ActionType") == "reply" and b.get("ActionBody") == body),
            None,
        )
        if button is None:
            raise DemoProblem(404, "no such button on the Viber keyboard")
        await self.viber_writes(body, str(button.get("Text") or body))

    async def viber_sends_file(self, name: str, data: bytes, caption: str) -> None:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        url = self.viber.host_media(data, mime, name)
        if mime in ("image/jpeg", "image/png"):
            message = self.viber.picture(url, caption, file_name=name)
        else:
            message = self.viber.file(url, name, len(data))
        self.viber_chat.append(ViberEntry("customer", message))
        await self._callback(self.viber.message_event(self.viber_customer, message))

    def viber_keyboard(self) -> list[JSON]:
        """The buttons Viber shows: those of the latest message, if it has any."""
        for entry in reversed(self.viber_chat):
            if entry.side == "bot":
                buttons = (entry.message.get("keyboard") or {}).get("Buttons")
                return list(buttons) if isinstance(buttons, list) else []
        return []

    # ------------------------------------------------------------------ operator

    def _group(self, group: int | None) -> int:
        chat_id = self.telegram.operator_chat_id if group is None else group
        if chat_id not in self.telegram.groups:
            raise DemoProblem(404, "no such operator group")
        return chat_id

    async def operator_writes(self, group: int | None, thread: int | None, text: str) -> None:
        chat_id = self._group(group)
        if thread is not None and self.telegram.groups[chat_id].live_topic(thread) is None:
            raise DemoProblem(404, "no such topic in the operator group")
        update = self.telegram.operator_message(
            self.operator, thread, group=chat_id, **with_commands(text)
        )
        await self._deliver(update)

    async def operator_presses(self, group: int | None, message_id: int, data: str) -> None:
        chat_id = self._group(group)
        message = self.telegram.messages[chat_id].get(message_id)
        if message is None or data not in callback_data(message):
            raise DemoProblem(404, "no such button in the operator group")
        update = self.telegram.callback_query(self.operator, message, data)
        self._people.queries[update["callback_query"]["id"]] = "operator"
        await self._deliver(update)

    # ------------------------------------------------------------------ clock

    def advance_clock(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    # ------------------------------------------------------------------ delivery

    async def _deliver(self, update: JSON) -> None:
        status = await self.telegram.deliver(update)
        if status != 200:
            raise DemoProblem(502, f"the bridge answered Telegram's webhook with {status}")

    async def _callback(self, event: JSON) -> None:
        status, _ = await self.viber.send_callback(event)
        if status != 200:
            raise DemoProblem(502, f"the bridge answered Viber's callback with {status}")


def with_commands(text: str) -> JSON:
    """A message's content as Telegram sends it: a leading /command is marked as one."""
    content: JSON = {"text": text}
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


def callback_data(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]
