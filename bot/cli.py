"""The `support-bridge` command: run, migrate, chatid, stats, forget-customer, export-customer,
demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings, TelegramAccess, load_settings
from bot.logs import configure_logging
from bridge.errors import ConfigError
from bridge.model import Platform

log = logging.getLogger("support-bridge")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="support-bridge",
        description="Customer support bridge: Telegram and Viber customers, "
        "one forum topic per customer for operators.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bridge (webhook mode when PUBLIC_URL is set)")
    commands.add_parser("migrate", help="bring the database schema up to date and exit")
    commands.add_parser(
        "chatid", help="answer /chatid in any group the bot is in (first set-up; polling)"
    )
    stats = commands.add_parser("stats", help="print service-quality figures for recent days")
    stats.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    stats.add_argument("--csv", type=Path, help="also write one row per conversation to FILE")
    forget = commands.add_parser(
        "forget-customer",
        help="erase one customer and everything stored about them (works while the bridge runs)",
        description="Erase one customer: their profile, conversations, ratings and comments, "
        "messages, stored updates, deliveries, media links and held messages. Exit status: 0 "
        "erased, 1 no such customer, 2 bad configuration, 3 erased but Telegram refused to "
        "delete the topic.",
    )
    _customer_arguments(forget)
    forget.add_argument(
        "--delete-topic",
        action="store_true",
        help="also delete their topic in the operator group (the bot needs the right to "
        "delete messages)",
    )
    export = commands.add_parser(
        "export-customer",
        help="write everything stored about one customer as JSON",
        description="Write one customer's data as JSON (UTF-8): their profile, conversations "
        "with ratings and comments, the messages kept, media links. Exit status: 0 written, "
        "1 no such customer, 2 bad configuration or FILE cannot be written.",
    )
    _customer_arguments(export)
    export.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write to FILE (made readable by you only) instead of stdout",
    )
    demo = commands.add_parser(
        "demo",
        help="see it work without a bot: the bridge against built-in stand-ins of Telegram and "
        "Viber, on one web page",
        description="Run the real bridge against built-in stand-ins of the Telegram Bot API and "
        "the Viber REST API (no tokens, no internet), with a page showing a Telegram customer, "
        "a Viber customer and the operators' group. It reads FAQ_FILE, TEXTS_DIR, "
        "WORKING_HOURS, DEPARTMENTS_FILE, SNIPPETS_FILE and the other settings like `run`, but "
        "never the token, the servers or the database: it uses a database of its own, "
        "deleted when it stops.",
    )
    demo.add_argument(
        "--port", type=int, default=8080, help="the page's port on 127.0.0.1 (default 8080)"
    )
    return parser


def _external_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 64:
        raise argparse.ArgumentTypeError(
            "must be the customer's id on that platform (1 to 64 characters)"
        )
    return value


def _customer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "platform", choices=[p.value for p in Platform], help="where the customer writes from"
    )
    parser.add_argument(
        "id",
        type=_external_id,
        help="their id there: the Telegram user id (the number in the card's profile link) or "
        "the Viber user id",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            if not 0 <= args.port <= 65535:
                raise ConfigError("--port must be between 0 and 65535.")
            from bot.demo.server import serve_demo

            asyncio.run(serve_demo(args.port))
            return 0
        if args.command == "chatid":
            access = load_settings(TelegramAccess)
            configure_logging("INFO", "text", access.secrets)
            from bot.setup_chatid import answer_chatid

            asyncio.run(answer_chatid(access))
            return 0
        settings = load_settings(Settings)
        configure_logging(settings.log_level, settings.log_format, settings.secrets)
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("The database is up to date.")
            return 0
        if args.command in ("forget-customer", "export-customer"):
            return asyncio.run(_customer_request(settings, args))
        if args.command == "stats":
            if not 1 <= args.days <= 3660:
                raise ConfigError("--days must be between 1 and 3660.")
            print(asyncio.run(_stats(settings, args.days, args.csv)))
            return 0
        from bot.app import serve

        asyncio.run(serve(settings))
        return 0
    except ConfigError as error:
        print(f"support-bridge: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _customer_request(settings: Settings, args: argparse.Namespace) -> int:
    from bot import customer_requests

    platform = Platform(args.platform)
    if args.command == "forget-customer":
        return await customer_requests.forget(settings, platform, args.id, args.delete_topic)
    return await customer_requests.export(settings, platform, args.id, args.output)


async def _stats(settings: Settings, days: int, csv_path: Path | None) -> str:
    from bot.reports import Reports
    from bridge.clock import SystemClock
    from bridge.stats import format_report
    from bridge.storage.database import make_engine, make_sessions, migrate
    from bridge.working_hours import Schedule

    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
        schedule = Schedule.parse(settings.timezone, settings.working_hours, settings.holidays)
        reports = Reports(
            make_sessions(engine),
            SystemClock(),
            schedule,
            settings.sla_first_response_seconds,
            settings.stats_exclude_offline,
        )
        text = format_report(await reports.report(f"{days}d"))
        if csv_path is not None:
            try:
                rows = await reports.export_csv(f"{days}d", csv_path)
            except OSError as error:
                raise ConfigError(
                    f"--csv {csv_path} cannot be written ({error.strerror})."
                ) from None
            text += f"\n\n{rows} conversation(s) written to {csv_path}."
        return text
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    from bridge.storage.database import make_engine, migrate

    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
