"""Telegram Business: the company's own account's private chats, as the core's commands.

The bot connected to a business account gets the account's chats as `business_message`
updates (https://core.telegram.org/bots/api#businessconnection). A message there is the
customer's when it comes from the chat's own person, the owner's when the owner wrote it by
hand; what the bot itself sent on the account's behalf (`sender_business_bot`) is ours and
is never relayed again. Like the other routers, these only map and call nothing.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import BusinessConnection, BusinessMessagesDeleted, CallbackQuery, Message

from bot.telegram.customer_router import RELAYABLE
from bot.telegram.mappers import business_account, business_profile, incoming, operator_from
from bot.telegram.screens import HELP_PREFIX
from bridge.business import business_external_id
from bridge.button_seal import ButtonSeal, customer_key
from bridge.commands import (
    BusinessConnectionChanged,
    CustomerDeleted,
    CustomerEdited,
    CustomerPressed,
    CustomerWrote,
    OwnerWrote,
)
from bridge.model import Platform

BUSINESS = Platform.TELEGRAM_BUSINESS


def is_customers(message: Message) -> bool:
    """In a business chat the customer is the chat's own person; anyone else is the owner."""
    return message.from_user is not None and message.from_user.id == message.chat.id


def business_router(seal: ButtonSeal) -> Router:
    router = Router(name="business")
    ours = F.sender_business_bot.is_(None)  # not what the bot sent on the account's behalf
    private = F.chat.type == "private"

    @router.business_connection()
    async def connection_changed(connection: BusinessConnection) -> BusinessConnectionChanged:
        return BusinessConnectionChanged(business_account(connection))

    @router.business_message(ours, private, F.content_type.in_(RELAYABLE))
    async def wrote(message: Message) -> CustomerWrote | OwnerWrote:
        connection = message.business_connection_id or ""
        if is_customers(message):
            profile = business_profile(connection, message.chat, message.from_user)
            return CustomerWrote(profile, incoming(message, BUSINESS))
        assert message.from_user is not None
        return OwnerWrote(
            business_profile(connection, message.chat),
            operator_from(message.from_user),
            incoming(message, BUSINESS),
        )

    @router.edited_business_message(ours, private)
    async def edited(message: Message) -> CustomerEdited | None:
        if not is_customers(message):
            return None  # the owner's own edits stay in the chat
        connection = message.business_connection_id or ""
        profile = business_profile(connection, message.chat, message.from_user)
        return CustomerEdited(profile, incoming(message, BUSINESS))

    @router.deleted_business_messages()
    async def deleted(update: BusinessMessagesDeleted) -> CustomerDeleted:
        external_id = business_external_id(update.business_connection_id, update.chat.id)
        ids = tuple(str(i) for i in update.message_ids)
        return CustomerDeleted(BUSINESS, external_id, ids)

    @router.callback_query(
        F.data.startswith(HELP_PREFIX), F.message.business_connection_id.is_not(None)
    )
    async def pressed(query: CallbackQuery) -> CustomerPressed:
        """A button under the bot's message in the business chat (a rating, say)."""
        assert isinstance(query.message, Message)
        message = query.message
        connection = message.business_connection_id or ""
        profile = business_profile(connection, message.chat, query.from_user)
        key = customer_key(BUSINESS, profile.external_id)
        action = seal.open(key, (query.data or "").removeprefix(HELP_PREFIX)) or ""
        return CustomerPressed(
            profile,
            action,
            screen_message_id=str(message.message_id),
            callback_id=query.id,
        )

    return router
