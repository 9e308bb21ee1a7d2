"""Customers' private chats with the bot: map → call the core."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.telegram.albums import AlbumCollector
from bot.telegram.calls import call
from bot.telegram.intake import lane_of_message
from bot.telegram.mappers import incoming, profile_of
from bot.telegram.screens import HELP_PREFIX, keyboard
from bridge.errors import BridgeError, FailureReason
from bridge.help_desk import HelpDesk
from bridge.model import Platform
from bridge.relay import Relay
from bridge.screens import Screen

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


async def show(message: Message, screen: Screen) -> None:
    await call(lambda: message.answer(screen.text, reply_markup=keyboard(screen)))


def customer_router() -> Router:
    router = Router(name="customers")
    router.message.filter(F.chat.type == "private", F.from_user.is_bot.is_(False))
    router.edited_message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    async def greet(message: Message, help_desk: HelpDesk, relay: Relay) -> None:
        assert message.from_user is not None
        language = await relay.language_of(profile_of(message.from_user))
        await show(message, help_desk.welcome(language))

    @router.message(Command("help"))
    async def help_menu(message: Message, help_desk: HelpDesk, relay: Relay) -> None:
        assert message.from_user is not None
        language = await relay.language_of(profile_of(message.from_user))
        await show(message, help_desk.menu(language))

    @router.message(Command("language"))
    async def language(message: Message, help_desk: HelpDesk) -> None:
        assert message.from_user is not None
        await show(message, await help_desk.press(profile_of(message.from_user), "lang"))

    @router.callback_query(F.data.startswith(HELP_PREFIX), F.message.chat.type == "private")
    async def help_button(query: CallbackQuery, help_desk: HelpDesk) -> None:
        """FAQ navigation edits the menu in place; nothing is relayed."""
        action = (query.data or "").removeprefix(HELP_PREFIX)
        screen = await help_desk.press(profile_of(query.from_user), action)
        await query.answer()
        message = query.message
        if isinstance(message, Message):
            try:
                await call(lambda: message.edit_text(screen.text, reply_markup=keyboard(screen)))
                return
            except BridgeError:
                pass  # too old to edit: send the screen as a new message
        await call(
            lambda: query.bot.send_message(  # type: ignore[union-attr]
                query.from_user.id, screen.text, reply_markup=keyboard(screen)
            )
        )

    @router.message(F.content_type.in_(RELAYABLE))
    async def relay_message(
        message: Message, relay: Relay, albums: AlbumCollector, lane: str | None = None
    ) -> None:
        assert message.from_user is not None
        user = message.from_user
        lane = lane or lane_of_message(message)  # the inbox's lane, where it says
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
