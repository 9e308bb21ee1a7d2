"""One text in both languages the bridge speaks."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("uk", "en")


@dataclass(frozen=True)
class Localized:
    """One text in both languages we speak, so no customer ever gets an empty reply."""

    uk: str
    en: str

    def get(self, language: str | None) -> str:
        """English for `en` (and `en-US`), Ukrainian for everything else."""
        base = (language or "").split("-")[0].lower()
        return self.en if base == "en" else self.uk
