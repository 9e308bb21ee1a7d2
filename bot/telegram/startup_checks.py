"""Checks at start: is the token valid, is the group a forum, may the bot manage topics?

Each problem ends the start with one sentence saying what to fix. A public operator group
works, but shows customers' conversations to whoever finds it: that is warned about.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner, User

from bridge.errors import ConfigError

log = logging.getLogger(__name__)


async def check_token(bot: Bot, api_url: str) -> User:
    try:
        return await bot.get_me()
    except TelegramUnauthorizedError:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): "
            "copy the token from @BotFather again."
        ) from None
    except TelegramNetworkError:
        raise ConfigError(
            f"The Telegram Bot API at {api_url} cannot be reached: "
            "check TELEGRAM_API_URL and the network."
        ) from None


async def check_telegram(bot: Bot, operator_chat_id: int, api_url: str) -> tuple[User, str | None]:
    """The bot, and the operator group's title (saved replies' `{department}`)."""
    me = await check_token(bot, api_url)
    try:
        chat = await bot.get_chat(operator_chat_id)
    except TelegramAPIError:
        raise ConfigError(
            f"OPERATOR_CHAT_ID {operator_chat_id} is not a group the bot is in: add the bot to the "
            "operators' group and check the id (send /chatid there)."
        ) from None
    if chat.type != "supergroup" or not chat.is_forum:
        raise ConfigError(
            f"OPERATOR_CHAT_ID {operator_chat_id} is not a forum supergroup: turn on Topics "
            "in the group's settings."
        )
    if chat.username:
        joining = (
            "anyone can join it and read what customers write"
            if not chat.join_by_request
            else "anyone can find it and ask to join"
        )
        log.warning(
            "The operators' group (OPERATOR_CHAT_ID %s) is public (@%s): %s; make it private "
            "(Group type: Private) in the group's settings.",
            operator_chat_id,
            chat.username,
            joining,
        )
    member = await bot.get_chat_member(operator_chat_id, me.id)
    is_owner = isinstance(member, ChatMemberOwner)
    can_manage = isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
    if not (is_owner or can_manage):
        raise ConfigError(
            f"The bot @{me.username} is not an admin of the operators' group with the right to "
            "manage topics: make it an admin and turn on 'Manage topics'."
        )
    return me, chat.title
