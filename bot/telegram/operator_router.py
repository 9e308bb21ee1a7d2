"""The operators' forum group: messages in customer topics go to the customer; commands."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.telegram.calls import call
from bot.telegram.customer_router import RELAYABLE
from bot.telegram.mappers import incoming, operator_from, operator_of, reply_target
from bot.telegram.membership import Membership
from bot.telegram.operator_desk import CARD_CALLBACK_PREFIX
from bridge.commands import (
    CardAction,
    OperatorActed,
    OperatorEdited,
    OperatorListedSnippets,
    OperatorReleasedHeld,
    OperatorSavedSnippet,
    OperatorSentFaq,
    OperatorSentSnippet,
    OperatorTransferred,
    OperatorWrote,
)
from bridge.faq.source import FaqSource
from bridge.handlers.operators import HELD_ACTION
from bridge.handlers.snippets import SNIPPET_ACTION
from bridge.handlers.transfer import TRANSFER_ACTION
from bridge.model import MessageRef, Platform

FAQ_PREFIX = "faqop:"
# `#name` as the whole message sends the saved reply `name` (names are lowercase; a capital
# typed on a phone's keyboard still finds it)
HASH_SNIPPET = re.compile(r"#([A-Za-z0-9-]{1,32})")
USAGE_ASSIGN = "Use /assign @username, or reply /assign to a message of that operator."
NOT_A_MEMBER = "They are not a member of the operator group: only members can own a conversation."
log = logging.getLogger(__name__)


def is_operator(message: Message, groups: Collection[int]) -> bool:
    """A person in an operator group: not another bot; anonymous admins post as the group."""
    if message.sender_chat is not None:
        return message.sender_chat.id == message.chat.id and message.chat.id in groups
    return message.from_user is not None and not message.from_user.is_bot


async def counts_as_operator(
    message: Message, groups: Collection[int], membership: Membership
) -> bool:
    """A command counts from a current member of the group (anonymous admins post as the group
    itself); from anyone else it does nothing, whoever could write there."""
    if not is_operator(message, groups):
        return False
    if message.sender_chat is not None or message.from_user is None:
        return True
    if await membership.is_member(message.from_user.id, message.chat.id):
        return True
    log.warning(
        "a command from %s, who is not in the operator group: ignored", message.from_user.id
    )
    return False


def chat_of(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message is not None else 0


def operator_router(groups: Collection[int]) -> Router:
    """Maps what operators do in customers' topics to the core's commands; only the FAQ
    menu's navigation (the operator's own keyboard) is answered here and now."""
    router = Router(name="operators")
    in_topic = F.chat.id.in_(set(groups)) & F.is_topic_message.is_(True)
    router.message.filter(in_topic)
    router.edited_message.filter(in_topic)
    router.callback_query.filter(F.message.chat.id.in_(set(groups)))

    typed_alone = [a.value for a in CardAction if a not in (CardAction.WAIT, CardAction.ASSIGN)]

    @router.message(Command(*typed_alone))
    async def command(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorActed | None:
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        return OperatorActed(
            message.message_thread_id,
            operator_of(message),
            CardAction(command.command.lower()),
            command_message_id=message.message_id,
            group_id=message.chat.id,
        )

    @router.message(Command("wait"))
    async def wait(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorActed | None:
        """/wait [minutes]: tell the customer the question is being looked into."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        argument = (command.args or "").strip()
        minutes = int(argument) if argument.isdigit() and 0 < int(argument) <= 1440 else None
        if argument and minutes is None:
            await call(lambda: message.reply("Use /wait or /wait 15 (minutes, 1 to 1440)."))
            return None
        return OperatorActed(
            message.message_thread_id,
            operator_of(message),
            CardAction.WAIT,
            minutes=minutes,
            command_message_id=message.message_id,
            group_id=message.chat.id,
        )

    @router.message(Command("assign"))
    async def assign(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorActed | None:
        """/assign @username, or /assign in reply to a message of the operator to hand the
        conversation to (found by the core among operators seen in the group)."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        argument = (command.args or "").strip()
        username = argument.removeprefix("@") if argument.startswith("@") else None
        replied = message.reply_to_message
        # in a forum, a message that replies to nothing "replies" to the topic's first message
        target = (
            replied.from_user
            if replied is not None
            and replied.message_id != message.message_thread_id
            and replied.from_user is not None
            and not replied.from_user.is_bot
            else None
        )
        if (username is None and target is None) or (argument and username is None):
            await call(lambda: message.reply(USAGE_ASSIGN))
            return None
        assignee = None
        if username is None and target is not None:
            if not await membership.is_member(target.id, message.chat.id):
                await call(lambda: message.reply(NOT_A_MEMBER))
                return None
            assignee = operator_from(target)
        return OperatorActed(
            message.message_thread_id,
            operator_of(message),
            CardAction.ASSIGN,
            command_message_id=message.message_id,
            assignee=assignee,
            assignee_username=username,
            group_id=message.chat.id,
        )

    @router.message(Command("transfer"))
    async def transfer(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorTransferred | None:
        """/transfer <department id>, or /transfer alone for the departments as buttons."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        department = (command.args or "").strip().lower() or None
        return OperatorTransferred(
            message.message_thread_id,
            operator_of(message),
            department,
            command_message_id=message.message_id,
            group_id=message.chat.id,
        )

    @router.message(Command("faq"))
    async def faq_menu(message: Message, faq: FaqSource, membership: Membership) -> None:
        """/faq: the catalogue as buttons; picking an entry sends it to the customer."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return
        await call(
            lambda: message.reply("📚 Pick an FAQ answer to send:", reply_markup=faq_keyboard(faq))
        )

    @router.callback_query(F.data.startswith(FAQ_PREFIX))
    async def faq_button(
        query: CallbackQuery, faq: FaqSource, membership: Membership
    ) -> OperatorSentFaq | None:
        message = query.message
        outsider = not await membership.is_member(query.from_user.id, chat_of(query))
        if not isinstance(message, Message) or message.message_thread_id is None or outsider:
            await call(lambda: query.answer())
            return None
        parts = (query.data or "").removeprefix(FAQ_PREFIX).split(":")
        catalog = faq.catalog
        if parts[0] == "c" and len(parts) == 2 and (category := catalog.category(parts[1])):
            await call(lambda: query.answer())
            await call(
                lambda: message.edit_reply_markup(reply_markup=faq_keyboard(faq, category.id))
            )
            return None
        if parts[0] == "q" and len(parts) == 3 and catalog.entry(parts[1], parts[2]):
            operator = operator_from(query.from_user)
            return OperatorSentFaq(
                message.message_thread_id,
                operator,
                parts[1],
                parts[2],
                callback_id=query.id,
                group_id=message.chat.id,
            )
        await call(lambda: query.answer())
        await call(lambda: message.edit_reply_markup(reply_markup=faq_keyboard(faq)))
        return None

    @router.message(Command("s"))
    async def send_snippet(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorSentSnippet | None:
        """/s <name>: a saved reply to the customer, in their language."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        name = (command.args or "").strip().lower()
        if not name:
            await call(lambda: message.reply("Use /s <name>; /snippets lists the saved replies."))
            return None
        return snippet_command(message, message.message_thread_id, name)

    @router.message(lambda message: bool(message.text and HASH_SNIPPET.fullmatch(message.text)))
    async def hash_snippet(message: Message, membership: Membership) -> OperatorSentSnippet | None:
        """`#name` as the whole message: the same as /s name."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        name = (message.text or "").removeprefix("#").lower()
        return snippet_command(message, message.message_thread_id, name)

    @router.message(Command("save"))
    async def save_snippet(
        message: Message, command: CommandObject, membership: Membership
    ) -> OperatorSavedSnippet | None:
        """/save <name> as a reply to an operator's message: its text is saved."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        name = (command.args or "").strip()
        source = message.reply_to_message if reply_target(message) is not None else None
        text = (source.text or source.caption) if source is not None else None
        if not name or source is None or not is_operator(source, groups) or not text:
            usage = "Reply /save <name> to an operator's message with text to save it."
            await call(lambda: message.reply(usage))
            return None
        return OperatorSavedSnippet(
            message.message_thread_id,
            operator_of(message),
            name,
            text,
            message.message_id,
            group_id=message.chat.id,
        )

    @router.message(Command("snippets"))
    async def list_snippets(
        message: Message, membership: Membership
    ) -> OperatorListedSnippets | None:
        """/snippets: the saved replies as buttons; a press sends one to the customer."""
        if message.message_thread_id is None or not await counts_as_operator(
            message, groups, membership
        ):
            return None
        return OperatorListedSnippets(
            message.message_thread_id,
            operator_of(message),
            message.message_id,
            group_id=message.chat.id,
        )

    @router.message(F.content_type.in_(RELAYABLE))
    async def relay_message(message: Message) -> OperatorWrote | None:
        thread_id = message.message_thread_id
        if thread_id is None or not is_operator(message, groups):
            return None
        return OperatorWrote(
            thread_id, operator_of(message), incoming(message), group_id=message.chat.id
        )

    @router.edited_message(F.content_type.in_(RELAYABLE))
    async def relay_edit(message: Message) -> OperatorEdited | None:
        if message.message_thread_id is None or not is_operator(message, groups):
            return None
        return OperatorEdited(
            message.message_thread_id,
            operator_of(message),
            incoming(message),
            group_id=message.chat.id,
        )

    @router.callback_query(F.data.startswith(CARD_CALLBACK_PREFIX))
    async def card_button(
        query: CallbackQuery, membership: Membership
    ) -> OperatorActed | OperatorReleasedHeld | OperatorSentSnippet | OperatorTransferred | None:
        message = query.message
        if not await membership.is_member(query.from_user.id, chat_of(query)):
            log.warning("a card button pressed by %s, who is not in the group", query.from_user.id)
            await call(lambda: query.answer())
            return None
        action = (query.data or "").removeprefix(CARD_CALLBACK_PREFIX)
        known = action in CardAction.__members__.values() or action.startswith(
            (HELD_ACTION, SNIPPET_ACTION, TRANSFER_ACTION)
        )
        if not isinstance(message, Message) or message.message_thread_id is None or not known:
            await call(lambda: query.answer())
            return None
        operator = operator_from(query.from_user)
        if action.startswith(TRANSFER_ACTION):  # under a bare /transfer
            return OperatorTransferred(
                message.message_thread_id,
                operator,
                action.removeprefix(TRANSFER_ACTION),
                callback_id=query.id,
                group_id=message.chat.id,
            )
        if action.startswith(SNIPPET_ACTION):  # under /snippets: the list is the reference
            return OperatorSentSnippet(
                message.message_thread_id,
                operator,
                action.removeprefix(SNIPPET_ACTION),
                MessageRef(Platform.TELEGRAM, str(message.chat.id), str(message.message_id)),
                callback_id=query.id,
                group_id=message.chat.id,
            )
        if action.startswith(HELD_ACTION):
            held = action.removeprefix(HELD_ACTION)
            if not held.isdigit():
                await call(lambda: query.answer("Unknown message."))
                return None
            return OperatorReleasedHeld(
                message.message_thread_id,
                operator,
                int(held),
                callback_id=query.id,
                group_id=message.chat.id,
            )
        return OperatorActed(
            message.message_thread_id,
            operator,
            CardAction(action),
            callback_id=query.id,
            group_id=message.chat.id,
        )

    return router


def snippet_command(message: Message, thread_id: int, name: str) -> OperatorSentSnippet:
    """The command message is the saved reply's reference: its mark and failure note go there,
    and what it replies to, the customer's copy replies to."""
    return OperatorSentSnippet(
        thread_id,
        operator_of(message),
        name,
        MessageRef(Platform.TELEGRAM, str(message.chat.id), str(message.message_id)),
        reply_to_message_id=reply_target(message),
        group_id=message.chat.id,
    )


def faq_keyboard(faq: FaqSource, category_id: str | None = None) -> InlineKeyboardMarkup:
    """Operators pick in Ukrainian; the customer gets the answer in their own language."""
    catalog = faq.catalog
    category = catalog.category(category_id) if category_id else None
    if category is None:
        rows = [
            [InlineKeyboardButton(text=c.title.get("uk"), callback_data=f"{FAQ_PREFIX}c:{c.id}")]
            for c in catalog.categories
        ]
    else:
        rows = [
            [
                InlineKeyboardButton(
                    text=e.question.get("uk"), callback_data=f"{FAQ_PREFIX}q:{category.id}:{e.id}"
                )
            ]
            for e in category.entries
        ]
        rows.append([InlineKeyboardButton(text="⬅️ Back", callback_data=f"{FAQ_PREFIX}menu")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def setup_router() -> Router:
    """`/chatid` in any group: the first step of the set-up is finding the group's id."""
    router = Router(name="setup")

    @router.message(Command("chatid"), F.chat.type.in_({"group", "supergroup"}))
    async def chat_id(message: Message) -> None:
        forum = "a forum (topics on)" if message.chat.is_forum else "not a forum: turn on Topics"
        await message.reply(
            f"OPERATOR_CHAT_ID={message.chat.id}\nThis group is {forum}.",
        )

    return router
