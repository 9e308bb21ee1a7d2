"""The aiohttp session for the Bot API, with aiogram's response models kept alive.

aiogram parses every answer with ``Response[method.__returning__]``. pydantic caches such
parametrised models in a ``WeakValueDictionary``, and a model class sits in reference cycles,
so each garbage collection drops the ones not in use and the next call builds the class again:
about 13 ms of CPU, measured at one rebuild per five calls under load (a third of the bridge's
time per message). Holding each one here makes that a one-time cost per method's return type.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

_PINNED: dict[Any, type[Any]] = {}


def pin_response_model(returning: Any) -> None:
    """Keep ``Response[returning]`` alive, so pydantic's cache always finds it."""
    if returning not in _PINNED:
        _PINNED[returning] = Response[returning]


class PinnedModelsSession(AiohttpSession):
    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        pin_response_model(method.__returning__)
        return super().check_response(bot, method, status_code, content)


def telegram_session(api_url: str, timeout: float) -> PinnedModelsSession:
    return PinnedModelsSession(api=TelegramAPIServer.from_base(api_url), timeout=timeout)
