"""What the page shows: the stand-ins' state as plain JSON for the browser.

Texts travel as text plus Telegram's entities (offsets in UTF-16 units, which is what
JavaScript strings count), never as HTML: the page builds its elements with `textContent`, so
nothing a customer typed can become markup.
"""

from __future__ import annotations

from typing import Any

from bot.demo.world import JSON, DemoWorld, callback_data
from standins.telegram import FakeTelegram, Topic

MEDIA_KINDS = ("photo", "video", "animation", "document", "audio", "voice", "video_note", "sticker")
SHOWN_ENTITIES = frozenset(
    (
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "url",
        "blockquote",
        "expandable_blockquote",
    )
)
# What an operator can type in a topic or in General (README, "What operators do").
OPERATOR_COMMANDS = (
    ("/close", "resolve the conversation; the customer is asked to rate it"),
    ("/reopen", "open the last conversation again"),
    ("/wait 15", "tell the customer it is in progress"),
    ("/take", "own the conversation"),
    ("/release", "nobody owns it any more"),
    ("/faq", "send an FAQ answer"),
    ("/snippets", "send a saved reply"),
    ("! ", "an internal note, never sent"),
    ("/ban", "stop relaying this customer"),
    ("/unban", "relay them again"),
    ("/mine", "your open conversations"),
    ("/queue", "who is waiting"),
    ("/stats today", "figures with a chart"),
)
GENERAL = 0  # the page's number for the General topic (it has no thread id on the wire)


def snapshot(world: DemoWorld) -> JSON:
    """Everything the panes (the Telegram one with its two chats) and the clock show, in one
    JSON object."""
    people = world.people
    if people is None:
        return {"ready": False}
    fake = world.telegram
    customer = people.telegram_customer
    return {
        "ready": True,
        "clock": clock(world),
        "telegram": {
            "customer": full_name(customer),
            "messages": [
                telegram_message(fake, m, mine=customer["id"])
                for m in fake.chat_messages(customer["id"])
            ],
            "notice": notice(world, "customer"),
        },
        "business": business(world),
        "viber": {
            "customer": people.viber_customer["name"],
            "bot": world.settings.viber_bot_name,
            "messages": [
                viber_entry(i, e.side, e.message, e.label) for i, e in enumerate(world.viber_chat)
            ],
            "keyboard": [viber_button(b) for b in world.viber_keyboard()],
        },
        "operators": {
            "operator": full_name(people.operator),
            "groups": [group(fake, chat_id, people.operator["id"]) for chat_id in fake.groups],
            "commands": [{"command": c, "description": d} for c, d in OPERATOR_COMMANDS],
            "notice": notice(world, "operator"),
        },
    }


def business(world: DemoWorld) -> JSON:
    """The customer's chat with the company's account: the account's messages (the bot's
    answers and the owner's own) are on its side, named after it."""
    fake, connection = world.telegram, world.business
    owner = fake.business_connections[connection].owner
    customer = world.business_customer
    read = fake.business_read(connection, customer["id"]) or 0
    messages = []
    for message in fake.business_chat(connection, customer["id"]):
        view = telegram_message(fake, message, mine=customer["id"])
        if view["side"] == "mine":
            view["read"] = message["message_id"] <= read
        else:
            view["side"] = "account"
            view["sender"] = account_name(owner)
            view["by_bot"] = "sender_business_bot" in message
        messages.append(view)
    return {
        "account": account_name(owner),
        "customer": full_name(customer),
        "messages": messages,
        "notice": notice(world, "business"),
    }


def account_name(user: JSON) -> str:
    """'Olena (@insure_ua)', as the operators' card names the account."""
    name = full_name(user)
    return f"{name} (@{user['username']})" if user.get("username") else name


def clock(world: DemoWorld) -> JSON:
    now = world.clock.now()
    schedule = world.schedule
    local = now.astimezone(schedule.zone)
    return {
        "now": now.isoformat(),
        "local": f"{local:%a %d %b %Y, %H:%M}",
        "zone": schedule.zone.key,
        "open": schedule.is_open(now),
        "hours": schedule.describe(),
    }


def full_name(user: JSON) -> str:
    return " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))


def notice(world: DemoWorld, who: str) -> str | None:
    """The text of the latest answer to a button this person pressed (a toast)."""
    people = world.people
    if people is None:
        return None
    answers = world.telegram.callback_answers
    for query_id in reversed(list(people.queries)):
        if people.queries[query_id] == who and query_id in answers:
            text = answers[query_id].get("text")
            return str(text) if text else None
    return None


