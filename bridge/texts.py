"""Customer-facing texts, one editable YAML file per language.

The shipped files in `bridge/locales/` are the reference. A business may put its own `uk.yaml`
and `en.yaml` into `TEXTS_DIR`; a key missing there falls back to the default language, then to
the shipped text, and the start-up check lists such keys.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from bridge.errors import ConfigError

SUPPORTED_LANGUAGES = ("uk", "en")
SHIPPED = Path(__file__).parent / "locales"
log = logging.getLogger(__name__)


class Texts:
    """Looks up a text by key in the customer's language, falling back to the default one."""

    def __init__(
        self,
        catalogues: dict[str, dict[str, str]],
        default_language: str,
        reference: dict[str, dict[str, str]] | None = None,
    ) -> None:
        if default_language not in SUPPORTED_LANGUAGES:
            raise ConfigError(
                f"DEFAULT_LANGUAGE must be one of {', '.join(SUPPORTED_LANGUAGES)}, "
                f"not {default_language!r}."
            )
        self._catalogues = catalogues
        self._reference = reference or catalogues
        self.default_language = default_language

    @classmethod
    def shipped(cls, default_language: str = "uk") -> Texts:
        return cls.load(None, default_language)

    @classmethod
    def load(cls, folder: Path | None, default_language: str) -> Texts:
        reference = {lang: _load(SHIPPED / f"{lang}.yaml") for lang in SUPPORTED_LANGUAGES}
        if folder is None:
            return cls(reference, default_language)
        if not folder.is_dir():
            raise ConfigError(f"TEXTS_DIR {folder} is not a folder: create it or unset TEXTS_DIR.")
        custom = {
            lang: _load(folder / f"{lang}.yaml") if (folder / f"{lang}.yaml").exists() else {}
            for lang in SUPPORTED_LANGUAGES
        }
        texts = cls(custom, default_language, reference)
        for lang, missing in texts.missing_keys().items():
            log.warning(
                "TEXTS_DIR %s/%s.yaml lacks %d text(s): %s; the %s text is used instead",
                folder,
                lang,
                len(missing),
                ", ".join(missing),
                "default language's" if lang != default_language else "shipped",
            )
        return texts

    def missing_keys(self) -> dict[str, list[str]]:
        """Keys the reference has that a custom catalogue lacks, per language."""
        result = {}
        for lang in SUPPORTED_LANGUAGES:
            missing = sorted(set(self._reference[lang]) - set(self._catalogues.get(lang, {})))
            if missing:
                result[lang] = missing
        return result

    def language_for(self, language_code: str | None) -> str:
        """Map a platform language code (`uk`, `en-US`, `ru`) to one we speak."""
        base = (language_code or "").split("-")[0].split("_")[0].lower()
        return base if base in SUPPORTED_LANGUAGES else self.default_language

    def get(self, key: str, language: str | None, **values: object) -> str:
        lang = self.language_for(language)
        text = (
            self._catalogues.get(lang, {}).get(key)
            or self._catalogues.get(self.default_language, {}).get(key)
            or self._reference[lang].get(key)
            or self._reference[self.default_language][key]
        )
        return text.format(**values) if values else text


def _load(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path} cannot be read ({error.strerror}): check the file.") from None
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        where = f", line {line + 1}" if line is not None else ""
        raise ConfigError(f"{path}{where} is not valid YAML: fix the quoting there.") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{path} must map text keys to texts in quotes.")
    return {str(k): v for k, v in data.items()}
