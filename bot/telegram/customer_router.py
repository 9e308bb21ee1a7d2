"""Customers' private chats with the bot: each update becomes the core's command, once.

The handlers here only map: they return the command the intake stores in the inbox, and call
nothing. What the customer sees back (a screen, a copy in the topic) is the core's decision.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.telegram.mappers import incoming, profile_of
from bot.telegram.screens import HELP_PREFIX
from bridge.button_seal import ButtonSeal, customer_key
from bridge.commands import (
    CustomerEdited,
    CustomerPressed,
    CustomerReachability,
    CustomerWrote,
)
from bridge.errors import FailureReason
from bridge.model import Platform

# What a customer can send that is worth relaying; service messages are not.
RELAYABLE = frozenset(
    {
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
    }
)


def customer_router(seal: ButtonSeal) -> Router:
    router = Router(name="customers")
    router.message.filter(F.chat.type == "private", F.from_user.is_bot.is_(False))
    router.edited_message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    async def greet(message: Message) -> CustomerPressed:
        assert message.from_user is not None
        return CustomerPressed(profile_of(message.from_user), "start")

    @router.message(Command("help"))
    async def help_menu(message: Message) -> CustomerPressed:
        assert message.from_user is not None
        return CustomerPressed(profile_of(message.from_user), "menu")

    @router.message(Command("language"))
    async def language(message: Message) -> CustomerPressed:
        assert message.from_user is not None
        return CustomerPressed(profile_of(message.from_user), "lang")

    @router.callback_query(F.data.startswith(HELP_PREFIX), F.message.chat.type == "private")
    async def help_button(query: CallbackQuery) -> CustomerPressed:
        """FAQ navigation edits the menu in place; nothing is relayed."""
        sealed = (query.data or "").removeprefix(HELP_PREFIX)
        key = customer_key(Platform.TELEGRAM, str(query.from_user.id))
        action = seal.open(key, sealed) or ""  # not theirs, or not ours: the current menu
        shown = query.message.message_id if isinstance(query.message, Message) else None
        return CustomerPressed(
            profile_of(query.from_user),
            action,
            screen_message_id=str(shown) if shown is not None else None,
            callback_id=query.id,
        )

    @router.message(F.content_type.in_(RELAYABLE))
    async def relay_message(message: Message) -> CustomerWrote:
        assert message.from_user is not None
        return CustomerWrote(profile_of(message.from_user), incoming(message))

    @router.my_chat_member(F.chat.type == "private")
    async def blocked_or_back(update: ChatMemberUpdated) -> CustomerReachability:
        """The customer blocked the bot (kicked) or started it again (member)."""
        status = update.new_chat_member.status
        reason = FailureReason.BLOCKED if status in ("kicked", "left") else None
        return CustomerReachability(Platform.TELEGRAM, str(update.chat.id), reason)

    @router.edited_message(F.from_user)
    async def relay_edit(message: Message) -> CustomerEdited:
        assert message.from_user is not None
        return CustomerEdited(profile_of(message.from_user), incoming(message))

    return router
