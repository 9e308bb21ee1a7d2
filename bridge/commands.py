"""What people did, as the core understands it: the commands adapters store in the inbox.

An adapter maps each platform update to one command once, before it is stored; the core
handles the stored command later (after a restart, too) without looking at the platform's
update again. Each command names its handler (`bridge.handlers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from bridge.business import BusinessAccount
from bridge.codec import from_json, to_json
from bridge.errors import FailureReason
from bridge.model import (
    CustomerProfile,
    DeliveryMark,
    IncomingMessage,
    MessageRef,
    Operator,
    Platform,
)


class CardAction(StrEnum):
    """Buttons on the customer card and the matching slash commands."""

    CLOSE = "close"
    WAIT = "wait"
    REOPEN = "reopen"
    BAN = "ban"
    UNBAN = "unban"
    TAKE = "take"
    ASSIGN = "assign"
    RELEASE = "release"


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]


@dataclass(frozen=True)
class CustomerWrote(Command):
    """A message from a customer (an album arrives as one command per item)."""

    name: ClassVar[str] = "customer_wrote"
    profile: CustomerProfile
    message: IncomingMessage


@dataclass(frozen=True)
class CustomerEdited(Command):
    name: ClassVar[str] = "customer_edited"
    profile: CustomerProfile
    message: IncomingMessage


@dataclass(frozen=True)
class CustomerPressed(Command):
    """A help-section button, or `/start`, `/help`, `/language` (actions start, menu, lang).

    `screen_message_id`: the message whose button was pressed (Telegram edits it in place);
    `callback_id`: the press to acknowledge.
    """

    name: ClassVar[str] = "customer_pressed"
    profile: CustomerProfile
    action: str
    screen_message_id: str | None = None
    callback_id: str | None = None


@dataclass(frozen=True)
class CustomerReachability(Command):
    """The customer blocked or unsubscribed (`reason`), or came back (None)."""

    name: ClassVar[str] = "customer_reachability"
    platform: Platform
    external_id: str
    reason: FailureReason | None


@dataclass(frozen=True)
class DeliveryReported(Command):
    """The platform reports an operator's message delivered, seen (`mark`) or failed."""

    name: ClassVar[str] = "delivery_reported"
    platform: Platform
    external_id: str
    customer_message_id: str
    mark: DeliveryMark | None
    failure: str | None = None


@dataclass(frozen=True)
class CustomerDeleted(Command):
    """The customer deleted messages in their chat (Telegram Business tells the bot)."""

    name: ClassVar[str] = "customer_deleted"
    platform: Platform
    external_id: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True)
class OwnerWrote(Command):
    """The business account's owner answered a customer by hand (from their phone): shown in
    the customer's topic as the owner's, never sent to the customer again."""

    name: ClassVar[str] = "owner_wrote"
    profile: CustomerProfile  # the customer the owner wrote to
    owner: Operator
    message: IncomingMessage


@dataclass(frozen=True)
class BusinessConnectionChanged(Command):
    """A business account connected the bot, changed its rights, or turned it off."""

    name: ClassVar[str] = "business_connection_changed"
    account: BusinessAccount


@dataclass(frozen=True)
class OperatorWrote(Command):
    """A message in a customer's topic (an album arrives as one command per item)."""

    name: ClassVar[str] = "operator_wrote"
    topic_id: int
    operator: Operator
    message: IncomingMessage
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorEdited(Command):
    name: ClassVar[str] = "operator_edited"
    topic_id: int
    operator: Operator
    message: IncomingMessage
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorActed(Command):
    """/close, /reopen, /ban, /unban, /wait [minutes], /take, /assign, /release, or the
    card's button for one of them.

    `command_message_id`: the operator's command message (answers reply to it); a button
    press has `callback_id` instead. `/assign` names its operator: `assignee` (the author of
    the message it replies to) or `assignee_username` (found among operators seen).
    """

    name: ClassVar[str] = "operator_acted"
    topic_id: int
    operator: Operator
    action: CardAction
    minutes: int | None = None
    command_message_id: int | None = None
    callback_id: str | None = None
    assignee: Operator | None = None
    assignee_username: str | None = None
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorSeen(Command):
    """An operator wrote in the group outside a customer's topic: remember their @username."""

    name: ClassVar[str] = "operator_seen"
    operator: Operator


@dataclass(frozen=True)
class OperatorSentFaq(Command):
    name: ClassVar[str] = "operator_sent_faq"
    topic_id: int
    operator: Operator
    category_id: str
    entry_id: str
    callback_id: str | None = None
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorReleasedHeld(Command):
    """ "Send anyway" (or "Send again") under a held message."""

    name: ClassVar[str] = "operator_released_held"
    topic_id: int
    operator: Operator
    held_id: int
    callback_id: str | None = None
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorSentSnippet(Command):
    """`/s <name>`, `#name`, or a button of `/snippets`: a saved reply for the customer.

    `ref`: the operator's command message, or for a button the list it was pressed under (the
    delivery mark and any failure note go there); `reply_to_message_id`: what the command
    replied to, so the customer's copy replies to the same message.
    """

    name: ClassVar[str] = "operator_sent_snippet"
    topic_id: int
    operator: Operator
    snippet: str
    ref: MessageRef
    reply_to_message_id: str | None = None
    callback_id: str | None = None
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorSavedSnippet(Command):
    """`/save <name>` as a reply to an operator's message: its text becomes a saved reply."""

    name: ClassVar[str] = "operator_saved_snippet"
    topic_id: int
    operator: Operator
    snippet: str
    text: str
    command_message_id: int
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorListedSnippets(Command):
    """`/snippets`: the saved replies as buttons under the command."""

    name: ClassVar[str] = "operator_listed_snippets"
    topic_id: int
    operator: Operator
    command_message_id: int
    group_id: int = 0  # the operator group (0: OPERATOR_CHAT_ID's, as stored before)


@dataclass(frozen=True)
class OperatorTransferred(Command):
    """/transfer [department] in a topic, or a department's button under a bare /transfer."""

    name: ClassVar[str] = "operator_transferred"
    topic_id: int
    operator: Operator
    department: str | None = None  # None: offer the departments to pick from
    command_message_id: int | None = None
    callback_id: str | None = None
    group_id: int = 0


COMMANDS: dict[str, type[Command]] = {
    kind.name: kind
    for kind in (
        CustomerWrote,
        CustomerEdited,
        CustomerPressed,
        CustomerReachability,
        DeliveryReported,
        CustomerDeleted,
        OwnerWrote,
        BusinessConnectionChanged,
        OperatorWrote,
        OperatorEdited,
        OperatorActed,
        OperatorSentFaq,
        OperatorReleasedHeld,
        OperatorSentSnippet,
        OperatorSavedSnippet,
        OperatorListedSnippets,
        OperatorSeen,
        OperatorTransferred,
    )
}


def encode(command: Command) -> dict[str, Any]:
    data: dict[str, Any] = to_json(command)
    return data


def decode(name: str, data: dict[str, Any]) -> Command:
    kind = COMMANDS.get(name)
    if kind is None:
        raise KeyError(f"unknown command {name!r}")
    return from_json(kind, data)
