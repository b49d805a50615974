"""Writing many checked rows fast: one INSERT run with executemany (SQLite) or COPY
(PostgreSQL), with ids taken up front.

Django's bulk_create is correct but slow for this: on SQLite it splits a batch into
statements of 999 parameters (about 60 contacts each) and compiles each one; on
PostgreSQL it compiles a statement with a placeholder per cell. Here each value still
becomes what its field's own `pre_save` and `get_db_prep_save` would make of it; only the
statement building is skipped. Three kinds of field take a shorter way to the same
value, a million times over: plain values as they are; an aware date and time as
Django's backend converts it; an encrypted note through `encrypt` directly. An auto_now
time is one time for the batch.

`prepare` (objects to rows of values) needs no connection, so worker processes do it
(imports/parallel.py); `insert_prepared` writes the rows. For PostgreSQL a worker goes
one step further: `copy_text` makes the rows into the text COPY reads, so that the
importing process only passes it on (`copy_in`) with no work of its own per row.

Ids are assigned before the insert so that rows pointing at new rows (a person's search
keys, a case's phase changes, the record map) can be written straight after:
PostgreSQL draws them from the table's sequence; SQLite continues after the highest id
ever used, safe because an import holds SQLite's only write lock (BEGIN IMMEDIATE) for its
whole transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, models, router
from django.db.models.base import ModelState
from django.utils import timezone

from throughgate.core.encryption import TOKEN_PREFIX, EncryptedTextField, encrypt

M = TypeVar("M", bound=models.Model)


def insert(objs: Sequence[models.Model], using: str | None = None) -> list[int]:
    """Insert `objs` (all of one model, not yet saved); returns their new ids in order."""
    if not objs:
        return []
    model = type(objs[0])
    using = using or router.db_for_write(model)
    connection = connections[using]
    return insert_prepared(model, prepare(objs, connection.vendor), using, objs)


def prepare(objs: Sequence[models.Model], vendor: str) -> list[list[Any]]:
    """Each object's values as `vendor`'s database takes them, every concrete field but
    the id, in the model's field order: what `insert_prepared` writes. Needs no database
    connection, so a worker process can do it (imports.parallel)."""
    if not objs:
        return []
    model = type(objs[0])
    getters = _getters(model, vendor)
    now = timezone.now()  # for fields stamped on saving (auto_now): one time per batch
    stamped = [
        f
        for f in _value_fields(model)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for f in stamped:
        for obj in objs:
            obj.__dict__[f.attname] = now
    return [[get(obj) for get in getters] for obj in objs]


def insert_prepared(
    model: type[models.Model],
    rows: list[list[Any]],
    using: str | None = None,
    objs: Sequence[models.Model] = (),
) -> list[int]:
    """Insert rows made by `prepare`, with new ids in front; returns the ids in order.
    `objs`, when given, are the rows' objects: they get their ids and become saved."""
    if not rows:
        return []
    using = using or router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    ids = _take_ids(connection, meta.db_table, pk.column, len(rows))
    if objs:
        for obj, new_id in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, new_id)
            obj._state.adding = False
            obj._state.db = using
    _write(
        connection,
        meta.db_table,
        insert_columns(model),
        [[new_id, *row] for new_id, row in zip(ids, rows, strict=True)],
    )
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


def _value_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _getters(model: type[models.Model], vendor: str) -> list[Callable[[Any], Any]]:
    """For each field of `_value_fields(model)`, how to read an object's value ready
    for the database: plain values as held; an aware date and time converted the way
    Django's backend converts it (to UTC text on SQLite; as it is for psycopg); every
    other field through its own `pre_save` and `get_db_prep_save`."""
    from django.db import connection as default_connection

    getters: list[Callable[[Any], Any]] = []
    for f in _value_fields(model):
        if _is_plain(f):
            getters.append(attrgetter(f.attname))
        elif type(f) is models.DateTimeField:
            getters.append(_datetime_getter(f, vendor))
        elif type(f) is EncryptedTextField:
            getters.append(_encrypted_getter(f, default_connection))
        else:
            getters.append(_field_getter(f, default_connection))
    return getters


def _datetime_getter(f: models.DateTimeField, vendor: str) -> Callable[[Any], Any]:
    from django.db import connection as default_connection

    attname = f.attname
    use_tz = settings.USE_TZ
    # The last time converted, and what it became: a time stamped on the batch (auto_now,
    # set by `prepare`) or given to every record of a run is one object, converted once.
    last: list[Any] = [None, None]

    def get(obj: Any) -> Any:
        value = obj.__dict__[attname]
        if value is last[0] and value is not None:
            return last[1]
        if isinstance(value, datetime) and value.tzinfo is not None and use_tz:
            if vendor == "postgresql":
                prepped = value  # psycopg sends an aware datetime as it is
            elif vendor == "sqlite":
                utc = value if value.tzinfo is UTC else value.astimezone(UTC)
                prepped = str(utc.replace(tzinfo=None))
            else:
                prepped = f.get_db_prep_save(value, default_connection)
        else:
            prepped = f.get_db_prep_save(value, default_connection)
        last[:] = [value, prepped]
        return prepped

    return get


