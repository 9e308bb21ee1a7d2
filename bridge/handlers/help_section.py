"""The help section customers navigate: FAQ categories → questions → answers, language,
"Talk to an operator", and the stars after a conversation. Browsing is not relayed and opens
no conversation; asking for an operator does."""

from __future__ import annotations

from dataclasses import replace

from bridge import notes
from bridge.commands import CustomerPressed
from bridge.deliveries import PostNote, SendScreen
from bridge.handlers.context import Context
from bridge.handlers.conversations import book, header_of, open_conversation, reopen_topic
from bridge.model import Customer, CustomerProfile
from bridge.screens import Screen


async def customer_pressed(command: CustomerPressed, ctx: Context) -> None:
    """Show the screen the button leads to (in place of the pressed one where possible)."""
    profile = command.profile
    customer = await ctx.tx.customers.find(profile.platform, profile.external_id)
    screen = await _press(ctx, profile, customer, command.action)
    ctx.answer(command.callback_id)
    if customer is None:
        customer = await ctx.tx.customers.upsert(profile, ctx.now)
    ctx.to_customer(customer, SendScreen(customer.id, screen, command.screen_message_id))


def language_of(ctx: Context, profile: CustomerProfile, customer: Customer | None) -> str:
    """Their choice (/language), else their platform's language."""
    stored = customer.language if customer and customer.language_chosen else None
    return ctx.texts.language_for(stored or profile.language)


async def _press(
    ctx: Context, profile: CustomerProfile, customer: Customer | None, action: str
) -> Screen:
    """The screen after a button; stale buttons (the catalogue changed) get the current menu."""
    language = language_of(ctx, profile, customer)
    catalog = ctx.rules.faq.catalog
    screens = ctx.rules.screens
    match action.split(":"):
        case ["start"]:
            return screens.menu(catalog, language, "greeting")
        case ["menu"]:
            return screens.menu(catalog, language)
        case ["c", category_id] if category := catalog.category(category_id):
            await _browsed(ctx, profile, customer, category_id)
            return screens.category(category, language)
        case ["q", category_id, entry_id] if entry := catalog.entry(category_id, entry_id):
            return screens.answer(entry, language)
        case ["y", category_id, entry_id]:
            await _faq_feedback(ctx, profile, f"{category_id}/{entry_id}", helped=True)
            menu = screens.menu(catalog, language)
            return Screen(screens.texts.get("helped_thanks", language), menu.rows)
        case ["n", category_id, entry_id]:
            await _faq_feedback(ctx, profile, f"{category_id}/{entry_id}", helped=False)
            await _browsed(ctx, profile, customer, category_id)
            await _asks_operator(ctx, profile)
            return screens.text("ask_prompt", language)
        case ["op"]:
            choice = _department_choice(ctx, customer, language)
            if choice is not None:
                return choice
            await _asks_operator(ctx, profile)
            return screens.text("ask_prompt", language)
        case ["dept", department_id] if ctx.rules.departments and (
            ctx.rules.departments.get(department_id)
        ):
            await _asks_operator(ctx, profile, department_id)
            return screens.text("ask_prompt", language)
        case ["rate", conversation_id, stars] if ctx.rules.ratings and (
            conversation_id.isdigit() and stars.isdigit()
        ):
            return await _rate(ctx, customer, int(conversation_id), int(stars), language)
        case ["skip", conversation_id] if ctx.rules.ratings and conversation_id.isdigit():
            return await _skip_comment(ctx, customer, int(conversation_id), language)
        case ["lang"]:
            return screens.language_choice(language)
        case ["lang", code]:
            chosen = ctx.texts.language_for(code)
            stored = customer or await ctx.tx.customers.upsert(profile, ctx.now)
            await ctx.tx.customers.choose_language(stored.id, chosen)
            done = screens.texts.get("language_set", chosen)
            return Screen(done, screens.menu(catalog, chosen).rows)
    return screens.menu(catalog, language, "menu_outdated")


async def _faq_feedback(ctx: Context, profile: CustomerProfile, ref: str, helped: bool) -> None:
    """Yes / Talk to an operator under an FAQ answer the bot offered."""
    tx = ctx.tx
    customer = await tx.customers.find(profile.platform, profile.external_id)
    conversation = await tx.conversations.latest(customer.id) if customer else None
    if (
        customer is None
        or conversation is None
        or conversation.faq_offered != ref
        or conversation.faq_helped is not None
    ):
        return
    await tx.conversations.save(replace(conversation, faq_helped=helped))
    ctx.to_topic(customer, PostNote(customer.id, notes.faq_feedback(helped)))


async def _browsed(
    ctx: Context, profile: CustomerProfile, customer: Customer | None, category_id: str
) -> None:
    """The FAQ category a customer looks at picks the department they will reach."""
    departments = ctx.rules.departments
    if departments is None or not departments.several:
        return
    if customer is None:
        customer = await ctx.tx.customers.upsert(profile, ctx.now)
    if customer.last_category != category_id:
        await ctx.tx.customers.browsed(customer.id, category_id)


def _department_choice(ctx: Context, customer: Customer | None, language: str) -> Screen | None:
    """With several departments and no FAQ category browsed, the customer picks one."""
    departments = ctx.rules.departments
    if departments is None or not departments.several:
        return None
    if customer is not None and departments.of_category(customer.last_category) is not None:
        return None
    named = [(d.id, d.name.get(language)) for d in departments.all]
    return ctx.rules.screens.department_choice(named, language)


async def _asks_operator(
    ctx: Context, profile: CustomerProfile, department: str | None = None
) -> None:
    """ "Talk to an operator": open a conversation so the team sees the customer."""
    found = await ctx.tx.customers.find_with_latest(profile.platform, profile.external_id)
    opening = await open_conversation(ctx, profile, found, department)
    if opening is None:
        return
    customer = opening.customer
    reopen_topic(ctx, opening)
    html = "\n".join(filter(None, (header_of(opening), notes.asks_operator())))
    ctx.to_topic(customer, PostNote(customer.id, html))
    await book(ctx, opening, opening.conversation)


async def _rate(
    ctx: Context, customer: Customer | None, conversation_id: int, stars: int, language: str
) -> Screen:
    """A star under the closing message; pressed twice or late, it still makes sense."""
    tx, screens = ctx.tx, ctx.rules.screens
    conversation = await tx.conversations.get(conversation_id)
    if (
        customer is None
        or conversation is None
        or conversation.customer_id != customer.id
        or not 1 <= stars <= 5
    ):
        return screens.text("menu_outdated", language)
    if conversation.rating is not None:
        return screens.text("rating_already", language)
    await tx.conversations.save(replace(conversation, rating=stars, rated_at=ctx.now))
    latest = await tx.conversations.latest(customer.id)
    earlier = latest is not None and latest.id != conversation.id
    number = await tx.conversations.count(customer.id, up_to=conversation.id) if earlier else None
    ctx.to_topic(customer, PostNote(customer.id, notes.rated(stars, number)))
    if earlier:
        return screens.text("comment_thanks", language)  # a new conversation is under way
    return screens.comment_invite(conversation.id, language)


async def _skip_comment(
    ctx: Context, customer: Customer | None, conversation_id: int, language: str
) -> Screen:
    conversation = await ctx.tx.conversations.get(conversation_id)
    if (
        customer is not None
        and conversation is not None
        and conversation.customer_id == customer.id
        and conversation.rating_comment is None
    ):
        await ctx.tx.conversations.save(replace(conversation, rating_comment=""))
    return ctx.rules.screens.text("comment_thanks", language)
