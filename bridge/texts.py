"""Customer-facing texts, one editable YAML file per language."""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.errors import ConfigError

SUPPORTED_LANGUAGES = ("uk", "en")


class Texts:
    """Looks up a text by key in the customer's language, falling back to the default one."""

    def __init__(self, catalogues: dict[str, dict[str, str]], default_language: str) -> None:
        if default_language not in catalogues:
            raise ConfigError(
                f"DEFAULT_LANGUAGE must be one of {', '.join(sorted(catalogues))}, "
                f"not {default_language!r}."
            )
        self._catalogues = catalogues
        self.default_language = default_language

    @classmethod
    def shipped(cls, default_language: str = "uk") -> Texts:
        folder = Path(__file__).parent / "locales"
        catalogues = {lang: _load(folder / f"{lang}.yaml") for lang in SUPPORTED_LANGUAGES}
        return cls(catalogues, default_language)

    def language_for(self, language_code: str | None) -> str:
        """Map a platform language code (`uk`, `en-US`, `ru`) to one we speak."""
        base = (language_code or "").split("-")[0].lower()
        return base if base in self._catalogues else self.default_language

    def get(self, key: str, language: str | None) -> str:
        lang = self.language_for(language)
        text = self._catalogues[lang].get(key)
        if text is None:
            text = self._catalogues[self.default_language][key]
        return text


def _load(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a YAML mapping of text keys to texts.")
    return {str(k): str(v) for k, v in data.items()}
