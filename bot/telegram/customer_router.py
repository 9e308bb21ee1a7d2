"""Customers' private chats with the bot: map → call the core."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import ChatMemberUpdated, Message

from bot.telegram.albums import AlbumCollector
from bot.telegram.intake import lane_of_message
from bot.telegram.mappers import incoming, profile_of
from bridge.errors import FailureReason
from bridge.model import Platform
from bridge.relay import Relay
from bridge.texts import Texts

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


def customer_router() -> Router:
    router = Router(name="customers")
    router.message.filter(F.chat.type == "private", F.from_user.is_bot.is_(False))
    router.edited_message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    async def greet(message: Message, texts: Texts) -> None:
        language = message.from_user.language_code if message.from_user else None
        await message.answer(texts.get("greeting", language))

    @router.message(F.content_type.in_(RELAYABLE))
    async def relay_message(message: Message, relay: Relay, albums: AlbumCollector) -> None:
        assert message.from_user is not None
        user = message.from_user
        lane = lane_of_message(message)
        if message.media_group_id:

            async def relay_album(items: list[Message]) -> None:
                await relay.customer_wrote(profile_of(user), [incoming(m) for m in items])

            albums.add(lane, message, relay_album)
            return
        await albums.flush_lane(lane)
        await relay.customer_wrote(profile_of(user), [incoming(message)])

    @router.my_chat_member(F.chat.type == "private")
    async def blocked_or_back(update: ChatMemberUpdated, relay: Relay) -> None:
        """The customer blocked the bot (kicked) or started it again (member)."""
        status = update.new_chat_member.status
        reason = FailureReason.BLOCKED if status in ("kicked", "left") else None
        await relay.customer_reachability(Platform.TELEGRAM, str(update.chat.id), reason)

    @router.edited_message(F.from_user)
    async def relay_edit(message: Message, relay: Relay) -> None:
        assert message.from_user is not None
        await relay.customer_edited(profile_of(message.from_user), incoming(message))

    return router
