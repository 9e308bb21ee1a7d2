"""Saved replies in a customer's topic: send one (`/s name`, `#name`, a button), save one
(`/save name`), list them (`/snippets`).

A saved reply goes the way a typed answer goes (`operators.relay`): the same refusals, the
Viber hold, the delivery mark, the failure note, the first-response and SLA figures. Its
words are not in the topic, though (the operator typed `/s docs`), so the bridge posts the
filled-in text under the command: the topic then reads as the conversation the customer had,
with their name and the operator's in place, which is what a colleague taking over needs to
see; a mark on the bare command alone would leave them guessing which text, in which
language, went out. The delivery mark (👍) and any failure note go on the command itself, as
they do on a typed message.
"""

from __future__ import annotations

from bridge import notes
from bridge.commands import OperatorListedSnippets, OperatorSavedSnippet, OperatorSentSnippet
from bridge.deliveries import PostNote
from bridge.handlers.context import Context
from bridge.handlers.operator_actions import NOT_A_CUSTOMER
from bridge.handlers.operators import relay
from bridge.model import ContentKind, Customer, IncomingMessage, SavedSnippet
from bridge.ports import CardButton
from bridge.snippets import (
    NAME,
    NAME_RULE,
    TEXT_LIMIT,
    Snippet,
    Variables,
    closest,
    fill,
    first_name,
    merged,
    template_problem,
)

SNIPPET_ACTION = "snip:"  # a /snippets button: "snip:<name>" (at most 42 bytes with "card:")
MOST_LISTED = 50  # buttons under one list; the rest are reached with /s <name>


def department_name(ctx: Context, customer: Customer) -> str:
    """`{department}`: whom the customer is talking to: their department's name in their
    language when there are several, else the operator group's title (or the locale's
    "department" text when Telegram did not tell it)."""
    departments = ctx.rules.departments
    department = ctx.rules.department_of(customer)
    if departments is not None and departments.several and department is not None:
        return department.name.get(ctx.texts.language_for(customer.language))
    return ctx.rules.desk_title or ctx.texts.get("department", customer.language)


async def known_snippets(ctx: Context) -> dict[str, Snippet]:
    """The file's snippets with those saved from topics over them, read in this transaction
    (so a text saved on another replica a moment ago is already here)."""
    return merged(ctx.rules.snippets, await ctx.tx.snippets.all())


def _note(
    ctx: Context, customer: Customer | None, topic: tuple[int, int], html: str, under: int
) -> None:
    """`topic`: (group, thread) of the command."""
    group_id, topic_id = topic
    if customer is None:
        note = PostNote(None, html, under, topic_id=topic_id)
        ctx.to_lane(f"topic:{topic_id}", note, group_id)
    else:
        ctx.to_topic(customer, PostNote(customer.id, html, under))


async def operator_sent_snippet(command: OperatorSentSnippet, ctx: Context) -> None:
    under = int(command.ref.message_id)
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None:
        ctx.answer(command.callback_id, NOT_A_CUSTOMER)
        if command.callback_id is None:
            _note(ctx, None, (command.group_id, command.topic_id), NOT_A_CUSTOMER, under)
        return
    snippets = await known_snippets(ctx)
    snippet = snippets.get(command.snippet)
    if snippet is None:
        ctx.answer(command.callback_id, "No such saved reply: nothing was sent.")
        html = notes.snippet_unknown(command.snippet, closest(command.snippet, snippets))
        _note(ctx, customer, (command.group_id, command.topic_id), html, under)
        return
    language = ctx.texts.language_for(customer.language)
    used, template = snippet.text_for(language)
    values = Variables(
        first_name=first_name(customer.full_name),
        operator=first_name(command.operator.name),
        department=department_name(ctx, customer),
    )
    text = fill(template, values)
    message = IncomingMessage(
        ref=command.ref,
        kind=ContentKind.TEXT,
        text=text,
        reply_to_message_id=command.reply_to_message_id,
        composed=True,
    )
    html = notes.snippet_sent(snippet.name, used, text, fallback=used != language)
    ctx.to_topic(customer, PostNote(customer.id, html, under))
    await relay(ctx, customer, command.topic_id, message, command.operator)
    ctx.answer(command.callback_id, "Sent.")


async def operator_saved_snippet(command: OperatorSavedSnippet, ctx: Context) -> None:
    """The text is saved in the customer's language, as it was written (a template: variables
    in it are filled in when it is sent)."""
    under = command.command_message_id
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None:
        _note(ctx, None, (command.group_id, command.topic_id), NOT_A_CUSTOMER, under)
        return
    name, text = command.snippet, command.text.strip()
    problem = None
    if not NAME.fullmatch(name):
        problem = f'"{name}" cannot be a name: {NAME_RULE}'
    elif not text:
        problem = "the message has no text"
    elif len(text) > TEXT_LIMIT:
        problem = f"the text is longer than {TEXT_LIMIT} characters"
    else:
        problem = template_problem(text)
    if problem:
        _note(
            ctx,
            customer,
            (command.group_id, command.topic_id),
            notes.snippet_not_saved(problem),
            under,
        )
        return
    language = ctx.texts.language_for(customer.language)
    saved = SavedSnippet(name, language, text, command.operator.name, ctx.now)
    replaced = await ctx.tx.snippets.save(saved)
    _note(
        ctx,
        customer,
        (command.group_id, command.topic_id),
        notes.snippet_saved(name, language, replaced),
        under,
    )


async def operator_listed_snippets(command: OperatorListedSnippets, ctx: Context) -> None:
    """Buttons labelled with the name and the start of the text in the customer's language."""
    under = command.command_message_id
    customer = await ctx.topic_customer(command.group_id, command.topic_id)
    if customer is None:
        _note(ctx, None, (command.group_id, command.topic_id), NOT_A_CUSTOMER, under)
        return
    snippets = list((await known_snippets(ctx)).values())
    if not snippets:
        _note(ctx, customer, (command.group_id, command.topic_id), notes.no_snippets(), under)
        return
    language = ctx.texts.language_for(customer.language)
    shown = snippets[:MOST_LISTED]
    buttons = tuple(CardButton(_label(s, language), f"{SNIPPET_ACTION}{s.name}") for s in shown)
    html = notes.snippets_listed(len(snippets), len(shown))
    note = PostNote(customer.id, html, under, buttons=buttons, buttons_in_column=True)
    ctx.to_topic(customer, note)


def _label(snippet: Snippet, language: str) -> str:
    _, text = snippet.text_for(language)
    preview = " ".join(text.split())
    preview = preview if len(preview) <= 40 else preview[:39] + "…"
    return f"{snippet.name}: {preview}"
