"""Model rows by hand-written SQL on a hot path: the same instances the ORM would give, without compiling a query.

Order submission runs a handful of statements whose shape never changes; building each
through the ORM (resolving lookups, compiling, quoting every column) cost more CPU than
the database spent on them. Here a statement's column list is derived once per model from
its `_meta` (so a field added to a model is read and written like the ORM would), rows
read come back as model instances with the backend's and the fields' converters applied,
and rows written are prepared by each field's `pre_save` and `get_db_prep_save`, as
`Model.save()` does. No `save()` override or signal runs on insert: callers are services
that build complete rows (the models written this way have neither).
"""
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import cache

from django.conf import settings
from django.db import connection, connections, models
from django.db.models import QuerySet
from django.db.models.expressions import Col


@cache
def _read_plan(model: type[models.Model]) -> tuple[tuple[str, ...], tuple[tuple, ...]]:
    fields = model._meta.concrete_fields
    plan = []
    for field in fields:
        col = Col(model._meta.db_table, field)
        plan.append((tuple(connection.ops.get_db_converters(col) + field.get_db_converters(connection)), col))
    return tuple(connection.ops.quote_name(f.column) for f in fields), tuple(plan)


def columns(model: type[models.Model], alias: str) -> str:
    """`alias."id", alias."name", ...`: every concrete column of the model, in `_meta` order."""
    names, _plan = _read_plan(model)
    return ", ".join(f"{alias}.{name}" for name in names)


def width(model: type[models.Model]) -> int:
    return len(model._meta.concrete_fields)


def instance(model: type[models.Model], row: Sequence, start: int = 0) -> models.Model:
    """The instance of `model` from `row[start:start + width(model)]` (a row selected with `columns`)."""
    _names, plan = _read_plan(model)
    values = list(row[start : start + len(plan)])
    for index, (converters, col) in enumerate(plan):
        if converters:
            for converter in converters:
                values[index] = converter(values[index], col, connection)
    return model.from_db(connection.alias, None, values)


def related_set(obj: models.Model, field_name: str, value: models.Model) -> None:
    """Give `obj` its related row `field_name` as select_related would (no query when it is read)."""
    obj._meta.get_field(field_name).set_cached_value(obj, value)


# Fields whose preparation for the database returns a value of their own Python type as it is, when the methods
# doing it are Django's own (not a subclass's): text, integers, booleans, foreign keys to an integer id.
_PLAIN = ((models.CharField, str), (models.TextField, str), (models.BooleanField, bool), (models.IntegerField, int), (models.AutoField, int))
_PREP = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")


def _plain_type(field: models.Field) -> type | None:
    if isinstance(field, models.ForeignKey):
        own = all(getattr(type(field), name) is getattr(models.ForeignKey, name) for name in _PREP)
        return _plain_type(field.target_field) if own else None
    for base, python_type in _PLAIN:
        if isinstance(field, base) and all(getattr(type(field), name) is getattr(base, name) for name in _PREP):
            return python_type
    return None


@cache
def _write_plan(model: type[models.Model]) -> tuple[tuple[tuple[models.Field, type | None], ...], str]:
    pk = model._meta.pk
    fields = tuple(f for f in model._meta.concrete_fields if not (f is pk and isinstance(f, models.AutoField | models.BigAutoField)))
    return tuple((f, _plain_type(f)) for f in fields), ", ".join(connection.ops.quote_name(f.column) for f in fields)


def _row_params(model: type[models.Model], obj: models.Model, skip: str | None, params: list) -> None:
    """Append the values of `obj`'s columns (but `skip`) to `params`, prepared as `Model.save()` would."""
    fields, _names = _write_plan(model)
    for field, plain_type in fields:
        if field.attname == skip:
            continue
        if plain_type is not None:
            value = getattr(obj, field.attname)
            if value is None or type(value) is plain_type:  # what the field's methods would return unchanged
                params.append(value)
                continue
        params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))


@cache
def _insert_sql(model: type[models.Model], shape: tuple[tuple[type[models.Model], str, int], ...]) -> str:
    """The one statement of `insert_with_children` for a parent and, per group of children, (model, fk attname, rows)."""
    q = connection.ops.quote_name

    def values(child: type[models.Model], fk: str | None, rows: int) -> str:
        fields, _names = _write_plan(child)
        row = ", ".join("(SELECT id FROM p)" if field.attname == fk else "%s" for field, _plain in fields)
        return ", ".join([f"({row})"] * rows)

    ctes = [f"p AS (INSERT INTO {q(model._meta.db_table)} ({_write_plan(model)[1]}) VALUES {values(model, None, 1)} RETURNING id)"]
    selects = ["(SELECT id FROM p)"]
    for index, (child, fk, rows) in enumerate(shape):
        ctes.append(
            f"c{index} AS (INSERT INTO {q(child._meta.db_table)} ({_write_plan(child)[1]}) VALUES {values(child, fk, rows)} RETURNING id)"
        )
        # One INSERT numbers its rows from the sequence in the order of its VALUES.
        selects.append(f"ARRAY(SELECT id FROM c{index} ORDER BY id)")
    return f"WITH {', '.join(ctes)} SELECT {', '.join(selects)}"


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_with_children(parent: models.Model, children: Sequence[tuple[str, Sequence[models.Model]]]) -> None:
    """INSERT `parent` and, pointing at it by foreign key `fk`, each group of `children` (fk, rows): one statement.

    Afterwards every instance has its id (children in the order given) and counts as saved.
    The statement depends only on the models and the number of rows, so it is written once per shape
    and prepared once per connection (`execute`).
    """
    children = [(fk, rows) for fk, rows in children if rows]
    model = type(parent)
    params: list = []
    _row_params(model, parent, None, params)
    shape = []
    for fk, rows in children:
        child = type(rows[0])
        fk_attname = child._meta.get_field(fk).attname
        shape.append((child, fk_attname, len(rows)))
        for row in rows:
            _row_params(child, row, fk_attname, params)
    with connection.cursor() as cursor:
        execute(cursor, _insert_sql(model, tuple(shape)), params)
        result = cursor.fetchone()
    _saved(parent, result[0])
    for (fk, rows), ids in zip(children, result[1:], strict=True):
        for row, pk in zip(rows, ids, strict=True):
            setattr(row, fk, parent)
            _saved(row, pk)


