"""Writing many rows at once at the speed of the database: PostgreSQL COPY.

`rows_copy` takes plain dicts of column values (building 100,000 model instances
costs more than writing them) and streams them with COPY inside the caller's
transaction; `ids_allocate` gives rows their ids from the table's sequence first, so
rows that refer to them can be built before anything is written; the `any_of` lookup passes a
long id list to a query as one array. No model `save()`
runs: callers are services that build complete rows themselves.
"""
import gc
import json
from collections.abc import Iterable
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Lookup
from django.utils import timezone


def json_text(value: Any) -> str:
    """A JSON column's value as COPY takes it."""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector off for a bulk step (nested ones too), on again after it.

    Reading and checking 100,000 rows allocates millions of small dicts and objects, none of
    them in cycles: the collector's passes over them were a quarter of an import's CPU time.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextmanager
def constraints_checked_as_written():
    """Inside it, PostgreSQL checks foreign keys row by row as COPY writes them, while the client is still sending,
    instead of all at once at the commit while everyone waits; every row written inside must refer only to rows
    already written. Outside (and if the block fails: its transaction is done for) the usual deferred checks."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def ids_allocate(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh ids of the model's table, taken from its sequence."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, model._meta.pk.column, count]
        )
        return [row[0] for row in cursor.fetchall()]


class AnyOf(Lookup):
    """`field__any_of=ids` for hundreds of ids (a sweep's batch): `= ANY(%s)` with one array parameter.

    `__in` makes Django prepare and psycopg quote every id on its own, a third of a batch's Python
    time; `IN (SELECT unnest(...))` misleads the planner into scanning the table. `= ANY` is what
    PostgreSQL makes of a short `IN` list: an index condition with a known number of values.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, [int(pk) for pk in self.rhs]]


models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)  # foreign keys keep lookups of their own


def rows_copy(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows given as {attname: value} (`order_id`, not `order`); a missing field takes its default
    (auto_now fields: now; the id: the sequence's next). Returns how many were written."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in first)]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:  # the model's default, or what Django writes for a field without one ("" for text, else NULL)
            defaults[f.attname] = f.get_default()
    plan = [(f.attname, defaults[f.attname], isinstance(f, models.JSONField)) for f in fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Each row is its values over the defaults (a dict merge and an itemgetter, both C: 100,000 rows of 40
    # columns cost no 4 million lookups in Python); JSON values are encoded once per object (rows share them).
    base = {name: default for name, default, _json in plan}
    pick = itemgetter(*base) if len(base) > 1 else (lambda merged: (merged[next(iter(base))],))
    json_at = [i for i, (_name, _default, is_json) in enumerate(plan) if is_json]
    encoded: dict[int, tuple[Any, str]] = {}  # id(value) -> (value, its JSON): the value is kept, so the id stays its

    def as_json(value) -> str:
        hit = encoded.get(id(value))
        if hit is None or hit[0] is not value:
            hit = encoded[id(value)] = (value, json_text(value))
        return hit[1]

    written = 0
    with connection.cursor() as cursor:
        # The psycopg cursor under Django's wrapper: COPY streams rows without building one huge statement.
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            for row in chain([first], rows):
                values = pick({**base, **row})
                if json_at:
                    values = list(values)
                    for i in json_at:
                        values[i] = as_json(values[i])
                write(values)
                written += 1
    return written
