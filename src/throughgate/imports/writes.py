"""Writing many checked rows fast: one INSERT run with executemany (SQLite) or COPY
(PostgreSQL), with ids taken up front.

Django's bulk_create is correct but slow for this: on SQLite it splits a batch into
statements of 999 parameters (about 60 contacts each) and compiles each one; on
PostgreSQL it compiles a statement with a placeholder per cell. Here each value still
goes through its field's own `pre_save` and `get_db_prep_save` (auto_now times, and any
field that encrypts or converts its value, do what they always do); only the statement
building is skipped.

Ids are assigned before the insert so that rows pointing at new rows (a person's search
keys, a case's phase changes, the record map) can be written straight after:
PostgreSQL draws them from the table's sequence; SQLite continues after the highest id
ever used, safe because an import holds SQLite's only write lock (BEGIN IMMEDIATE) for its
whole transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)


def insert(objs: Sequence[models.Model], using: str | None = None) -> list[int]:
    """Insert `objs` (all of one model, not yet saved); returns their new ids in order."""
    if not objs:
        return []
    model = type(objs[0])
    using = using or router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    ids = _take_ids(connection, meta.db_table, pk.column, len(objs))
    fields = list(meta.concrete_fields)
    plain = [_is_plain(f) for f in fields]
    rows = []
    for obj, new_id in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, new_id)
        rows.append(
            [
                getattr(obj, f.attname)
                if simple
                else f.get_db_prep_save(f.pre_save(obj, True), connection)
                for f, simple in zip(fields, plain, strict=True)
            ]
        )
        obj._state.adding = False
        obj._state.db = using
    _write(connection, meta.db_table, [f.column for f in fields], rows)
    return ids


def insert_rows(model: type[models.Model], columns: list[str], rows: list[list[Any]]) -> list[int]:
    """Insert plain rows (values already as the database takes them) into `model`'s table,
    with new ids in front; for the importer's own bookkeeping rows, which need no model
    instance."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    assert meta.pk is not None
    ids = _take_ids(connection, meta.db_table, meta.pk.column, len(rows))
    _write(
        connection,
        meta.db_table,
        [meta.pk.column, *columns],
        [[new_id, *row] for new_id, row in zip(ids, rows, strict=True)],
    )
    return ids


# Field classes whose value goes to the database as it is held (no conversion, no
# pre_save): the exact classes only, so a subclass that encrypts or converts is not one.
PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveIntegerField,
    models.SmallIntegerField,
    models.BooleanField,
    models.BigAutoField,
    models.AutoField,
    models.ForeignKey,
    models.OneToOneField,
)


def _is_plain(field: models.Field) -> bool:
    return type(field) in PLAIN


def _write(connection: Any, db_table: str, columns: list[str], rows: list[list[Any]]) -> None:
    quote = connection.ops.quote_name
    table = quote(db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            # Names from the model's own options, quoted; values as parameters.
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)


_DEFAULTS: dict[type[models.Model], list[tuple[str, Any, bool]]] = {}


def new_instance(model: type[M], related: dict[str, Any], values: dict[str, Any]) -> M:
    """An unsaved `model` with these field values, made without Model.__init__.

    For a million rows, __init__'s generic work (signals, walking the fields, kwargs
    matching) costs more than everything else the row needs; this sets the same
    attributes __init__ would: every concrete field's default, then `values` (by field
    name), then the `related` objects (by relation name, cached as __init__ caches them).
    The object is an ordinary instance: `clean()` and `full_clean()` work on it.
    """
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = _DEFAULTS[model] = [
            (f.attname, f.default, callable(f.default))
            if f.has_default()
            else (f.attname, f.get_default(), False)
            for f in model._meta.concrete_fields
        ]
    obj = model.__new__(model)
    state = ModelState()
    obj._state = state
    attributes = obj.__dict__
    for attname, default, call in defaults:
        attributes[attname] = default() if call else default
    attributes.update(values)
    for name, other in related.items():
        attributes[model._meta.get_field(name).attname] = None if other is None else other.pk
        state.fields_cache[name] = other
    return obj


def _take_ids(connection: Any, table: str, column: str, n: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, n],
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        sql = f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}"  # noqa: S608
        cursor.execute(sql)
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(highest, found[0] if found else 0) + 1
        return list(range(start, start + n))
