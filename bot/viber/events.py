"""Viber callbacks → the core: messages, subscriptions and delivery receipts."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from viberbot import Api
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

from bot.viber.api import ViberApi
from bot.viber.keyboards import ACTION_PREFIX, keyboard
from bot.viber.mappers import incoming, profile_of
from bridge.errors import BridgeError, FailureReason
from bridge.help_desk import HelpDesk
from bridge.model import ContentKind, CustomerProfile, DeliveryMark, Platform
from bridge.relay import Relay
from bridge.screens import Screen
from bridge.texts import Texts

log = logging.getLogger(__name__)


class ViberEvents:
    def __init__(
        self,
        relay: Relay,
        api: ViberApi,
        help_desk: HelpDesk,
        texts: Texts,
        parser: Api,
    ) -> None:
        self._relay = relay
        self._api = api
        self._help = help_desk
        self._texts = texts
        self._parser = parser

    async def handle(self, request: Any, raw: dict[str, Any]) -> dict[str, Any] | None:
        """Handle one parsed callback; a dict answer goes back in the HTTP response body."""
        if isinstance(request, ViberConversationStartedRequest):
            return self.welcome(self._texts.language_for(request.user.language))
        if isinstance(request, ViberMessageRequest):
            await self._message(request, raw)
        elif isinstance(request, ViberSubscribedRequest):
            await self._reachability(str(request.user.id), None)
        elif isinstance(request, ViberUnsubscribedRequest):
            await self._reachability(str(request.user_id), FailureReason.NOT_SUBSCRIBED)
        elif isinstance(request, ViberDeliveredRequest | ViberSeenRequest):
            mark = (
                DeliveryMark.SEEN
                if isinstance(request, ViberSeenRequest)
                else (DeliveryMark.DELIVERED)
            )
            await self._relay.delivery_receipt(
                Platform.VIBER, str(request.user_id), str(request.message_token), mark
            )
        elif isinstance(request, ViberFailedRequest):
            await self._relay.delivery_receipt(
                Platform.VIBER,
                str(request.user_id),
                str(request.message_token),
                None,
                f"Viber: {request.desc}" if request.desc else "Viber reported a failure",
            )
        return None

    def welcome(self, language: str) -> dict[str, Any]:
        """Viber's welcome message: returned in the response to `conversation_started`."""
        screen = self._help.welcome(language)
        return {
            "sender": self._api.sender,
            "type": "text",
            "text": screen.text,
            "keyboard": keyboard(screen),
        }

    async def process(self, payload: Mapping[str, Any], lane: str) -> None:
        """The inbox's handler for stored Viber callbacks."""
        raw = dict(payload)
        request = self._parser.parse_request(json.dumps(raw))
        message = raw.get("message") if raw.get("event") == "message" else None
        await self.handle(request, message if isinstance(message, dict) else {})

    async def _message(self, request: ViberMessageRequest, raw: dict[str, Any]) -> None:
        profile = profile_of(request.sender)
        message = incoming(profile.external_id, request.message_token, request.message, raw)
        if message.kind is ContentKind.TEXT and (message.text or "").startswith(ACTION_PREFIX):
            await self._button(profile, (message.text or "").removeprefix(ACTION_PREFIX))
            return
        await self._relay.customer_wrote(profile, [message])

    async def _button(self, profile: CustomerProfile, action: str) -> None:
        """A keyboard button: FAQ navigation and the like, never relayed."""
        screen = await self._help.press(profile, action)
        language = await self._relay.language_of(profile)
        shown = screen if screen.rows else Screen(screen.text, self._help.menu(language).rows)
        message = {"type": "text", "text": screen.text, "keyboard": keyboard(shown)}
        try:
            await self._api.send(profile.external_id, message)
        except BridgeError as error:
            log.info("Viber screen not sent: %s", error)

    async def _reachability(self, user_id: str, reason: FailureReason | None) -> None:
        await self._relay.customer_reachability(Platform.VIBER, user_id, reason)
