"""The core's small exception hierarchy; adapters translate platform errors into it."""

from __future__ import annotations

from enum import StrEnum


class BridgeError(Exception):
    """Base of every error the core understands."""


class ConfigError(BridgeError):
    """Bad configuration: the message is one sentence that says what to fix."""


class FailureReason(StrEnum):
    """Why a message could not be delivered, in words operators understand."""

    BLOCKED = "blocked"
    NOT_SUBSCRIBED = "not_subscribed"
    NOT_REGISTERED = "not_registered"
    ACCOUNT_BLOCKED = "account_blocked"
    # the company's account, not the customer: messages wait until the admin solves it
    QUOTA_USED_UP = "quota_used_up"  # Viber 23: the free out-of-session messages are used up
    NO_BALANCE = "no_balance"  # Viber 24: a billable account with no balance
    BUSINESS_OFF = "business_off"  # Telegram Business: the connection is off or may not reply
    # Telegram Business: the account may answer only within 24 h of the customer's last message
    REPLY_WINDOW = "reply_window"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


ACCOUNT_PROBLEMS = (
    FailureReason.QUOTA_USED_UP,
    FailureReason.NO_BALANCE,
    FailureReason.BUSINESS_OFF,
)
# Refused for now, fine later: the message is kept with a Send again button under it.
HELD_REFUSALS = (*ACCOUNT_PROBLEMS, FailureReason.REPLY_WINDOW)


class DeliveryFailed(BridgeError):
    """A platform refused a message for good; retrying the same call will not help."""

    def __init__(self, reason: FailureReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


class TopicMissing(BridgeError):
    """The customer's forum topic was deleted; the core makes a new one."""


class RetryLater(BridgeError):
    """The platform asked us to wait (Telegram 429, Viber status 12) or is briefly down."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(f"retry after {seconds:g}s {detail}".strip())
        self.seconds = seconds


def as_failure(error: DeliveryFailed | RetryLater) -> DeliveryFailed:
    """A send that still had to wait after every retry counts as not delivered."""
    if isinstance(error, DeliveryFailed):
        return error
    return DeliveryFailed(FailureReason.UNKNOWN, str(error))
