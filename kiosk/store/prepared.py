"""Statements compiled once, for the units of work that run at every answer the agent types.

An autosave is a handful of small statements and one ``fsync`` (issue 18: its p95 must stay
within 3× a bare ``sqlite3`` insert+commit). SQLite runs each of them in 5–20 µs; SQLAlchemy
spends 25–100 µs of Python on each around it (building the statement, its cache key, the
execution context), which on a slow machine was most of the autosave. A :class:`Prepared`
statement is written once with SQLAlchemy (so it stays portable), compiled once per kind of
database, and on the embedded SQLite store run straight on the DBAPI connection of the caller's
unit of work (an ORM session, or :meth:`~kiosk.store.engine.Store.writing`): inside the same
transaction, with the same type conversions (timestamps, JSON), its errors wrapped as
SQLAlchemy's so that :class:`~kiosk.store.engine.Store` names the disk's problem as before.
SQLite keeps the prepared form of the last statements per connection, so nothing is parsed
again.

On a site's PostgreSQL store the same holds, on psycopg's connection: there each statement is a
round trip to the server, and SQLAlchemy's ~100 µs of Python around each of an autosave's
statements was most of the counter's CPU for one answer (issue 17: eight counters on the two
cores of the bench's machine were bound by it). psycopg prepares a statement on the server once
it has run a few times on a connection. A server that went away is told as SQLAlchemy tells
it: the connection invalidated (the pool makes a new one), the error wrapped as its
``DBAPIError`` with ``connection_invalidated`` set, which kiosk/store/site.py says in French.

Such statements do not fire SQLAlchemy's ``before_cursor_execute`` events.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.expression import Executable, Select

from kiosk.store.engine import Writing

Processor = Callable[[Any], Any]
#: A parameter in psycopg's SQL (``%(name)s``; ``%%`` is a literal percent sign).
_NAMED = re.compile(r"(?<!%)%\((\w+)\)s")
#: A unit of work: an ORM session (``Store.write``/``read``) or a lighter one (``Store.writing``).
Unit = Session | Writing


def connection_of(unit: Unit) -> Connection:
    """The connection of ``unit``'s transaction, what the ORM held written first (as its own
    queries would: an object added before is seen)."""
    if isinstance(unit, Session):
        if unit.autoflush:
            unit.flush()
        return unit.connection()
    unit.flush()
    return unit.connection


class _Compiled:
    """A statement's SQL for one dialect and driver, its parameters and their conversions."""

    __slots__ = ("_bind_at", "_names", "_pick", "_result_at", "error", "fixed", "sql")

    def __init__(  # noqa: PLR0917 - built in one place, each argument distinct
        self,
        sql: str,
        names: tuple[str, ...],
        fixed: Mapping[str, Any],
        binds: tuple[Processor | None, ...],
        results: tuple[Processor | None, ...],
        error: type[Exception],
        named: bool,
    ) -> None:
        self.sql = sql
        #: The values written in the statement itself (a ``LIMIT 1``).
        self.fixed = fixed
        self.error = error
        #: The driver takes the parameters by name (psycopg's ``%(name)s``), not in order.
        self._names = names if named else None
        # Run at every statement of every autosave: the values taken in one C call, and only
        # those with a conversion (a timestamp, JSON) converted.
        self._pick: Callable[[Mapping[str, Any]], tuple[Any, ...]]
        if len(names) > 1:
            self._pick = operator.itemgetter(*names)
        else:
            self._pick = lambda params: tuple(params[name] for name in names)
        self._bind_at = tuple((i, f) for i, f in enumerate(binds) if f is not None)
        self._result_at = tuple((i, f) for i, f in enumerate(results) if f is not None)

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        params = {**self.fixed, **given} if self.fixed else given
        values: Sequence[Any] = self._pick(params)
        if self._bind_at:
            converted = list(values)
            for i, convert in self._bind_at:
                converted[i] = convert(converted[i])
            values = converted
        if self._names is not None:
            return dict(zip(self._names, values, strict=True))
        return values

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self._result_at:  # text and numbers: as the driver gives them
            return tuple(raw)
        values = list(raw)
        for i, convert in self._result_at:
            values[i] = convert(values[i])
        return tuple(values)


