"""The bridge's own notes in the operators' topics (HTML, customer text escaped)."""

from __future__ import annotations

from html import escape

from bridge.business import BusinessAccount, ConnectionState
from bridge.errors import DeliveryFailed, FailureReason
from bridge.model import Platform

_FAILURES = {
    FailureReason.BLOCKED: "the customer blocked the bot",
    FailureReason.NOT_SUBSCRIBED: "the customer is not subscribed to the bot",
    FailureReason.NOT_REGISTERED: "the customer is not registered on {platform} any more",
    FailureReason.ACCOUNT_BLOCKED: (
        "the bot's {platform} account is blocked; the admin should contact {platform} support"
    ),
    FailureReason.TOO_LONG: "the message is too long for {platform}; please split it",
    FailureReason.NOT_FOUND: "the customer's chat or message was not found",
    FailureReason.UNSUPPORTED: "{platform} cannot show this kind of message",
    FailureReason.QUOTA_USED_UP: (
        "the {platform} account's free messages outside a customer's 24 hours are used up"
    ),
    FailureReason.NO_BALANCE: "the {platform} account has no balance left",
    FailureReason.BUSINESS_OFF: (
        "the company's Telegram account has turned the bot off or does not let it reply"
    ),
    FailureReason.REPLY_WINDOW: (
        "Telegram lets the company's account answer only within 24 hours of the customer's "
        "last message"
    ),
    FailureReason.UNKNOWN: "{platform} refused it",
}


def not_delivered(error: DeliveryFailed, platform: Platform) -> str:
    why = _FAILURES[error.reason].format(platform=platform.display_name)
    unknown = error.reason is FailureReason.UNKNOWN
    detail = f" ({escape(error.detail)})" if error.detail and unknown else ""
    return f"⚠️ <b>Not delivered</b>: {why}{detail}."


def customer_edit(text: str) -> str:
    short = text if len(text) <= 3500 else text[:3499] + "…"  # stays under Telegram's 4096
    return f"✏️ <b>The customer edited this message:</b>\n{escape(short)}"


def channel_missing(platform: Platform) -> str:
    return f"⚠️ <b>Not delivered</b>: the {platform.display_name} channel is not enabled."


def new_conversation(number: int) -> str:
    return f"🆕 <b>Conversation #{number}</b> started."


def closed(by: str) -> str:
    return f"🔒 Conversation closed by {escape(by)}."


def reopened(by: str) -> str:
    return f"🔓 Conversation reopened by {escape(by)}."


def banned(by: str) -> str:
    return f"⛔ Customer banned by {escape(by)}: their messages are no longer relayed."


def unbanned(by: str) -> str:
    return f"✅ Customer unbanned by {escape(by)}: their messages are relayed again."


_GONE = {
    FailureReason.BLOCKED: "🚫 The customer blocked the bot: messages to them are not delivered.",
    FailureReason.NOT_SUBSCRIBED: (
        "🚫 The customer unsubscribed from the bot: messages to them are not delivered."
    ),
}


def customer_gone(reason: FailureReason) -> str:
    return _GONE.get(reason, "🚫 The customer cannot be reached at the moment.")


def customer_back() -> str:
    return "✅ The customer is back: messages are delivered again."


def delivery_failed_later(detail: str) -> str:
    return f"⚠️ <b>Not delivered</b>: {escape(detail) or 'the platform reported a failure'}."


def outside_free_window(platform: Platform, hours: int, held: bool) -> str:
    head = (
        f"💰 The customer's last message is older than {hours} h: on {platform.display_name} "
        "a message you start now is a paid one."
    )
    if held:
        return head + " It is held: press <b>Send anyway</b> to send it."
    return head + " It was sent."


def held_released(by: str) -> str:
    return f"📨 Held message sent by {escape(by)}."


def asks_operator() -> str:
    return "💬 The customer asked to talk to an operator."


def in_progress(by: str, expected: str) -> str:
    return f"⏳ {escape(by)} told the customer their question is in progress ({expected})."


def faq_sent(by: str, question: str) -> str:
    return f"📚 FAQ answer «{escape(question)}» sent by {escape(by)}."


