"""/transfer: a conversation moves to another department.

In the same group only the department changes. Into another group a new topic opens there with
the card, a link to the earlier topic and the last few messages; once it is there, the earlier
topic gets a link to it and closes (`PostNote.moved_from_*`, see the delivery). The earlier
topic stays the customer's (`former_topics`), so edits and answers there still reach them.
"""

from __future__ import annotations

from dataclasses import replace

from bridge import notes
from bridge.commands import OperatorTransferred
from bridge.deliveries import PostNote, RefreshCard, SendScreen
from bridge.departments import Department, topic_link
from bridge.handlers.context import Context
from bridge.model import Customer, Operator
from bridge.ports import CardButton

RECENT = 5  # messages quoted in the new topic
TRANSFER_ACTION = "transfer:"  # a card button's action: transfer:<department id>


async def operator_transferred(command: OperatorTransferred, ctx: Context) -> None:
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    departments = ctx.rules.departments
    if customer is None:
        return
    current = ctx.rules.department_of(customer)
    under = command.command_message_id
    if departments is None or current is None or not departments.several:
        _answer(ctx, command, customer, notes.transfer_needs_departments())
        return
    if command.department is None:
        buttons = tuple(
            CardButton(d.name.en, f"{TRANSFER_ACTION}{d.id}")
            for d in departments.all
            if d.id != current.id
        )
        note = PostNote(customer.id, notes.transfer_pick(), under, buttons=buttons)
        ctx.to_topic(customer, replace(note, buttons_in_column=True))
        return
    target = departments.get(command.department)
    if target is None:
        known = [d.id for d in departments.all]
        _answer(ctx, command, customer, notes.transfer_unknown(command.department, known))
        return
    if target.id == current.id:
        _answer(ctx, command, customer, notes.transfer_already(target.name.en))
        return
    ctx.answer(command.callback_id)
    await _move(ctx, customer, current, target, command.operator)


def _answer(ctx: Context, command: OperatorTransferred, customer: Customer, html: str) -> None:
    if command.callback_id is not None:
        ctx.answer(command.callback_id, html)
    else:
        ctx.to_topic(customer, PostNote(customer.id, html, command.command_message_id))


async def _move(
    ctx: Context, customer: Customer, current: Department, target: Department, by: Operator
) -> None:
    tx = ctx.tx
    group = ctx.rules.topic_group(customer)
    language = ctx.texts.language_for(customer.language)
    told = ctx.rules.screens.text("transferred", language, department=target.name.get(language))
    if target.group == group or customer.topic_id is None:
        await tx.customers.set_department(customer.id, target.id, target.group)
        moved = replace(customer, department=target.id, group_id=target.group)
        ctx.to_topic(moved, PostNote(moved.id, notes.transferred_here(target.name.en, by.name)))
        ctx.to_topic(moved, RefreshCard(moved.id))
        ctx.to_customer(moved, SendScreen(moved.id, told))
        return
    recent = await tx.links.recent(customer.id, RECENT)
    await tx.customers.leave_topic(replace(customer, group_id=group), ctx.now)
    await tx.customers.set_department(customer.id, target.id, target.group)
    await tx.customers.set_topic(customer.id, None, group_id=target.group)
    moved = replace(
        customer, department=target.id, group_id=target.group, topic_id=None, card_message_id=None
    )
    earlier = topic_link(group, customer.topic_id)
    html = notes.transferred_in(current.name.en, by.name, earlier, recent)
    note = PostNote(moved.id, html, moved_from_group=group, moved_from_topic=customer.topic_id)
    ctx.to_topic(moved, note)
    ctx.to_customer(moved, SendScreen(moved.id, told))
