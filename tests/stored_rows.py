"""Every row of every table in the bridge's database, and where given words still appear.

Privacy tests read the database generically, not through the bridge's own queries: a table
added later is scanned too, so a forgotten text cannot hide in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

Rows = dict[str, list[dict[str, Any]]]
IGNORED = {"alembic_version"}


def _read(connection: Connection) -> Rows:
    metadata = MetaData()
    metadata.reflect(connection)
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in metadata.sorted_tables
        if table.name not in IGNORED
    }


async def all_rows(engine: AsyncEngine) -> Rows:
    async with engine.connect() as connection:
        return await connection.run_sync(_read)


def cell_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def holding(rows: Rows, needle: str) -> set[str]:
    """The tables with a cell that contains `needle` (JSON cells as their text)."""
    return {
        table
        for table, records in rows.items()
        for record in records
        if any(needle in cell_text(value) for value in record.values())
    }


def cells_with(rows: Rows, needles: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every cell holding one of `needles`."""
    found = []
    for table, records in rows.items():
        for record in records:
            for column, value in record.items():
                text = cell_text(value)
                found += [(table, column, n) for n in needles if n in text]
    return found