def faq_feedback(helped: bool) -> str:
    if helped:
        return "👍 The customer said the FAQ answer helped."
    return "👎 The FAQ answer did not help: the customer wants an operator."


def lost(why: str) -> str:
    return (
        "⚠️ <b>A message could not be processed</b> "
        f"({escape(why[:300])}); please check with the customer."
    )


def rated(stars: int, number: int | None) -> str:
    earlier = f" (for the earlier conversation #{number})" if number else ""
    return (
        f"{'⭐' * stars}{'☆' * (5 - stars)} The customer rated the conversation {stars}/5{earlier}."
    )


def rating_comment(text: str) -> str:
    return f"💬 <b>Rating comment:</b> {escape(text[:500])}"


def not_shown(error: DeliveryFailed, preview: str) -> str:
    """A customer's message the group would not take, even as new content: what and why."""
    why = _FAILURES[error.reason].format(platform="Telegram")
    detail = f" ({escape(error.detail)})" if error.detail else ""
    return (
        f"⚠️ <b>A message from the customer could not be shown here</b>: {why}{detail}. "
        f"It said: «{preview}». Please ask the customer to send it again."
    )


_ACCOUNT_FIX = {
    FailureReason.QUOTA_USED_UP: "change the Viber plan or wait for the next month's free messages",
    FailureReason.NO_BALANCE: "add funds to the Viber account in its admin panel",
    FailureReason.BUSINESS_OFF: (
        "connect the bot again and let it reply in Telegram, Settings → Telegram Business → "
        "Chatbots"
    ),
}
_WHEN_TO_SEND_AGAIN = {
    FailureReason.REPLY_WINDOW: "after the customer writes again",
}


def held_for_account(error: DeliveryFailed, platform: Platform) -> str:
    """Under an operator's message the platform refused for now (the company's account, or
    Telegram Business's 24 hours)."""
    why = _FAILURES[error.reason].format(platform=platform.display_name)
    when = _WHEN_TO_SEND_AGAIN.get(error.reason, "once the account is in order")
    return f"⏸ <b>Not sent yet</b>: {why}. It is kept: press <b>Send again</b> {when}."


def account_problem(error: DeliveryFailed, platform: Platform) -> str:
    """Once, in General: the company's account stops messages until the admin acts."""
    why = _FAILURES[error.reason].format(platform=platform.display_name)
    fix = _ACCOUNT_FIX.get(error.reason, "check the account")
    return (
        f"💳 <b>{platform.display_name} refuses operators' messages</b>: {why}. "
        f"The admin should {fix}. Held messages have a Send again button in their topics."
    )


def snippet_sent(name: str, language: str, text: str, fallback: bool) -> str:
    """What a saved reply said when it went to the customer, under the command that sent it."""
    other = " (there is no text in the customer's language)" if fallback else ""
    return f"📎 Saved reply «{escape(name)}» sent in {language}{other}:\n{escape(text)}"


def snippet_unknown(name: str, closest: list[str]) -> str:
    if closest:
        names = ", ".join(f"<code>{escape(n)}</code>" for n in closest)
        hint = f"did you mean {names}?"
    else:
        hint = "/snippets lists them."
    return f"❓ No saved reply «{escape(name)}»: {hint} Nothing was sent."


def snippet_saved(name: str, language: str, replaced: bool) -> str:
    verb = "updated" if replaced else "saved"
    return f"💾 Saved reply «{escape(name)}» {verb} in {language}: send it with /s {escape(name)}."


def snippet_not_saved(problem: str) -> str:
    return f"⚠️ Not saved: {escape(problem)}."


def snippets_listed(count: int, shown: int) -> str:
    more = f" (the first {shown} of {count}; /s &lt;name&gt; sends any)" if shown < count else ""
    return f"📎 Saved replies{more}: press one to send it to the customer in their language."


def no_snippets() -> str:
    return "📎 No saved replies yet: reply /save &lt;name&gt; to a message of yours to save one."


def mention(operator_id: int, name: str) -> str:
    """An operator named so that Telegram notifies them."""
    return f'<a href="tg://user?id={operator_id}">{escape(name)}</a>'