def _encrypted_getter(f: EncryptedTextField, connection: Any) -> Callable[[Any], Any]:
    attname = f.attname

    def get(obj: Any) -> Any:
        value = obj.__dict__[attname]
        # What the field's get_prep_value does, without the layers between (a value that
        # looks like a token already goes the field's own way).
        if value.__class__ is str and not value.startswith(TOKEN_PREFIX):
            return encrypt(value) if value else value
        return f.get_db_prep_save(f.pre_save(obj, True), connection)

    return get


def _field_getter(f: models.Field, connection: Any) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        return f.get_db_prep_save(f.pre_save(obj, True), connection)

    return get


def _copy_statement(connection: Any, db_table: str, columns: list[str]) -> str:
    quote = connection.ops.quote_name
    return f"COPY {quote(db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"


def _write(connection: Any, db_table: str, columns: list[str], rows: list[list[Any]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(_copy_statement(connection, db_table, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            quote = connection.ops.quote_name
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            # Names from the model's own options, quoted; values as parameters.
            sql = f"INSERT INTO {quote(db_table)} ({names}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)


def insert_columns(model: type[models.Model]) -> list[str]:
    """The columns `insert_prepared` writes, in order: the id, then `prepare`'s values."""
    assert model._meta.pk is not None
    return [model._meta.pk.column] + [f.column for f in _value_fields(model)]


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` new ids from `model`'s sequence (PostgreSQL), for records not yet written."""
    connection = connections[router.db_for_write(model)]
    assert connection.vendor == "postgresql", "SQLite's next id is the highest one + 1"
    assert model._meta.pk is not None
    return _take_ids(connection, model._meta.db_table, model._meta.pk.column, n)


def copy_in(model: type[models.Model], columns: list[str], data: bytes) -> None:
    """Rows already in PostgreSQL's COPY text format (`copy_text`) into `model`'s table."""
    connection = connections[router.db_for_write(model)]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(_copy_statement(connection, model._meta.db_table, columns)) as copy:
            copy.write(data)


class NotCopyText(TypeError):
    """A value `copy_text` does not know how to write: the caller writes the rows itself."""


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_escaped(text: str) -> str:
    if "\\" in text or "\n" in text or "\r" in text or "\t" in text:
        return text.translate(_COPY_ESCAPES)
    return text  # nearly always: scanning for the four is cheaper than translating


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = value.__class__
    if kind is str:
        return _copy_escaped(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is datetime:
        if value.tzinfo is None:  # a time with no zone is not one PostgreSQL should guess
            raise NotCopyText("a date and time with no time zone")
        return value.isoformat(" ")
    if kind is date:
        return value.isoformat()
    if isinstance(value, str):  # a choice (an enum member): its value
        return _copy_escaped(str.__str__(value))
    raise NotCopyText(f"{kind.__name__} values are written by the database driver")


def copy_text(rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows of values (as `prepare` makes them for PostgreSQL) in the text format of
    PostgreSQL's COPY: tab between columns, \\N for NULL, backslash escapes for
    backslash, newline, carriage return and tab. Text, whole numbers, yes/no, dates and
    times with a zone only; anything else raises NotCopyText.

    A time stamped on the whole batch (one object in every row) is written once."""
    times: dict[int, str] = {}  # id -> text, of the times seen (all alive until the end)
    lines = []
    for row in rows:
        cells = []
        for value in row:
            if value.__class__ is datetime:
                text = times.get(id(value))
                if text is None:
                    text = times[id(value)] = _copy_value(value)
                cells.append(text)
            else:
                cells.append(_copy_value(value))
        lines.append("\t".join(cells))
    lines.append("")
    return "\n".join(lines).encode("utf-8") if rows else b""


@dataclass
class _Blank:
    """What `new_instance` sets on every new object of a model, worked out once."""

    fixed: dict[str, Any]  # attname -> default, for defaults that are values
    called: list[tuple[str, Callable[[], Any]]]  # attname -> default, for callables
    attnames: dict[str, str]  # relation name -> its column's attname


_BLANKS: dict[type[models.Model], _Blank] = {}


def _called(field: models.Field) -> bool:
    return field.has_default() and callable(field.default)


def new_instance(model: type[M], related: dict[str, Any], values: dict[str, Any]) -> M:
    """An unsaved `model` with these field values, made without Model.__init__.

    For a million rows, __init__'s generic work (signals, walking the fields, kwargs
    matching) costs more than everything else the row needs; this sets the same
    attributes __init__ would: every concrete field's default, then `values` (by field
    name), then the `related` objects (by relation name, cached as __init__ caches them).
    The object is an ordinary instance: `clean()` and `full_clean()` work on it.
    """
    blank = _BLANKS.get(model)
    if blank is None:
        fields = model._meta.concrete_fields
        blank = _BLANKS[model] = _Blank(
            {f.attname: f.get_default() for f in fields if not _called(f)},
            [(f.attname, f.default) for f in fields if _called(f)],
            {f.name: f.attname for f in fields if f.is_relation},
        )
    obj = model.__new__(model)
    state = ModelState()
    obj._state = state
    attributes = obj.__dict__
    attributes.update(blank.fixed)
    for attname, default in blank.called:
        attributes[attname] = default()
    attributes.update(values)
    for name, other in related.items():
        attributes[blank.attnames[name]] = None if other is None else other.pk
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
