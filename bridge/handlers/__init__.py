"""The core's use cases: one handler per command, found by the command's name.

Each reads, decides and writes in the one transaction it is given (`Context`); it returns
nothing and calls no platform: what must reach someone is planned as a delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bridge.commands import Command
from bridge.handlers.business import business_connection_changed, customer_deleted, owner_wrote
from bridge.handlers.context import Context
from bridge.handlers.customers import (
    customer_edited,
    customer_reachability,
    customer_wrote,
    delivery_reported,
)
from bridge.handlers.help_section import customer_pressed
from bridge.handlers.operator_actions import operator_acted, operator_seen, operator_sent_faq
from bridge.handlers.operators import operator_edited, operator_released_held, operator_wrote
from bridge.handlers.snippets import (
    operator_listed_snippets,
    operator_saved_snippet,
    operator_sent_snippet,
)
from bridge.handlers.transfer import operator_transferred

Handler = Callable[[Any, Context], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "customer_wrote": customer_wrote,
    "customer_edited": customer_edited,
    "customer_pressed": customer_pressed,
    "customer_reachability": customer_reachability,
    "delivery_reported": delivery_reported,
    "customer_deleted": customer_deleted,
    "owner_wrote": owner_wrote,
    "business_connection_changed": business_connection_changed,
    "operator_wrote": operator_wrote,
    "operator_edited": operator_edited,
    "operator_acted": operator_acted,
    "operator_sent_faq": operator_sent_faq,
    "operator_released_held": operator_released_held,
    "operator_sent_snippet": operator_sent_snippet,
    "operator_saved_snippet": operator_saved_snippet,
    "operator_listed_snippets": operator_listed_snippets,
    "operator_seen": operator_seen,
    "operator_transferred": operator_transferred,
}


async def handle(command: Command, ctx: Context) -> None:
    await HANDLERS[command.name](command, ctx)