def assigned(by: str, owner_id: int, owner_name: str) -> str:
    return f"🙋 {mention(owner_id, owner_name)}, {escape(by)} handed this conversation to you."


def unknown_operator(username: str) -> str:
    return (
        f"I don't know @{escape(username)} yet: an operator must have written in this group "
        "before a conversation can be assigned to them."
    )


ASSIGN_USAGE = "Use /assign @username, or reply /assign to a message of that operator."


def waiting_too_long(waited: str, owner_id: int | None, owner_name: str | None) -> str:
    """The SLA reminder in the topic: to the owner by name (they are notified), or to all."""
    if owner_id is None:
        return f"⏰ <b>The customer has been waiting {waited}</b> for an answer."
    who = mention(owner_id, owner_name or f"Operator {owner_id}")
    return f"⏰ {who}, <b>the customer has been waiting {waited}</b> for an answer."


def free_to_take(waited: str, owner_name: str) -> str:
    """The owner did not answer after the reminder: the team is asked, ownership is gone."""
    return (
        f"⏰ <b>The customer has been waiting {waited}</b> and {escape(owner_name)} has not "
        "answered: the conversation is free to take (/take or 🙋 Take on the card)."
    )


def transfer_pick() -> str:
    return "↪️ Transfer to which department?"


def transfer_unknown(name: str, known: list[str]) -> str:
    ids = ", ".join(f"<code>{escape(k)}</code>" for k in known)
    return f"❓ No department «{escape(name)}»: /transfer one of {ids}."


def transfer_needs_departments() -> str:
    return "↪️ There is one department: set DEPARTMENTS_FILE to have more to transfer to."


def transfer_already(department: str) -> str:
    return f"↪️ The conversation is already with {escape(department)}."


def transferred_here(department: str, by: str) -> str:
    return f"↪️ {escape(by)} transferred the conversation to {escape(department)}."


def transferred_in(
    source: str, by: str, earlier: str | None, recent: list[tuple[bool, str]]
) -> str:
    """The first note in the new department's topic: where from, and the last words."""
    where = f'<a href="{escape(earlier)}">{escape(source)}</a>' if earlier else escape(source)
    lines = [f"↪️ {escape(by)} transferred this conversation from {where}."]
    if recent:
        lines.append("The last messages:")
        lines += [f"{'👤' if mine else '🎧'} {escape(text)}" for mine, text in recent]
    return "\n".join(lines)


def transferred_out(department: str, link: str | None) -> str:
    where = f'<a href="{escape(link)}">{escape(department)}</a>' if link else escape(department)
    return f"➡️ Transferred to {where}: the conversation goes on there. This topic is closed."


def owner_wrote(name: str) -> str:
    """Above what the business account's owner wrote to the customer by hand."""
    return f"💼 <b>{escape(name)}</b> answered from the company's account:"


def customer_deleted(count: int) -> str:
    if count == 1:
        return "🗑 The customer deleted this message."
    return f"🗑 The customer deleted {count} messages, this one among them."


def business_connection(account: BusinessAccount, before: BusinessAccount | None) -> str | None:
    """Once in General when a business connection starts, stops or changes what the bot may do;
    None when nothing the team needs to know changed."""
    state = account.state
    if before is not None and before.state is state and before.can_read == account.can_read:
        return None
    who = escape(account.label)
    where = "Telegram → Settings → Telegram Business → Chatbots"
    if state is ConnectionState.OFF:
        return (
            f"💼 <b>Telegram Business</b>: the bot is off for {who}: customers who write to "
            "this account no longer reach you. To bring them back, connect the bot again in "
            f"{where}."
        )
    if state is ConnectionState.CANNOT_REPLY:
        return (
            f"💼 <b>Telegram Business</b>: the bot is connected to {who} but may not reply, so "
            f"answers cannot reach these customers. Allow it to reply to messages in {where}."
        )
    read = (
        ""
        if account.can_read
        else f" The bot may not mark messages as read: allow it to read messages in {where}."
    )
    again = "works again" if before is not None and before.state is not state else "is connected"
    return (
        f"💼 <b>Telegram Business</b>: {who} {again}: customers who write to this account "
        f"appear here, and your answers go from the account.{read}"
    )
