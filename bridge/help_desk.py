"""The help section customers navigate: FAQ categories → questions → answers, language, and
"Talk to an operator". Browsing is not relayed and opens no conversation; asking does."""

from __future__ import annotations

from bridge.faq.source import FaqSource
from bridge.model import CustomerProfile
from bridge.relay import Relay
from bridge.screens import Screen, Screens


class HelpDesk:
    def __init__(self, faq: FaqSource, screens: Screens, relay: Relay) -> None:
        self._faq = faq
        self._screens = screens
        self._relay = relay

    def welcome(self, language: str) -> Screen:
        return self._screens.menu(self._faq.catalog, language, "greeting")

    def menu(self, language: str) -> Screen:
        return self._screens.menu(self._faq.catalog, language)

    async def press(self, profile: CustomerProfile, action: str) -> Screen:
        """A customer's button; stale buttons (the catalogue changed) get the current menu."""
        language = await self._relay.language_of(profile)
        catalog = self._faq.catalog
        screens = self._screens
        match action.split(":"):
            case ["menu"]:
                return self.menu(language)
            case ["c", category_id] if category := catalog.category(category_id):
                return screens.category(category, language)
            case ["q", category_id, entry_id] if entry := catalog.entry(category_id, entry_id):
                return screens.answer(entry, language)
            case ["y", category_id, entry_id]:
                await self._relay.faq_feedback(profile, f"{category_id}/{entry_id}", True)
                return Screen(
                    screens.texts.get("helped_thanks", language), self.menu(language).rows
                )
            case ["n", category_id, entry_id]:
                await self._relay.faq_feedback(profile, f"{category_id}/{entry_id}", False)
                await self._relay.customer_asks_operator(profile)
                return screens.text("ask_prompt", language)
            case ["op"]:
                await self._relay.customer_asks_operator(profile)
                return screens.text("ask_prompt", language)
            case ["rate", conversation_id, stars] if self._relay.ratings_on and (
                conversation_id.isdigit() and stars.isdigit()
            ):
                return await self._relay.rate(profile, int(conversation_id), int(stars))
            case ["skip", conversation_id] if self._relay.ratings_on and conversation_id.isdigit():
                return await self._relay.skip_comment(profile, int(conversation_id))
            case ["lang"]:
                return screens.language_choice(language)
            case ["lang", code]:
                chosen = await self._relay.choose_language(profile, code)
                done = screens.texts.get("language_set", chosen)
                return Screen(done, self.menu(chosen).rows)
        return self._screens.menu(catalog, language, "menu_outdated")