class Prepared:
    """One statement, built for the session's kind of database and compiled once for it.

    Args:
        build: makes the statement for a dialect's name (``"sqlite"``, ``"postgresql"``); most
            statements ignore it, an upsert needs it (kiosk/store/portable.py). Parameters are
            named ``bindparam`` objects (in an ``UPDATE``, not named as a column of its table),
            each with a type; the statement must not expand lists (``IN``).
    """

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._statements: dict[str, Executable] = {}
        #: By dialect and driver: a plain test database's ``sqlite3`` raises its own errors.
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        #: The last dialect seen and its compiled form: one store is open at a time.
        self._last: tuple[Dialect, _Compiled] | None = None

    def _statement(self, dialect: str) -> Executable:
        statement = self._statements.get(dialect)
        if statement is None:
            statement = self._statements[dialect] = self._build(dialect)
        return statement

    def _compile(self, dialect: Dialect) -> _Compiled:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        key = (dialect.name, dialect.loaded_dbapi.__name__)
        found = self._compiled.get(key)
        if found is not None:
            self._last = (dialect, found)
            return found
        statement = self._statement(dialect.name)
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        named = compiled.positiontup is None
        # By name (pyformat): those the SQL names, in order of appearance, once each.
        names = (
            tuple(dict.fromkeys(_NAMED.findall(compiled.string)))
            if named
            else tuple(compiled.positiontup)
        )
        fixed = {
            name: compiled.binds[name].effective_value
            for name in names
            if not compiled.binds[name].required
        }
        types = [compiled.binds[name].type for name in names]
        untyped = [name for name, kind in zip(names, types, strict=True) if kind._isnull]
        if untyped:  # a timestamp would reach the driver unconverted: a programming error
            raise TypeError(f"parameters without a type: {', '.join(untyped)}")
        if isinstance(statement, Update):
            # SQLAlchemy refuses them on PostgreSQL, where it compiles with the parameters: the
            # embedded store must not accept what a site's store refuses.
            clash = sorted(set(names) & set(statement.table.c.keys()))
            if clash:
                raise TypeError(f"UPDATE parameters named as columns: {', '.join(clash)}")
        binds = tuple(kind.bind_processor(dialect) for kind in types)
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        results = tuple(column.type.result_processor(dialect, None) for column in columns)
        made = _Compiled(
            sql=compiled.string,
            names=names,
            fixed=fixed,
            binds=binds,
            results=results,
            error=dialect.loaded_dbapi.Error,
            named=named,
        )
        self._compiled[key] = made
        self._last = (dialect, made)
        return made

    def _run(self, s: Unit, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        """A DBAPI cursor that ran the statement, and its compiled form."""
        connection: Connection | None = None
        if isinstance(s, Writing) and s.driver is not None:  # the autosave's unit, on SQLite
            s.flush()
            driver, dialect = s.driver, s.dialect
        else:
            connection = connection_of(s)
            dialect = connection.dialect
            driver = connection.connection.driver_connection
        compiled = self._compile(dialect)
        values = compiled.parameters(params)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, values)
        except compiled.error as exc:
            cursor.close()
            gone = dialect.is_disconnect(exc, driver, cursor)  # type: ignore[arg-type]
            if gone:  # as SQLAlchemy does: the pool will not hand this connection out again
                if connection is not None:
                    connection.invalidate(exc)
                elif isinstance(s, Writing):
                    s.gone(exc)
            raise DBAPIError.instance(
                compiled.sql,
                values,
                exc,
                compiled.error,
                connection_invalidated=gone,
                dialect=dialect,
            ) from exc
        return cursor, compiled

    def execute(self, s: Unit, **params: Any) -> int:
        """Run a statement that changes rows, in ``s``'s transaction; the rows it changed."""
        cursor, _ = self._run(s, params)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def first(self, s: Unit, **params: Any) -> tuple[Any, ...] | None:
        """The first row a query returns (its columns converted as SQLAlchemy would), or None."""
        cursor, compiled = self._run(s, params)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else compiled.row(raw)

    def all(self, s: Unit, **params: Any) -> list[tuple[Any, ...]]:
        """Every row a query returns (its columns converted as SQLAlchemy would)."""
        cursor, compiled = self._run(s, params)
        try:
            raw = cursor.fetchall()
        finally:
            cursor.close()
        return [compiled.row(row) for row in raw]
