"""The bare baseline: an aiogram bot that copies every private message into one fixed topic.

No database, no lanes, no inbox: an aiohttp webhook answers at once (aiogram's background
handling) and one copyMessage call follows.  This is the floor the bridge is compared with.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

SECRET = "baseline-secret"  # noqa: S105 - a local benchmark secret
PATH = "/webhook"


class Baseline:
    """Start with `start()`, POST updates to `url` with `SECRET`, stop with `stop()`."""

    def __init__(self, api_url: str, token: str, group_id: int, topic_id: int) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        self.bot = Bot(token, session=session)
        self.url = ""
        router = Router()

        @router.message(F.chat.type == "private")
        async def relay(message: Message) -> None:
            await self.bot.copy_message(
                chat_id=group_id,
                from_chat_id=message.chat.id,
                message_id=message.message_id,
                message_thread_id=topic_id,
            )

        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(router)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        SimpleRequestHandler(
            self.dispatcher, self.bot, secret_token=SECRET, handle_in_background=True
        ).register(app, path=PATH)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{PATH}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.bot.session.close()
