"""``WHERE id IN (...)`` for the hundreds of ids a tick works on, cheap on both databases."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def among(session: Session, column: InstrumentedAttribute[int], ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:ids)``, one array parameter.

    The PostgreSQL driver re-parses every statement with more than 50 parameters each time it is
    run, and an ``IN`` list sends one parameter per id: a tick's IN lists of hundreds of ids cost
    more to parse than to run. SQLite has no arrays, and its driver does not parse.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, sorted(ids), type_=ARRAY(Integer)))
    return column.in_(ids)