def one_statement(*reads: tuple[str, QuerySet]) -> list:
    """Several one-value reads as one SELECT of scalar subqueries: a round trip and a compiled statement each saved.

    ("count", queryset) counts the queryset's rows (slice it to cap the count); ("first", queryset) is the first
    column of its first row, or None. All run on the database of the last queryset.
    """
    return one_statement_run(*one_statement_sql(*reads))


def one_statement_sql(*reads: tuple[str, QuerySet]) -> tuple[str, list, str]:
    """The SQL, params and database alias of `one_statement(*reads)`, to keep and run again."""
    columns, params, using = [], [], "default"
    for index, (kind, queryset) in enumerate(reads):
        using = queryset.db
        if kind == "count":
            queryset = queryset.values("pk") if not queryset.query.values_select else queryset
        else:
            queryset = queryset[:1]
        sql, part_params = queryset.query.get_compiler(using).as_sql()
        columns.append(f"(SELECT COUNT(*) FROM ({sql}) AS read{index})" if kind == "count" else f"({sql})")
        params += part_params
    return "SELECT " + ", ".join(columns), params, using


def one_statement_run(sql: str, params: Sequence, using: str, *, prepared: bool = False) -> list:
    """Run what `one_statement_sql` gave: the one row of values; `prepared` for a statement kept (`execute`)."""
    with connections[using].cursor() as cursor:
        execute(cursor, sql, params) if prepared else cursor.execute(sql, params)
        return list(cursor.fetchone())


# --- statements prepared once per connection ---------------------------------------------------------------

# What each open PostgreSQL connection (the psycopg object) has prepared: statement text -> (EXECUTE text, param keys).
# A connection closed and opened again is a new object with nothing prepared; PREPARE outlives a rollback.
_prepared: "weakref.WeakKeyDictionary[object, dict[str, tuple[str, tuple]]]" = weakref.WeakKeyDictionary()
PREPARED_PER_CONNECTION = 64  # beyond this many shapes, statements run unprepared (a bound on the server's memory)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


def _numbered(sql: str) -> tuple[str, tuple]:
    """`sql` with `$1, $2, ...` for its `%s` / `%(name)s` placeholders, and the param (index or name) of each number."""
    keys: list = []
    positional = 0

    def number(match: re.Match) -> str:
        nonlocal positional
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            keys.append(positional)
            positional += 1
        elif match.group(1) in keys:
            return f"${keys.index(match.group(1)) + 1}"
        else:
            keys.append(match.group(1))
        return f"${len(keys)}"

    return _PLACEHOLDER.sub(number, sql), tuple(keys)


def execute(cursor, sql: str, params: Sequence | Mapping) -> None:
    """`cursor.execute(sql, params)` as a server-side prepared statement of the cursor's connection.

    For the statements a hot path runs on every request: PostgreSQL then parses and plans one once
    per connection (persistent connections, CONN_MAX_AGE), not on every call, and the driver splits
    only the short EXECUTE text. Django's cursors bind parameters on the client, so psycopg's own
    `prepare` does not apply; `PREPARE`/`EXECUTE` are plain SQL, seen by execute wrappers and the
    query log like any statement. Off (settings.DATABASE_PREPARED_STATEMENTS) behind a pooler that
    hands one session's statements to another backend (PgBouncer in transaction mode).
    """
    db = cursor.db
    if not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    prepared = _prepared.get(db.connection)
    if prepared is None:
        prepared = _prepared[db.connection] = {}
    entry = prepared.get(sql)
    if entry is None:
        if len(prepared) >= PREPARED_PER_CONNECTION:
            cursor.execute(sql, params)
            return
        numbered, keys = _numbered(sql)
        name = f"rawsql_{len(prepared) + 1}"
        cursor.execute(f"PREPARE {name} AS {numbered}")
        entry = prepared[sql] = (f"EXECUTE {name}({', '.join(['%s'] * len(keys))})" if keys else f"EXECUTE {name}", keys)
    execute_sql, keys = entry
    cursor.execute(execute_sql, [params[key] for key in keys] if keys else None)


def prepared_rows(using: str, sql: Callable[[], str], params: Sequence | Mapping) -> list[tuple]:
    """The rows of a hand-written read, run as a statement prepared per connection (`execute`). `sql` builds
    the statement (kept by its caller once built)."""
    with connections[using].cursor() as cursor:
        execute(cursor, sql(), params)
        return cursor.fetchall()
