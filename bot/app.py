"""The composition root: settings in, a running bridge out. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
from aiogram import Bot, Dispatcher
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings, TelegramAccess
from bot.garbage_collection import settle_after_start
from bot.http_fetch import MediaFetcher
from bot.intake_health import INTAKE
from bot.media_endpoint import media_endpoint
from bot.metrics import (
    METRICS,
    Check,
    PrometheusMetrics,
    database_ready,
    metrics_endpoint,
    readiness_endpoint,
    timing_middleware,
)
from bot.pacing_setup import open_pacing_store
from bot.reports import Reports
from bot.supervision import Supervisor
from bot.telegram.business_channel import TelegramBusinessChannel
from bot.telegram.business_router import business_router
from bot.telegram.button_answers import TelegramButtonAnswers
from bot.telegram.calls import configure as configure_retries
from bot.telegram.customer_channel import TelegramCustomerChannel
from bot.telegram.customer_router import customer_router
from bot.telegram.group_router import group_router
from bot.telegram.intake import TelegramIntake
from bot.telegram.membership import Membership, SeenOperators
from bot.telegram.operator_desk import TelegramOperatorDesk
from bot.telegram.operator_router import operator_router, setup_router
from bot.telegram.polling import fatal as polling_fatal
from bot.telegram.polling import poll
from bot.telegram.rate_limit import RateLimiter
from bot.telegram.sending import TelegramSender
from bot.telegram.session import telegram_session
from bot.telegram.startup_checks import business_mode_hint, check_telegram
from bot.telegram.uploads import ForeignUploader
from bot.viber.api import ViberApi
from bot.viber.customer_channel import ViberCustomerChannel
from bot.viber.events import ViberEvents
from bot.viber.outgoing import ViberMessageBuilder
from bot.viber.webhook import viber_parser, viber_webhook
from bot.web import READY, make_web_app, telegram_webhook
from bridge.auto_replies import AutoReplies
from bridge.button_seal import ButtonSeal
from bridge.clock import Clock, SystemClock
from bridge.commands import Command
from bridge.decisions import Decisions
from bridge.delivery.budget import Budgets
from bridge.delivery.perform import Performer
from bridge.delivery.service import DeliveryService
from bridge.departments import Departments, group_destination
from bridge.errors import ConfigError
from bridge.faq.source import FaqSource
from bridge.handlers.context import Rules
from bridge.handlers.customers import command_failed as report_failed
from bridge.inbox import Inbox, Legacy
from bridge.lane_locks import LaneLocks, LocalLaneLocks
from bridge.lane_names import TopicLanes
from bridge.lanes import Lanes
from bridge.lease import Lease
from bridge.media_links import MediaLinks
from bridge.model import InboxItem, Platform
from bridge.pacing.store import PacingStore
from bridge.ports import CustomerChannel, OperatorDesk
from bridge.retention import Retention
from bridge.screens import Screen, Screens
from bridge.snippets import load_file as load_snippets
from bridge.storage.advisory_locks import AdvisoryLaneLocks
from bridge.storage.database import make_engine, make_sessions, migrate
from bridge.storage.unit_of_work import SqlUnitOfWorkFactory
from bridge.texts import Texts
from bridge.waiting import WaitingWatch
from bridge.working_hours import Schedule

log = logging.getLogger(__name__)


def telegram_bot(settings: TelegramAccess, timeout: float = 30) -> Bot:
    return Bot(
        settings.telegram_bot_token, session=telegram_session(settings.telegram_api_url, timeout)
    )


class Application:
    """The whole bridge; `start` returns once it serves, `stop` shuts it down in order."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.lanes = Lanes()
        self.port: int | None = None
        self._engine: AsyncEngine | None = None
        self._bot: Bot | None = None
        self._runner: web.AppRunner | None = None
        self.delivery: DeliveryService | None = None
        self._upkeep_task: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self.faq: FaqSource | None = None
        self.metrics: PrometheusMetrics | None = None
        self._sla_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._role_lease: Lease | None = None
        self._pacing: PacingStore | None = None
        self._lane_locks: LaneLocks = LocalLaneLocks()
        self._sweep_task: asyncio.Task[None] | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self.supervisor = Supervisor()  # restarts the background loops below if they end

    async def start(self) -> None:
        settings = self.settings
        snippets = load_snippets(settings.snippets_file)  # a broken file stops the start first
        faq = self.faq = FaqSource(settings.faq_file)
        departments = load_departments(settings, faq)
        self._engine = make_engine(settings.database_url)
        await migrate(self._engine)
        async with SqlUnitOfWorkFactory(make_sessions(self._engine))() as tx:
            await tx.customers.adopt_topics(settings.operator_chat_id)  # topics from before
            await tx.commit()
        await self._take_single_process_role(make_sessions(self._engine))
        bot = self._bot = telegram_bot(settings, settings.telegram_timeout_seconds)
        metrics = self.metrics = PrometheusMetrics()
        configure_retries(
            settings.delivery_attempts,
            settings.retry_first_delay_seconds,
            on_flood=lambda: metrics.rate_limited("telegram"),
        )
        me, titles = await check_telegram(
            bot,
            [
                ("OPERATOR_CHAT_ID", settings.operator_chat_id),
                *(
                    (f'the group of department "{d.id}" in DEPARTMENTS_FILE', d.group)
                    for d in departments.all
                ),
            ],
            settings.telegram_api_url,
        )
        desk_title = titles.get(settings.operator_chat_id)
        self._pacing = await open_pacing_store(settings.redis_url, self._engine)
        # An injected clock (tests) moves the pacing too; otherwise each store keeps its own.
        pacing_clock = None if isinstance(self.clock, SystemClock) else self._seconds
        budgets = Budgets(settings.rate_limit_group_per_minute, pacing_clock or time.monotonic)
        desk_destination = group_destination(settings.operator_chat_id)
        groups = (settings.operator_chat_id, *departments.groups)

        def spent(chat_id: int, count: int) -> None:
            if chat_id < 0:
                budgets.of(f"group:{chat_id}").spent(count)

        bot.session.middleware(
            RateLimiter(
                settings.rate_limit_chat_per_second,
                settings.rate_limit_group_per_minute,
                settings.rate_limit_global_per_second,
                store=self._pacing,
                namespace=f"telegram:{bot.id}",
                clock=pacing_clock,
                spent=spent,
            )
        )
        http = self._http = aiohttp.ClientSession()

        sender = TelegramSender(bot)
        texts = Texts.load(settings.texts_dir, settings.default_language)
        schedule = Schedule.parse(settings.timezone, settings.working_hours, settings.holidays)
        screens = Screens(texts)
        sessions = make_sessions(self._engine)
        uow = SqlUnitOfWorkFactory(sessions)
        auto_replies = AutoReplies(
            screens, schedule, faq, timedelta(minutes=settings.offline_silence_minutes)
        )

        def viber_menu(language: str | None) -> Screen:
            return screens.menu(faq.catalog, texts.language_for(language))

        uploader = ForeignUploader(bot, MediaFetcher(http))
        seal = ButtonSeal.from_secret(settings.telegram_bot_token)
        channels: dict[Platform, CustomerChannel] = {
            Platform.TELEGRAM: TelegramCustomerChannel(sender, seal),
            Platform.TELEGRAM_BUSINESS: TelegramBusinessChannel(sender, seal),
        }
        viber_api = None
        media_links = MediaLinks(uow, self.clock, timedelta(hours=settings.media_link_hours))
        if settings.viber_auth_token and settings.public_url:
            sender_profile = {"name": settings.viber_bot_name}
            if settings.viber_bot_avatar:
                sender_profile["avatar"] = settings.viber_bot_avatar
            viber_api = ViberApi(
                http,
                settings.viber_api_url,
                settings.viber_auth_token,
                sender_profile,
                attempts=settings.delivery_attempts,
                first_delay=settings.retry_first_delay_seconds,
                on_flood=lambda: metrics.rate_limited("viber"),
            )
            builder = ViberMessageBuilder(media_links, settings.public_url)
            channels[Platform.VIBER] = ViberCustomerChannel(viber_api, builder, viber_menu, seal)
        desks: dict[str, OperatorDesk] = {
            group_destination(group): TelegramOperatorDesk(sender, group, uploader)
            for group in dict.fromkeys(groups)  # OPERATOR_CHAT_ID's first: General's
        }
        rules = Rules(
            texts=texts,
            screens=screens,
            faq=faq,
            desk=desk_destination,
            channels={platform: channel.free_window for platform, channel in channels.items()},
            auto=auto_replies,
            ratings=settings.rating_enabled,
            hold_outside_window=settings.viber_outside_window == "confirm",
            gather=timedelta(seconds=settings.album_wait_seconds),
            snippets=snippets,
            business_auto_replies=settings.business_auto_replies,
            desk_title=desk_title,
            departments=departments,
            department_autos={
                d.id: AutoReplies(
                    screens,
                    Schedule.parse(settings.timezone, d.hours, settings.holidays),
                    faq,
                    timedelta(minutes=settings.offline_silence_minutes),
                )
                for d in departments.all
                if d.hours is not None
            },
        )
        decisions = Decisions(uow, rules, self.clock)
        self._lane_locks = lane_locks_for(self._engine)
        delivery = self.delivery = DeliveryService(
            uow,
            Performer(uow, desks, channels, TelegramButtonAnswers(bot), rules, metrics, self.clock),
            self.clock,
            list(desks),
            budgets,
            claims=self._lane_locks,
            first_delay=settings.retry_first_delay_seconds,
            longest_delay=settings.delivery_retry_max_seconds,
            alert_after=timedelta(minutes=settings.delivery_alert_minutes),
        )
        decisions.notify = delivery.notify
        watch = WaitingWatch(
            uow,
            decisions,
            self.clock,
            schedule,
            timedelta(seconds=settings.sla_first_response_seconds),
            settings.topic_link,
            settings.sla_alert_general,
            timedelta(minutes=settings.sla_reassign_minutes),
            departments.default.id,
        )
        self._sla_task = self.supervisor.start(
            "SLA reminder", lambda: every(settings.sla_check_seconds, watch.remind, "SLA reminder")
        )
        legacy: dict[str, Legacy] = {}

        async def map_legacy(item: InboxItem) -> Command | None:
            mapper = legacy.get(item.platform)
            return await mapper(item) if mapper is not None else None

        async def command_failed(item: InboxItem, why: str) -> None:
            await decisions.run(lambda ctx: report_failed(ctx, item.lane, why))

        inbox = Inbox(
            uow,
            decisions,
            self.lanes,
            self.clock,
            first_delay=settings.retry_first_delay_seconds,
            on_give_up=command_failed,
            lane_locks=self._lane_locks,
            legacy=map_legacy,
        )
        dispatcher = Dispatcher(
            texts=texts,
            faq=faq,
            screens=screens,
            membership=Membership(bot, groups),
            seen_operators=SeenOperators(),
            waiting=watch,
            reports=Reports(
                sessions,
                self.clock,
                schedule,
                settings.sla_first_response_seconds,
                settings.stats_exclude_offline,
                departments.default.id,
            ),
            departments=departments,
        )
        dispatcher.include_routers(  # customers first: most updates are theirs, and a
            business_router(seal),  # private chat matches none of the group's routers anyway
            customer_router(seal),
            setup_router(),
            group_router(groups),
            operator_router(groups),
        )
        intake = TelegramIntake(
            bot, dispatcher, inbox, settings.webhook_wait_seconds, TopicLanes(uow)
        )
        legacy["telegram"] = intake.legacy
        allowed = dispatcher.resolve_used_update_types()

        app = make_web_app(settings.max_body_bytes)
        app.middlewares.append(timing_middleware)
        app[METRICS] = metrics
        engine = self._engine
        checks: dict[str, Check] = {
            "database": lambda: database_ready(engine),
            "telegram": bot.get_me,
        }

        async def outbox_depth() -> list[tuple[str, int, datetime]]:
            async with uow() as tx:
                return await tx.outbox.depth()

        app.router.add_get(
            "/metrics", metrics_endpoint(metrics, engine, outbox_depth, self.clock.now)
        )
        if settings.telegram_webhook_url:
            app.router.add_post(
                "/telegram/webhook", telegram_webhook(bot, settings.webhook_secret, intake.handle)
            )
        if viber_api is not None and settings.viber_auth_token:
            parser = viber_parser(settings.viber_auth_token, settings.viber_bot_name)
            events = ViberEvents(viber_api, screens, faq, texts, parser, seal)
            legacy["viber"] = events.legacy
            app.router.add_post(
                "/viber/webhook",
                viber_webhook(
                    settings.viber_auth_token,
                    parser,
                    events,
                    inbox,
                    settings.webhook_wait_seconds,
                    self.clock.now,
                ),
            )
            app.router.add_routes(media_endpoint(media_links, bot, http))
            api = viber_api
            checks["viber"] = lambda: api.call("get_account_info", {})
        checks["intake"] = app[INTAKE].check
        app.router.add_get("/readyz", readiness_endpoint(checks))
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.http_host, settings.http_port)
        try:
            await site.start()
        except OSError as error:
            raise ConfigError(
                f"HTTP_HOST:HTTP_PORT {settings.http_host}:{settings.http_port} cannot be used "
                f"({error.strerror}): choose a free port."
            ) from None
        self.port = self._runner.addresses[0][1]

        if settings.telegram_webhook_url:
            await bot.set_webhook(
                settings.telegram_webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=allowed,
            )
            log.info("webhook mode: %s", settings.telegram_webhook_url)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            self._polling = self.supervisor.start(
                "Telegram polling",
                lambda: poll(bot, intake, allowed, settings.polling_timeout_seconds, app[INTAKE]),
                fatal=polling_fatal,
            )
            log.info("long polling mode (PUBLIC_URL is not set)")
        if viber_api is not None:
            # Viber calls the webhook back before it answers: the server is already listening.
            await viber_api.set_webhook(f"{settings.public_url}/viber/webhook")
            log.info("Viber channel on: %s/viber/webhook", settings.public_url)
        await delivery.start()  # what earlier runs decided but did not send
        await inbox.resume()  # what a previous run committed but did not handle
        if self._lane_locks.shared:  # other replicas may die holding lanes: pick those up
            sweep = self._sweep(inbox, delivery)
            self._sweep_task = self.supervisor.start(
                "sweep", lambda: every(settings.inbox_sweep_seconds, sweep, "sweep")
            )
        self._upkeep_task = self.supervisor.start(
            "outbox upkeep",
            lambda: every(settings.delivery_check_seconds, delivery.alert_if_late, "outbox upkeep"),
        )
        # Every replica forgets what is too old, from the start on: each delete is idempotent.
        retention = Retention(uow, self.clock, timedelta(days=settings.retention_days))
        self._retention_task = self.supervisor.start(
            "retention",
            lambda: every(settings.retention_check_seconds, retention.run, "retention", first=0),
        )
        app[READY].ready = True
        log.info("support-bridge is ready on %s:%s", settings.http_host, self.port)
        business_mode_hint(me)

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    @staticmethod
    def _sweep(inbox: Inbox, delivery: DeliveryService) -> Callable[[], Awaitable[object]]:
        async def sweep() -> None:
            await inbox.sweep()
            await delivery.sweep()

        return sweep

    async def _take_single_process_role(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Polling, and anything on SQLite, is one process per database: refuse a second."""
        assert self._engine is not None
        polling = not self.settings.telegram_webhook_url
        if polling:
            name, what = "telegram-polling", "already polls Telegram with this database"
            fix = (
                "run one process in polling mode, or set PUBLIC_URL to run several behind webhooks"
            )
        elif self._engine.dialect.name == "sqlite":
            name, what = "sqlite-process", "already runs on this SQLite database"
            fix = (
                "SQLite serves one process, so run one, or move DATABASE_URL to PostgreSQL "
                "to run several replicas"
            )
        else:
            return  # webhook mode on PostgreSQL: replicas welcome
        lease = Lease(sessions, self.clock, name)
        ok, holder, until = await lease.acquire()
        if not ok:
            held = f" until {until:%H:%M:%S} UTC" if until else ""
            raise ConfigError(f"Another support-bridge ({holder}) {what}{held}: {fix}.")
        self._role_lease = lease
        self._lease_task = self.supervisor.start(
            f"{name} lease",
            lambda: every(lease.ttl.total_seconds() / 3, lease.renew, f"{name} lease"),
        )

    @property
    def engine(self) -> AsyncEngine | None:
        return self._engine

    def reload(self) -> None:
        """SIGHUP: read the FAQ file again (a broken file keeps the previous catalogue)."""
        if self.faq is not None:
            self.faq.reload()

    async def stop(self) -> None:
        """Stop taking updates, finish work in flight (bounded), release everything."""
        for task in (
            self._sla_task,
            self._lease_task,
            self._polling,
            self._sweep_task,
            self._upkeep_task,
            self._retention_task,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._runner is not None:
            await self._runner.shutdown()
        if not await self.lanes.drain(self.settings.shutdown_timeout_seconds):
            log.warning("shutdown: some work did not finish in time")
        if self.delivery is not None:
            await self.delivery.stop(self.settings.shutdown_timeout_seconds)
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(Exception):
            await self._lane_locks.close()
        if self._role_lease is not None:
            with contextlib.suppress(Exception):
                await self._role_lease.release()
        if self._bot is not None:
            await self._bot.session.close()
        if self._pacing is not None:
            with contextlib.suppress(Exception):
                await self._pacing.close()
        if self._http is not None:
            await self._http.close()
        if self._engine is not None:
            await self._engine.dispose()


def lane_locks_for(engine: AsyncEngine) -> LaneLocks:
    """PostgreSQL may be shared by several replicas; SQLite serves one process."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLaneLocks(engine)
    return LocalLaneLocks()


async def every(
    seconds: float, job: Callable[[], Awaitable[object]], name: str, first: float | None = None
) -> None:
    """Run a periodic job until cancelled; a failure is logged, never fatal. `first`: the wait
    before the first run (`seconds` unless given)."""
    await asyncio.sleep(seconds if first is None else first)
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(seconds)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT."""
    application = Application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await application.start()
        settle_after_start()
        loop.add_signal_handler(signal.SIGHUP, application.reload)
        await application.supervisor.until(stop)  # or a loop's fatal failure: ConfigError
        log.info("stopping")
    finally:
        await application.stop()


def load_departments(settings: Settings, faq: FaqSource) -> Departments:
    """DEPARTMENTS_FILE, checked against the FAQ; without it, one: OPERATOR_CHAT_ID."""
    if settings.departments_file is None:
        return Departments.single(settings.operator_chat_id)
    departments = Departments.load(settings.departments_file, faq.catalog, settings.timezone)
    if settings.operator_chat_id not in departments.groups:
        raise ConfigError(
            f"OPERATOR_CHAT_ID {settings.operator_chat_id} is the group of no department in "
            f"DEPARTMENTS_FILE {settings.departments_file}: set it to the group of one of them "
            "(General's alerts go there)."
        )
    return departments
