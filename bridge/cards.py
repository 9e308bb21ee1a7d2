"""The customer card posted at the top of a topic, and the bridge's notes to operators.

All customer-controlled strings are HTML-escaped here: a customer named `<a href=...>` must not
put a link into the operators' group.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from bridge.model import Customer, Operator
from bridge.ports import Card, CardButton
from bridge.topic_names import clean_name

SEPARATOR = "\n\n"  # between the card (or a note) and what goes under it in the same post


def customer_card(
    customer: Customer,
    earlier_conversations: int,
    owner: Operator | None = None,
    department: str | None = None,
    wrote_to: str | None = None,
) -> Card:
    """`owner`: who owns the customer's open conversation (None: nobody does);
    `department`: the department's name when there are several; `wrote_to`: the company's
    Telegram account a Telegram Business customer wrote to."""
    name = escape(clean_name(customer.full_name, limit=128) or f"Customer {customer.id}")
    # the id is what `support-bridge forget-customer` / `export-customer` ask for
    platform = f"Platform: {customer.platform.display_name}"
    lines = [f"👤 <b>{name}</b>", f"{platform} (id <code>{escape(customer.external_id)}</code>)"]
    if wrote_to:
        lines.append(f"💼 Wrote to: {escape(clean_name(wrote_to, limit=128))}")
    if department:
        lines.append(f"Department: {escape(department)}")
    if customer.username:
        lines.append(f"Username: @{escape(clean_name(customer.username))}")
    lines.append(f"Language: {escape(customer.language or 'unknown')}")
    if customer.profile_url:
        lines.append(f'Profile: <a href="{escape(customer.profile_url)}">open</a>')
    for label, value in sorted(customer.details.items()):
        title = escape(label[:1].upper() + label[1:])
        if label == "avatar" and value.startswith("https://"):
            lines.append(f'{title}: <a href="{escape(value)}">open</a>')
        else:
            lines.append(f"{title}: {escape(clean_name(value))}")
    lines.append(f"First contact: {_when(customer.first_seen_at)}")
    lines.append(f"Earlier conversations: {earlier_conversations}")
    if owner is not None:
        lines.append(f"🙋 Owner: <b>{escape(clean_name(owner.name, limit=128))}</b>")
    else:
        lines.append("🙋 Owner: nobody yet")
    if customer.banned:
        lines.append("⛔ <b>Banned</b>: messages are not relayed.")
    ban = CardButton("✅ Unban", "unban") if customer.banned else CardButton("⛔ Ban", "ban")
    buttons = (
        CardButton("🙋 Take", "take"),
        CardButton("⏳ In progress", "wait"),
        CardButton("🔒 Close", "close"),
        ban,
    )
    return Card(html="\n".join(lines), buttons=buttons)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def quote(text: str, limit: int = 300) -> str:
    """A customer text shortened and escaped for a note."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(short)
