"""The demo page: static files, a JSON endpoint per move, and server-sent events.

Every move is a small JSON POST (a file is multipart); anything malformed or unknown gets a
4xx with a sentence, never a crash. The page learns about changes from `/events`: one
snapshot of everything (`bot.demo.view.snapshot`) whenever the world changed. Nothing a
customer or operator typed is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import signal
import tempfile
from collections.abc import Awaitable, Callable
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.demo.clock import WEEKDAYS
from bot.demo.view import snapshot
from bot.demo.world import JSON, TEXT_LIMIT, DemoProblem, DemoWorld
from bot.logs import configure_logging
from bridge.errors import ConfigError

log = logging.getLogger(__name__)

STATIC = ("index.html", "demo.js", "demo.css")
UPLOAD_LIMIT = 10 * 1024 * 1024
KEEP_ALIVE_SECONDS = 10.0
COALESCE_SECONDS = 0.05
CAPTION_LIMIT = 1024
LONGEST_JUMP_MINUTES = 366 * 24 * 60
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> bytes:
    return resources.files("bot.demo").joinpath("static", name).read_bytes()


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A move that makes no sense is answered with its status and one sentence; a move from
    another site's page (a form posted across origins) is refused."""
    try:
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin is not None and origin != _own_origin(request):
            raise DemoProblem(403, "moves come from the demo's own page only")
        return await handler(request)
    except DemoProblem as problem:
        return web.json_response({"error": problem.message}, status=problem.status)


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _body(request: web.Request) -> JSON:
    if request.content_type != "application/json":
        raise DemoProblem(415, "send JSON (Content-Type: application/json)")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise DemoProblem(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise DemoProblem(400, "the body must be a JSON object")
    return body


def _text(body: JSON, key: str = "text", limit: int = TEXT_LIMIT) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DemoProblem(400, f'"{key}" must be a non-empty string')
    if len(value) > limit:
        raise DemoProblem(400, f'"{key}" is longer than {limit} characters')
    return value


def _int(body: JSON, key: str, *, optional: bool = False) -> int | None:
    value = body.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DemoProblem(400, f'"{key}" must be a whole number')
    return value


def _ok() -> web.Response:
    return web.json_response({"ok": True})


class DemoServer:
    """The page's web server in front of a `DemoWorld`."""

    def __init__(self, world: DemoWorld, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.world = world
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[problems], client_max_size=UPLOAD_LIMIT + 65536)
        app.router.add_get("/", self.page)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/state", self.state)
        app.router.add_get("/events", self.events)
        app.router.add_get("/files/telegram/{file_id}", self.telegram_file)
        app.router.add_get("/files/viber/{index}", self.viber_file)
        app.router.add_post("/api/telegram/message", self.telegram_message)
        app.router.add_post("/api/telegram/file", self.telegram_file_upload)
        app.router.add_post("/api/telegram/press", self.telegram_press)
        app.router.add_post("/api/business/message", self.business_message)
        app.router.add_post("/api/business/file", self.business_file_upload)
        app.router.add_post("/api/business/press", self.business_press)
        app.router.add_post("/api/business/owner", self.owner_message)
        app.router.add_post("/api/{channel}/new-customer", self.new_customer)
        app.router.add_post("/api/viber/message", self.viber_message)
        app.router.add_post("/api/viber/file", self.viber_file_upload)
        app.router.add_post("/api/viber/press", self.viber_press)
        app.router.add_post("/api/operator/message", self.operator_message)
        app.router.add_post("/api/operator/press", self.operator_press)
        app.router.add_post("/api/clock", self.move_clock)
        app.on_shutdown.append(self._close_streams)
        return app

    async def start(self) -> None:
        """Listen first (a busy port is told before anything else starts), then the world."""
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                f"{self.host}:{self.port} cannot be used ({error.strerror}): choose another "
                "port with --port."
            ) from None
        self.port = int(self._runner.addresses[0][1])
        await self.world.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.world.stop()

    async def _close_streams(self, app: web.Application) -> None:
        for task in list(self._streams):
            task.cancel()

    # ------------------------------------------------------------------ reading

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(body=_static(name), content_type=kind, charset="utf-8")

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(snapshot(self.world))

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: a snapshot now and after every change (bursts coalesced)."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        changed = asyncio.Event()
        changed.set()
        stop_listening = self.world.on_change(changed.set)
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        last = ""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), KEEP_ALIVE_SECONDS)
                if changed.is_set():
                    changed.clear()
                    await asyncio.sleep(COALESCE_SECONDS)
                data = json.dumps(snapshot(self.world), ensure_ascii=False)
                if data != last:  # the clock's minute turns too
                    await response.write(f"event: state\ndata: {data}\n\n".encode())
                    last = data
                else:
                    await response.write(b": still here\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            stop_listening()
            if task is not None:
                self._streams.discard(task)
        return response

    async def telegram_file(self, request: web.Request) -> web.Response:
        stored = self.world.telegram.files.get(request.match_info["file_id"])
        if stored is None:
            raise DemoProblem(404, "no such file")
        kind = stored.mime_type or mimetypes.guess_type(stored.file_path)[0]
        return _file(stored.data, kind)

    async def viber_file(self, request: web.Request) -> web.Response:
        try:
            entry = self.world.viber_chat[int(request.match_info["index"])]
        except (ValueError, IndexError):
            raise DemoProblem(404, "no such message") from None
        fetched = entry.message.get("fetched") or {}
        if entry.side != "bot" or fetched.get("status") != 200:
            raise DemoProblem(404, "no such file")
        return _file(bytes(fetched["data"]), str(fetched.get("content_type") or "") or None)

    # ------------------------------------------------------------------ customers

    async def telegram_message(self, request: web.Request) -> web.Response:
        await self.world.telegram_writes(_text(await _body(request)))
        return _ok()

    async def telegram_press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message_id = _int(body, "message_id")
        assert message_id is not None
        await self.world.telegram_presses(message_id, _text(body, "data", 64))
        return _ok()

    async def telegram_file_upload(self, request: web.Request) -> web.Response:
        name, data, caption = await _upload(request)
        await self.world.telegram_sends_file(name, data, caption)
        return _ok()

    async def business_message(self, request: web.Request) -> web.Response:
        await self.world.business_writes(_text(await _body(request)))
        return _ok()

    async def business_press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message_id = _int(body, "message_id")
        assert message_id is not None
        await self.world.business_presses(message_id, _text(body, "data", 64))
        return _ok()

    async def business_file_upload(self, request: web.Request) -> web.Response:
        name, data, caption = await _upload(request)
        await self.world.business_sends_file(name, data, caption)
        return _ok()

    async def owner_message(self, request: web.Request) -> web.Response:
        await self.world.owner_writes(_text(await _body(request)))
        return _ok()

    async def new_customer(self, request: web.Request) -> web.Response:
        """`{}` to /api/telegram|viber|business/new-customer: that pane gets a new person (JSON
        all the same, so a plain form from another site cannot post it)."""
        await _body(request)
        await self.world.new_customer(request.match_info["channel"])
        return _ok()

    async def viber_message(self, request: web.Request) -> web.Response:
        await self.world.viber_writes(_text(await _body(request), limit=7000))
        return _ok()

    async def viber_press(self, request: web.Request) -> web.Response:
        await self.world.viber_presses(_text(await _body(request), "body", 4096))
        return _ok()

    async def viber_file_upload(self, request: web.Request) -> web.Response:
        name, data, caption = await _upload(request)
        await self.world.viber_sends_file(name, data, caption)
        return _ok()

    # ------------------------------------------------------------------ operators

    async def operator_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        group, thread = _int(body, "group", optional=True), _int(body, "thread", optional=True)
        await self.world.operator_writes(group, thread or None, _text(body))
        return _ok()

    async def operator_press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        group, message_id = _int(body, "group", optional=True), _int(body, "message_id")
        assert message_id is not None
        await self.world.operator_presses(group, message_id, _text(body, "data", 64))
        return _ok()

    # ------------------------------------------------------------------ clock

    async def move_clock(self, request: web.Request) -> web.Response:
        """`{"minutes": 60}` moves forward; `{"weekday": "sat", "time": "20:00"}` moves to the
        next such moment of the bridge's TIMEZONE."""
        body = await _body(request)
        world = self.world
        if "minutes" in body:
            minutes = _int(body, "minutes")
            assert minutes is not None
            if not 1 <= minutes <= LONGEST_JUMP_MINUTES:
                raise DemoProblem(400, f'"minutes" must be from 1 to {LONGEST_JUMP_MINUTES}')
            world.advance_clock(minutes)
        else:
            weekday = body.get("weekday")
            if weekday not in WEEKDAYS:
                raise DemoProblem(400, f'"weekday" must be one of {", ".join(WEEKDAYS)}')
            try:
                wall = time.fromisoformat(_text(body, "time", 8))
            except ValueError:
                raise DemoProblem(400, '"time" must look like 20:00') from None
            world.clock.advance_to(str(weekday), wall.replace(tzinfo=None), world.schedule.zone)
        return web.json_response({"ok": True, "now": world.clock.now().isoformat()})


def _file(data: bytes, content_type: str | None) -> web.Response:
    kind = content_type or "application/octet-stream"
    headers = {"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"}
    if not kind.startswith(("image/", "video/", "audio/")):
        headers["Content-Disposition"] = "attachment"  # never rendered as a page of ours
    return web.Response(body=data, content_type=kind, headers=headers)


async def _upload(request: web.Request) -> tuple[str, bytes, str]:
    """A file from the page's form: (its name, its bytes, the caption)."""
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise DemoProblem(415, "send the file as multipart/form-data")
    try:
        form = await request.post()  # over UPLOAD_LIMIT: aiohttp answers 413 itself
    except (ValueError, RuntimeError, HttpProcessingError):
        raise DemoProblem(400, "the form is malformed") from None
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise DemoProblem(400, 'attach a file as "file"')
    data = upload.file.read()
    if not data:
        raise DemoProblem(400, "the file is empty")
    caption = form.get("caption")
    caption = caption if isinstance(caption, str) else ""
    if len(caption) > CAPTION_LIMIT:
        raise DemoProblem(400, f"the caption is longer than {CAPTION_LIMIT} characters")
    name = Path(upload.filename or "file").name or "file"
    return name, data, caption


async def serve_demo(port: int, host: str = "127.0.0.1") -> None:
    """`support-bridge demo`: run until Ctrl+C or SIGTERM, in a database of its own that is
    deleted at the end."""
    with tempfile.TemporaryDirectory(prefix="support-bridge-demo-") as workdir:
        world = DemoWorld(Path(workdir))  # the settings files are read (and checked) here
        settings = world.settings
        configure_logging(settings.log_level, settings.log_format, settings.secrets)
        server = DemoServer(world, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await server.start()
            print(f"support-bridge demo: open {server.url} (Ctrl+C stops it)", flush=True)
            await stop.wait()
        finally:
            await server.stop()
