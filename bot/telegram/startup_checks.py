"""Checks at start: is the token valid, is the group a forum, may the bot manage topics?

Each problem ends the start with one sentence saying what to fix. A public operator group
works, but shows customers' conversations to whoever finds it: that is warned about.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

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


async def check_telegram(
    bot: Bot, groups: Sequence[tuple[str, int]], api_url: str
) -> tuple[User, dict[int, str | None]]:
    """The bot, and each operator group's title (saved replies' `{department}`). `groups`:
    (what names the group in the settings, its chat id), OPERATOR_CHAT_ID's first."""
    me = await check_token(bot, api_url)
    titles: dict[int, str | None] = {}
    for label, group in groups:
        if group not in titles:
            titles[group] = await _check_group(bot, me, label, group)
    return me, titles


async def _check_group(bot: Bot, me: User, label: str, group: int) -> str | None:
    try:
        chat = await bot.get_chat(group)
    except TelegramAPIError:
        raise ConfigError(
            f"{label} {group} is not a group the bot is in: add the bot to the "
            "operators' group and check the id (send /chatid there)."
        ) from None
    if chat.type != "supergroup" or not chat.is_forum:
        raise ConfigError(
            f"{label} {group} is not a forum supergroup: turn on Topics in the group's settings."
        )
    if chat.username:
        joining = (
            "anyone can join it and read what customers write"
            if not chat.join_by_request
            else "anyone can find it and ask to join"
        )
        log.warning(
            "The operators' group (%s %s) is public (@%s): %s; make it private "
            "(Group type: Private) in the group's settings.",
            label,
            group,
            chat.username,
            joining,
        )
    member = await bot.get_chat_member(group, me.id)
    is_owner = isinstance(member, ChatMemberOwner)
    can_manage = isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
    if not (is_owner or can_manage):
        raise ConfigError(
            f"The bot @{me.username} is not an admin of the operators' group ({label} {group}) "
            "with the right to manage topics: make it an admin and turn on 'Manage topics'."
        )
    return chat.title


def business_mode_hint(me: User) -> None:
    """Said once the start has succeeded: a hint, not a problem to stop for."""
    if not me.can_connect_to_business:
        log.info(
            "Telegram Business is off for @%s: to let customers who write to the company's own "
            "Telegram account reach the operators, turn on Business Mode in @BotFather "
            "(Bot Settings) and connect the bot in the account (see the README).",
            me.username,
        )
