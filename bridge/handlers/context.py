"""What a handler works with: one transaction, the rules it decides by, and what it plans.

A handler reads and writes state through `tx` and plans deliveries through `to_topic`,
`to_customer`, `to_general` and `answer`; the planned deliveries are stored in the same
transaction as the state (and the command's done mark), so both happen or neither does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.auto_replies import AutoReplies
from bridge.deliveries import AnswerButton, Delivery, Planned, as_new
from bridge.departments import Department, Departments, group_destination
from bridge.faq.source import FaqSource
from bridge.lane_names import customer_lane
from bridge.model import Customer, OutboxItem, Platform
from bridge.ports import UnitOfWork
from bridge.screens import Screens
from bridge.snippets import Snippet
from bridge.texts import Texts

BUTTONS = "buttons"  # the destination of button acknowledgements: instant, no budget, no order
GENERAL_LANE = "general"


@dataclass(frozen=True)
class Rules:
    """The settings the core decides by, fixed at start."""

    texts: Texts
    screens: Screens
    faq: FaqSource
    desk: str  # the operator group's destination
    channels: Mapping[Platform, timedelta | None]  # enabled platforms → their free window
    auto: AutoReplies | None = None
    ratings: bool = True
    hold_outside_window: bool = False
    gather: timedelta = timedelta(seconds=0.8)  # an album or a first post waits this for more
    departments: Departments | None = None  # None: one, the group of `desk`
    # departments with working hours of their own (by id); the others go by `auto`
    department_autos: Mapping[str, AutoReplies] = field(default_factory=dict)

    def auto_for(self, customer: Customer) -> AutoReplies | None:
        """The offline replies by the hours of the customer's department."""
        department = self.department_of(customer)
        if department is not None and department.id in self.department_autos:
            return self.department_autos[department.id]
        return self.auto

    def replies_for(self, customer: Customer) -> AutoReplies | None:
        """The bot's own replies to what the customer writes (offline, acknowledgement, FAQ
        match); off for Telegram Business unless asked for, since the account's owner may
        already use Telegram's own away and greeting messages."""
        if customer.platform is Platform.TELEGRAM_BUSINESS and not self.business_auto_replies:
            return None
        return self.auto_for(customer)

    @property
    def default_group(self) -> int:
        if self.departments is not None:
            return self.departments.default.group
        return int(self.desk.removeprefix("group:"))

    def department_of(self, customer: Customer) -> Department | None:
        if self.departments is None:
            return None
        return self.departments.get(customer.department) or self.departments.default

    def topic_group(self, customer: Customer) -> int:
        """The group the customer's topic is in, or is to be made in (their department's)."""
        if customer.group_id is not None:
            return customer.group_id
        department = self.department_of(customer)
        return department.group if department is not None else self.default_group

    def topic_destination(self, customer: Customer) -> str:
        return group_destination(self.topic_group(customer))

    snippets: Mapping[str, Snippet] = field(default_factory=dict)  # SNIPPETS_FILE's
    business_auto_replies: bool = False  # BUSINESS_AUTO_REPLIES
    desk_title: str | None = None  # the operator group's title, as Telegram told it at start


def customer_destination(customer: Customer) -> str:
    return f"{customer.platform.value}:{customer.external_id}"


class Context:
    def __init__(self, tx: UnitOfWork, rules: Rules, now: datetime) -> None:
        self.tx = tx
        self.rules = rules
        self.now = now
        self.planned: list[Planned] = []
        self.changed: list[OutboxItem] = []  # held deliveries this command extended

    @property
    def texts(self) -> Texts:
        return self.rules.texts

    def to_topic(
        self, customer: Customer, delivery: Delivery, hold_until: datetime | None = None
    ) -> None:
        lane = customer_lane(customer.platform, customer.external_id)
        destination = self.rules.topic_destination(customer)
        self.planned.append(Planned(delivery, destination, lane, customer.id, hold_until))

    def to_customer(
        self, customer: Customer, delivery: Delivery, hold_until: datetime | None = None
    ) -> None:
        lane = customer_lane(customer.platform, customer.external_id)
        destination = customer_destination(customer)
        self.planned.append(Planned(delivery, destination, lane, customer.id, hold_until))

    def to_general(self, delivery: Delivery, about: Customer | None = None) -> None:
        """`about`: the customer the line names, so erasing them finds it in the outbox."""
        customer_id = about.id if about is not None else None
        self.planned.append(Planned(delivery, self.rules.desk, GENERAL_LANE, customer_id))

    def to_lane(self, lane: str, delivery: Delivery, group_id: int = 0) -> None:
        """Into an operator group, ordered with a lane that has no customer (a topic's)."""
        destination = group_destination(group_id) if group_id else self.rules.desk
        self.planned.append(Planned(delivery, destination, lane))

    async def topic_customer(self, group_id: int, topic_id: int) -> Customer | None:
        """Whose topic this is; group 0 is OPERATOR_CHAT_ID's (commands stored before)."""
        return await self.tx.customers.by_topic(group_id or self.rules.default_group, topic_id)

    def answer(self, callback_id: str | None, text: str = "") -> None:
        if callback_id:
            self.planned.append(Planned(AnswerButton(callback_id, text[:200]), BUTTONS, BUTTONS))

    async def store(self) -> tuple[list[OutboxItem], list[int]]:
        """Write the planned deliveries into the outbox (in this transaction)."""
        news = [as_new(p, self.now) for p in self.planned]
        added, dropped = await self.tx.outbox.add(news, self.now)
        return [*self.changed, *added], dropped
