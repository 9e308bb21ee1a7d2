"""Viber callbacks → the core: messages, subscriptions and delivery receipts."""

from __future__ import annotations

import json
import logging
from typing import Any

from viberbot import Api
from viberbot.api.viber_requests import (
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
from bridge.button_seal import ButtonSeal, customer_key
from bridge.commands import (
    Command,
    CustomerPressed,
    CustomerReachability,
    CustomerWrote,
    DeliveryReported,
)
from bridge.errors import FailureReason
from bridge.faq.source import FaqSource
from bridge.model import ContentKind, DeliveryMark, InboxItem, Platform
from bridge.screens import Screens
from bridge.texts import Texts

log = logging.getLogger(__name__)


class ViberEvents:
    """Maps Viber's callbacks to the core's commands; answers `conversation_started` itself
    (Viber shows the welcome only when it comes back in that callback's response)."""

    def __init__(
        self,
        api: ViberApi,
        screens: Screens,
        faq: FaqSource,
        texts: Texts,
        parser: Api,
        seal: ButtonSeal,
    ) -> None:
        self._seal = seal
        self._api = api
        self._screens = screens
        self._faq = faq
        self._texts = texts
        self._parser = parser

    async def legacy(self, item: InboxItem) -> Command | None:
        """A callback stored raw by an earlier version: mapped now, the same way."""
        raw = dict(item.payload)
        request = self._parser.parse_request(json.dumps(raw))
        message = raw.get("message") if raw.get("event") == "message" else None
        return self.command_of(request, message if isinstance(message, dict) else {})

    def command_of(self, request: Any, raw: dict[str, Any]) -> Command | None:
        """The command a stored callback means; `raw` is the callback's `message` object."""
        if isinstance(request, ViberMessageRequest):
            profile = profile_of(request.sender)
            message = incoming(profile.external_id, request.message_token, request.message, raw)
            text = message.text or ""
            if message.kind is ContentKind.TEXT and text.startswith(ACTION_PREFIX):
                key = customer_key(Platform.VIBER, profile.external_id)
                action = self._seal.open(key, text.removeprefix(ACTION_PREFIX))
                if action is not None:
                    return CustomerPressed(profile, action)
            return CustomerWrote(profile, message)  # typed text, or a button not theirs
        if isinstance(request, ViberSubscribedRequest):
            return CustomerReachability(Platform.VIBER, str(request.user.id), None)
        if isinstance(request, ViberUnsubscribedRequest):
            reason = FailureReason.NOT_SUBSCRIBED
            return CustomerReachability(Platform.VIBER, str(request.user_id), reason)
        if isinstance(request, ViberDeliveredRequest | ViberSeenRequest):
            seen = isinstance(request, ViberSeenRequest)
            mark = DeliveryMark.SEEN if seen else DeliveryMark.DELIVERED
            return DeliveryReported(
                Platform.VIBER, str(request.user_id), str(request.message_token), mark
            )
        if isinstance(request, ViberFailedRequest):
            failure = f"Viber: {request.desc}" if request.desc else "Viber reported a failure"
            return DeliveryReported(
                Platform.VIBER, str(request.user_id), str(request.message_token), None, failure
            )
        return None

    def welcome(self, user_id: str, language: str | None) -> dict[str, Any]:
        """Viber's welcome message: returned in the response to `conversation_started`."""
        chosen = self._texts.language_for(language)
        screen = self._screens.menu(self._faq.catalog, chosen, "greeting")
        return {
            "sender": self._api.sender,
            "type": "text",
            "text": screen.text,
            "keyboard": keyboard(
                screen, self._seal.for_screen(customer_key(Platform.VIBER, user_id))
            ),
        }
