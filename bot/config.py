"""Settings from the environment and `.env`: the public configuration contract."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.errors import ConfigError

VIBER_NAME_LIMIT = 28
TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_HINTS = {
    "telegram_bot_token": "put the token @BotFather gave you into TELEGRAM_BOT_TOKEN",
    "operator_chat_id": (
        "set OPERATOR_CHAT_ID to the id of the operators' forum supergroup "
        "(a negative number; `support-bridge chatid` tells it)"
    ),
}


def http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


class TelegramAccess(BaseSettings):
    """Just enough to talk to the Bot API (what `support-bridge chatid` needs)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = Field(repr=False)
    telegram_api_url: str = "https://api.telegram.org"

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        value = value.strip()
        if not TOKEN_PATTERN.match(value):
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return http_url(value)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the logs must never show (`bot.logs.RedactSecrets`): the token, and every other
        secret the environment holds, though this command does not use them."""
        token = self.telegram_bot_token
        others = SecretsAround()
        return _spellings(
            token,
            token.partition(":")[2],
            others.telegram_webhook_secret or derived_webhook_secret(token),
            others.viber_auth_token,
            _password_in(others.database_url),
            _password_in(others.redis_url),
        )


class SecretsAround(BaseSettings):
    """The secret settings as they are, unchecked: enough to keep them out of the logs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    viber_auth_token: str | None = Field(default=None, repr=False)
    database_url: str | None = Field(default=None, repr=False)
    redis_url: str | None = Field(default=None, repr=False)


class Settings(TelegramAccess):
    """Every setting of `.env.example`; names are a public interface, keep them."""

    operator_chat_id: int
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    public_url: str | None = None
    http_host: str = "0.0.0.0"  # noqa: S104 - a server is meant to listen on all interfaces
    http_port: int = Field(default=8080, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///support-bridge.db"
    redis_url: str | None = Field(default=None, repr=False)
    default_language: Literal["uk", "en"] = "uk"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    album_wait_seconds: float = Field(default=0.8, ge=0.05, le=10)
    polling_timeout_seconds: int = Field(default=25, ge=0, le=50)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    shutdown_timeout_seconds: float = Field(default=10, ge=0)
    webhook_wait_seconds: float = Field(default=10, ge=0)
    rate_limit_chat_per_second: float = Field(default=1, ge=0)
    rate_limit_group_per_minute: int = Field(default=20, ge=0)
    rate_limit_global_per_second: int = Field(default=30, ge=0)
    delivery_attempts: int = Field(default=6, ge=1, le=50)
    retry_first_delay_seconds: float = Field(default=0.5, gt=0, le=60)
    delivery_retry_max_seconds: float = Field(default=30, gt=0, le=3600)
    delivery_alert_minutes: float = Field(default=5, gt=0)
    delivery_check_seconds: float = Field(default=15, gt=0)
    telegram_timeout_seconds: float = Field(default=30, gt=0)
    viber_auth_token: str | None = Field(default=None, repr=False)
    viber_bot_name: str = "Support"
    viber_bot_avatar: str | None = None
    viber_api_url: str = "https://chatapi.viber.com/pa"
    viber_outside_window: Literal["warn", "confirm"] = "warn"
    media_link_hours: float = Field(default=24, gt=0)
    timezone: str = "Europe/Kyiv"
    working_hours: str = "mon-fri 08:00-18:00"
    holidays: str = ""
    offline_silence_minutes: float = Field(default=10, ge=0)
    faq_file: Path | None = None
    departments_file: Path | None = None
    snippets_file: Path | None = None
    texts_dir: Path | None = None
    rating_enabled: bool = True
    business_auto_replies: bool = False  # Telegram Business customers get the bot's auto-replies
    sla_first_response_seconds: float = Field(default=60, gt=0)
    sla_alert_general: bool = False
    sla_check_seconds: float = Field(default=15, gt=0)
    sla_reassign_minutes: float = Field(default=15, gt=0)
    inbox_sweep_seconds: float = Field(default=5, gt=0)
    retention_days: int = Field(default=365, ge=1, le=36500)
    retention_check_seconds: float = Field(default=3600, gt=0)
    stats_exclude_offline: bool = True

    @field_validator("faq_file", "snippets_file", "texts_dir", "departments_file", mode="before")
    @classmethod
    def _empty_path(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("viber_auth_token", "viber_bot_avatar", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("viber_bot_name")
    @classmethod
    def _viber_name(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > VIBER_NAME_LIMIT:
            raise ValueError(f"must be 1 to {VIBER_NAME_LIMIT} characters (Viber's limit)")
        return value

    @field_validator("viber_api_url")
    @classmethod
    def _viber_api_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _viber_needs_public_url(self) -> Settings:
        if self.viber_auth_token and not self.public_url:
            raise ConfigError(
                "VIBER_AUTH_TOKEN is set but PUBLIC_URL is not: Viber only delivers to a "
                "webhook, so set PUBLIC_URL to the bridge's public https address."
            )
        return self

    @property
    def viber_enabled(self) -> bool:
        return self.viber_auth_token is not None

    @field_validator("operator_chat_id")
    @classmethod
    def _negative_chat(cls, value: int) -> int:
        if value >= 0:
            raise ValueError("must be a group id, which is negative (like -1001234567890)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        if value is not None and not SECRET_PATTERN.match(value):
            raise ValueError("may hold only A-Z, a-z, 0-9, _ and -, at most 256 characters")
        return value or None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return http_url(value) if value else None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def webhook_secret(self) -> str:
        """The secret Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`.

        Derived from the token when not set, so webhook mode is protected without extra set-up.
        """
        return self.telegram_webhook_secret or derived_webhook_secret(self.telegram_bot_token)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every token and password in the settings, as the logs could spell them."""
        return _spellings(
            self.telegram_bot_token,
            self.telegram_bot_token.partition(":")[2],
            self.webhook_secret,
            self.viber_auth_token,
            _password_in(self.database_url),
            _password_in(self.redis_url),
        )

    @property
    def topic_link(self) -> str | None:
        """A link template to a topic of the operator group (private supergroups: t.me/c/…)."""
        text = str(self.operator_chat_id)
        if not text.startswith("-100"):
            return None
        return f"https://t.me/c/{text[4:]}/{{topic}}"

    @property
    def telegram_webhook_url(self) -> str | None:
        return f"{self.public_url}/telegram/webhook" if self.public_url else None


def derived_webhook_secret(token: str) -> str:
    return hmac.new(token.encode(), b"support-bridge webhook", hashlib.sha256).hexdigest()


def _password_in(url: str | None) -> str | None:
    """The password of `scheme://user:password@host/...`, if there is one."""
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _spellings(*secrets: str | None) -> tuple[str, ...]:
    """Each secret as it is and as a URL would carry it (percent-encoded)."""
    found: list[str] = []
    for secret in secrets:
        if secret and len(secret) >= 6:  # shorter strings would blank ordinary words
            found += [secret, quote(secret, safe="")]
    return tuple(dict.fromkeys(found))


S = TypeVar("S", bound=TelegramAccess)


def load_settings(kind: type[S], **overrides: object) -> S:
    """Read the settings or raise `ConfigError` with one sentence that says what to fix."""
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        if first["type"] == "missing":
            hint = _HINTS.get(field, f"set {field.upper()}")
            raise ConfigError(f"{field.upper()} is not set: {hint}.") from None
        message = str(first["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        raise ConfigError(
            f"{field.upper()} is invalid ({message}): fix it in .env or the environment."
        ) from None
