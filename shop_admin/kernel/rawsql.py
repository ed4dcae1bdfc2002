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
from collections.abc import Sequence
from functools import cache

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


def _values_sql(model: type[models.Model], objs: Sequence[models.Model], fk: str | None, parent_cte: str | None) -> tuple[str, list]:
    fields, _names = _write_plan(model)
    rows, params = [], []
    for obj in objs:
        marks = []
        for field, plain_type in fields:
            if parent_cte is not None and field.attname == fk:
                marks.append(f"(SELECT id FROM {parent_cte})")
                continue
            marks.append("%s")
            if plain_type is not None:
                value = getattr(obj, field.attname)
                if value is None or type(value) is plain_type:  # what the field's methods would return unchanged
                    params.append(value)
                    continue
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        rows.append(f"({', '.join(marks)})")
    return ", ".join(rows), params


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_with_children(parent: models.Model, children: Sequence[tuple[str, Sequence[models.Model]]]) -> None:
    """INSERT `parent` and, pointing at it by foreign key `fk`, each group of `children` (fk, rows): one statement.

    Afterwards every instance has its id (children in the order given) and counts as saved.
    SQLite (`make run` may use it): the ORM's save and bulk_create instead.
    """
    children = [(fk, rows) for fk, rows in children if rows]
    if connection.vendor != "postgresql":
        parent.save(force_insert=True)
        for fk, rows in children:
            for row in rows:
                setattr(row, fk, parent)
            type(rows[0]).objects.bulk_create(rows)
        return
    model = type(parent)
    values, params = _values_sql(model, [parent], None, None)
    ctes = [f"p AS (INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({_write_plan(model)[1]}) VALUES {values} RETURNING id)"]
    selects = ["(SELECT id FROM p)"]
    for index, (fk, rows) in enumerate(children):
        child = type(rows[0])
        fk_attname = child._meta.get_field(fk).attname
        values, child_params = _values_sql(child, rows, fk_attname, "p")
        params += child_params
        ctes.append(
            f"c{index} AS (INSERT INTO {connection.ops.quote_name(child._meta.db_table)} ({_write_plan(child)[1]}) "
            f"VALUES {values} RETURNING id)"
        )
        # One INSERT numbers its rows from the sequence in the order of its VALUES.
        selects.append(f"ARRAY(SELECT id FROM c{index} ORDER BY id)")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(selects)}", params)
        result = cursor.fetchone()
    _saved(parent, result[0])
    for (fk, rows), ids in zip(children, result[1:], strict=True):
        for row, pk in zip(rows, ids, strict=True):
            setattr(row, fk, parent)
            _saved(row, pk)


def _one_read(kind: str, queryset: QuerySet):
    if kind == "count":
        return queryset.count()
    row = next(iter(queryset[:1]), None)
    if isinstance(row, dict):
        return next(iter(row.values()))
    if isinstance(row, tuple):
        return row[0]
    return row


def one_statement(*reads: tuple[str, QuerySet]) -> list:
    """Several one-value reads as one SELECT of scalar subqueries: a round trip and a compiled statement each saved.

    ("count", queryset) counts the queryset's rows (slice it to cap the count); ("first", queryset) is the first
    column of its first row, or None. All run on the database of the last queryset.
    """
    if reads and connections[reads[-1][1].db].vendor != "postgresql":
        return [_one_read(kind, queryset) for kind, queryset in reads]  # SQLite (`make run`): one by one, values converted
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
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        return list(cursor.fetchone())
