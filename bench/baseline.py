"""The bare baseline: an aiogram bot that copies every customer message into one fixed topic.

No database, no lanes, no inbox.  One aiohttp server takes both webhooks and answers at once:

* Telegram (``/webhook``): aiogram's handler in background mode, then one copyMessage;
* Viber (``/viber``): check the signature, parse the JSON, then (in the background, like
  aiogram's) one sendMessage with the text.

This is the floor the bridge is compared with.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

SECRET = "baseline-secret"  # noqa: S105 - a local benchmark secret
PATH = "/webhook"
VIBER_PATH = "/viber"
VIBER_SIGNATURE = "X-Viber-Content-Signature"


class Baseline:
    """Start with `start()`, POST updates to `url` / `viber_url`, stop with `stop()`."""

    def __init__(
        self, api_url: str, token: str, group_id: int, topic_id: int, viber_token: str
    ) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        self.bot = Bot(token, session=session)
        self.url = ""
        self.viber_url = ""
        self._group, self._topic = group_id, topic_id
        self._viber_key = viber_token.encode()
        self._tasks: set[asyncio.Task[object]] = set()
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

    async def viber(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = hmac.new(self._viber_key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get(VIBER_SIGNATURE, ""), expected):
            return web.json_response({"error": "wrong signature"}, status=403)
        event = json.loads(body)
        message = event.get("message") or {}
        if event.get("event") == "message" and message.get("type") == "text":
            send = self.bot.send_message(
                self._group, message["text"], message_thread_id=self._topic
            )
            task: asyncio.Task[object] = asyncio.create_task(send)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response({})

    async def start(self) -> None:
        app = web.Application()
        SimpleRequestHandler(
            self.dispatcher, self.bot, secret_token=SECRET, handle_in_background=True
        ).register(app, path=PATH)
        app.router.add_post(VIBER_PATH, self.viber)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{PATH}"
        self.viber_url = f"http://{host}:{port}{VIBER_PATH}"

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await self.bot.session.close()
