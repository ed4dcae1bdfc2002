"""Hand-written statements of the orders' set-wise paths: a sweep's batch (or one order) in one round trip each.

Why by hand: the deadline sweep cancels hundreds of orders per batch, and it is the one path every
cancellation takes, so a batch of one is the same code. Profiled, its time went to reading rows back
into Python only to write them again (the lines as model instances, JSON snapshot and all, to learn
their stock row and quantity; the orders' status to learn where each came from) and to one round trip
per step. Each statement below does a read-and-write step in the database and returns only what the
caller must know. Figures: tests/perf/README.md ("The deadline sweep under 10 s").
"""
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.db import connection

from orders.models import Order, OrderLine


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _lines_free_sql() -> str:
    table, pk = _q(OrderLine._meta.db_table), _q(OrderLine._meta.pk.column)
    order, state = _q(OrderLine._meta.get_field("order").column), _q(OrderLine._meta.get_field("stock_state").column)
    level, quantity = _q(OrderLine._meta.get_field("stock_level").column), _q(OrderLine._meta.get_field("quantity").column)
    # The lines' old state comes from the CTE (RETURNING sees only the new one); summed per stock row and state,
    # so a batch sends back one row per stock row touched, not one per line. The ids are given to the UPDATE too:
    # joined to the CTE alone, the planner hashes it against a scan of the whole table, once per batch.
    return (
        f"WITH old AS (SELECT {pk}, {state} FROM {table} WHERE {order} = ANY(%s) AND {state} = ANY(%s)), "
        f"freed AS (UPDATE {table} AS l SET {state} = %s FROM old WHERE l.{pk} = old.{pk} AND l.{order} = ANY(%s) "
        f"RETURNING l.{level} AS level, old.{state} AS state, l.{quantity} AS quantity) "
        f"SELECT level, state, SUM(quantity) FROM freed WHERE level IS NOT NULL GROUP BY level, state"
    )


def order_lines_state_set(*, order_ids: Sequence[int], states: Sequence[str], to: str) -> list[tuple[int, str, int]]:
    """Lines of these orders in one of `states` are set to `to`; returns (stock row id, former state, units) summed."""
    with connection.cursor() as cursor:
        cursor.execute(_lines_free_sql(), [list(order_ids), list(states), to, list(order_ids)])
        return [(level, state, int(units)) for level, state, units in cursor.fetchall()]


@cache
def _transition_sql(columns: tuple[str, ...]) -> str:
    table, pk = _q(Order._meta.db_table), _q(Order._meta.pk.column)
    status, shop = _q(Order._meta.get_field("status").column), _q(Order._meta.get_field("shop").column)
    sets = ", ".join(f"{_q(c)} = %s" for c in columns)
    # Read the source state and write the target in one statement: the caller holds the rows' locks, so the
    # CTE's read is what the UPDATE changes. The ids are given to the UPDATE too (see _lines_free_sql).
    return (
        f"WITH old AS (SELECT {pk}, {status}, {shop} FROM {table} WHERE {pk} = ANY(%s) AND {status} = ANY(%s)) "
        f"UPDATE {table} AS o SET {status} = %s, {sets} FROM old WHERE o.{pk} = old.{pk} AND o.{pk} = ANY(%s) "
        f"RETURNING o.{pk}, old.{status}, old.{shop}"
    )


def orders_status_move(
    *, order_ids: Sequence[int], sources: Sequence[str], target: str, fields: Mapping[str, Any]
) -> list[tuple[int, str, int]]:
    """Orders among `order_ids` in one of `sources` go to `target` with `fields` (attname -> value) written too;
    returns (id, former status, shop id) of those moved, in id order."""
    prepared = []
    for name, value in fields.items():
        field = Order._meta.get_field(name)
        prepared.append((field.column, field.get_db_prep_save(value, connection)))
    with connection.cursor() as cursor:
        cursor.execute(
            _transition_sql(tuple(c for c, _v in prepared)),
            [list(order_ids), list(sources), target, *(v for _c, v in prepared), list(order_ids)],
        )
        return sorted(cursor.fetchall())
