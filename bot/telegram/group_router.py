"""Commands for the whole operator group (any topic, General too): /queue, /mine and /stats;
and who writes there outside customers' topics (their @username, for `/assign`)."""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from bot.reports import Reports
from bot.telegram.calls import call
from bot.telegram.mappers import operator_from
from bot.telegram.membership import Membership, SeenOperators
from bot.telegram.operator_router import counts_as_operator
from bridge.commands import OperatorSeen
from bridge.departments import Departments
from bridge.stats import format_report
from bridge.waiting import WaitingWatch

PERIODS_HELP = "Use /stats, /stats today, /stats 7d or /stats 30d."


def whose(
    departments: Departments, group: int, words: list[str]
) -> tuple[frozenset[str] | None, list[str]]:
    """Which departments a command asks about: a department's id, `all`, or by default this
    group's (None: everyone's, as with one department); and the words left over."""
    rest = [w for w in words if w.lower() != "all" and departments.get(w.lower()) is None]
    asked = {w.lower() for w in words if departments.get(w.lower()) is not None}
    if not departments.several or any(w.lower() == "all" for w in words):
        return None, rest
    if asked:
        return frozenset(asked), rest
    return frozenset(d.id for d in departments.of_group(group)) or None, rest


def named(departments: Departments, chosen: frozenset[str] | None) -> str:
    if chosen is None:
        return ""
    return ", ".join(d.name.en for d in departments.all if d.id in chosen)


def group_router(groups: Collection[int]) -> Router:
    router = Router(name="operator-group")
    router.message.filter(F.chat.id.in_(set(groups)))

    @router.message(Command("queue"))
    async def queue(
        message: Message,
        command: CommandObject,
        waiting: WaitingWatch,
        membership: Membership,
        departments: Departments,
    ) -> None:
        """/queue: this group's departments; /queue all, /queue <department id>."""
        if not await counts_as_operator(message, groups, membership):
            return
        chosen, _ = whose(departments, message.chat.id, (command.args or "").split())
        text = waiting.render_queue(await waiting.queue(chosen), named(departments, chosen))
        await call(lambda: message.reply(text, parse_mode="HTML", disable_web_page_preview=True))

    @router.message(Command("mine"))
    async def mine(message: Message, waiting: WaitingWatch, membership: Membership) -> None:
        """The conversations the operator owns, waiting ones first, with links."""
        if not await counts_as_operator(message, groups, membership):
            return
        user = message.from_user
        if message.sender_chat is not None or user is None:
            text = "Anonymous admins own no conversations: write as yourself to take one."
        else:
            text = waiting.render_mine(await waiting.mine(user.id))
        await call(lambda: message.reply(text, parse_mode="HTML", disable_web_page_preview=True))

    @router.message(Command("stats"))
    async def stats(
        message: Message,
        command: CommandObject,
        reports: Reports,
        membership: Membership,
        departments: Departments,
    ) -> None:
        """/stats [period] [department id | all]: this group's departments by default."""
        if not await counts_as_operator(message, groups, membership):
            return
        chosen, rest = whose(departments, message.chat.id, (command.args or "").split())
        name = (rest[0] if rest else "7d").lower()
        try:
            report = await reports.report(name, chosen)
        except ValueError:
            await call(lambda: message.reply(PERIODS_HELP))
            return
        heading = f"📊 <b>{escape(named(departments, chosen))}</b>\n" if chosen else ""
        text = f"{heading}<pre>{escape(format_report(report))}</pre>"
        await call(lambda: message.reply(text, parse_mode="HTML"))
        chart = BufferedInputFile(await reports.chart(report), filename="stats.png")
        await call(lambda: message.answer_photo(chart))  # in the topic the command came from

    @router.message(~F.is_topic_message.is_(True))
    async def seen(
        message: Message, membership: Membership, seen_operators: SeenOperators
    ) -> OperatorSeen | None:
        """A member writing outside customers' topics (General): remembered, when new to
        this process, so `/assign @username` finds them. (In a topic, what they do is a
        command that remembers them anyway.)"""
        user = message.from_user
        if user is None or user.is_bot or message.sender_chat is not None:
            return None
        operator = operator_from(user)
        if not seen_operators.is_new(operator.id, operator.name, operator.username):
            return None
        if not await membership.is_member(user.id, message.chat.id):
            return None
        seen_operators.remember(operator.id, operator.name, operator.username)
        return OperatorSeen(operator)

    return router