def telegram_message(fake: FakeTelegram, message: JSON, *, mine: int) -> JSON:
    sender = message.get("from") or {}
    if sender.get("id") == fake.bot_id:
        side = "bot"
    elif sender.get("id") == mine:
        side = "mine"
    else:
        side = "other"
    text = message.get("text") or message.get("caption") or ""
    entities = message.get("entities") or message.get("caption_entities") or []
    view: JSON = {
        "id": message["message_id"],
        "side": side,
        "sender": "Bot" if side == "bot" else full_name(sender),
        "text": text,
        "entities": [e for e in entities if e.get("type") in SHOWN_ENTITIES],
        "buttons": inline_buttons(message),
        "reactions": list(message.get("reactions") or []),
        "edited": "edit_date" in message,
    }
    media = media_of(message)
    if media is not None:
        view["media"] = media
    service = service_text(message)
    if service is not None:
        view["service"] = service
    replied = message.get("reply_to_message")
    if replied and replied.get("message_id") != message.get("message_thread_id"):
        quoted = replied.get("text") or replied.get("caption") or "(media)"
        view["reply_to"] = quoted[:80]
    return view


def media_of(message: JSON) -> JSON | None:
    for kind in MEDIA_KINDS:
        value = message.get(kind)
        if not value:
            continue
        item: Any = value[-1] if isinstance(value, list) else value  # the largest photo size
        if not isinstance(item, dict) or "file_id" not in item:
            continue
        return {
            "kind": kind,
            "url": f"/files/telegram/{item['file_id']}",
            "name": str(item.get("file_name") or kind),
        }
    return None


def inline_buttons(message: JSON) -> list[list[JSON]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    shown: list[list[JSON]] = []
    for row in rows:
        buttons: list[JSON] = []
        for button in row:
            if "callback_data" in button:
                buttons.append({"text": button["text"], "data": button["callback_data"]})
            elif "url" in button:
                buttons.append({"text": button["text"], "url": button["url"]})
        if buttons:
            shown.append(buttons)
    return shown


def service_text(message: JSON) -> str | None:
    if "forum_topic_edited" in message:
        name = message["forum_topic_edited"].get("name")
        return f"Topic renamed to “{name}”" if name else "Topic icon changed"
    if "forum_topic_closed" in message:
        return "Topic closed"
    if "forum_topic_reopened" in message:
        return "Topic reopened"
    if "pinned_message" in message:
        return "Pinned a message"
    return None


def group(fake: FakeTelegram, chat_id: int, operator: int) -> JSON:
    forum = fake.groups[chat_id]
    threads: dict[int, list[JSON]] = {GENERAL: []}
    for message in fake.chat_messages(chat_id):
        if "forum_topic_created" in message:
            continue
        thread = message.get("message_thread_id") or GENERAL
        threads.setdefault(thread, []).append(telegram_message(fake, message, mine=operator))
    topics = [
        topic_view(topic, threads.get(topic.thread_id, []))
        for topic in forum.topics.values()
        if not topic.deleted
    ]
    topics.sort(key=lambda t: -max([t["id"], *(m["id"] for m in t["messages"])]))
    general = {
        "id": GENERAL,
        "name": forum.general_name,
        "color": "#8e8e93",
        "closed": forum.general_closed,
        "messages": threads[GENERAL],
    }
    return {"id": chat_id, "title": forum.title, "topics": [general, *topics]}


def topic_view(topic: Topic, messages: list[JSON]) -> JSON:
    return {
        "id": topic.thread_id,
        "name": topic.name,
        "color": f"#{topic.icon_color:06x}",
        "closed": topic.closed,
        "messages": messages,
    }


def viber_entry(index: int, side: str, message: JSON, label: str | None) -> JSON:
    view: JSON = {
        "id": index,
        "side": "mine" if side == "customer" else "bot",
        "text": label or str(message.get("text") or ""),
        "pressed": label is not None,
    }
    kind = message.get("type")
    if kind in ("picture", "video", "file"):
        view["media"] = {
            "kind": kind,
            "url": f"/files/viber/{index}" if side == "bot" else None,
            "name": str(message.get("file_name") or kind),
        }
    elif kind == "url":
        view["text"] = str(message.get("media") or "")
    if message.get("failed"):
        view["failed"] = True
    return view


def viber_button(button: JSON) -> JSON:
    return {
        "text": str(button.get("Text") or ""),
        "body": str(button.get("ActionBody") or ""),
        "url": button.get("ActionType") == "open-url",
        "columns": int(button.get("Columns") or 6),
    }


__all__ = ["callback_data", "snapshot"]
