"""Delivering what the core decided: workers per destination chat drain the outbox.

Each destination (the operator group, one customer's chat) has at most one worker at a time,
in one replica: it keeps the order of each conversation, spends the chat's budget on what
matters first, and retries a transient failure for as long as it takes (`worker`). What one
delivery does on the platforms, and what it records afterwards, is `perform`'s.
"""
