"""Every hand-written SQL statement of the orders app, each returning plain rows (tests/orders/test_sql.py reads them).

Statements live here, not in the services, so that the one dialect they speak (PostgreSQL) is
in one place and each has a test of the rows it returns.
"""
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from orders.constants import LedgerKind, OrderStatus, PaymentStatus
from orders.models import (
    Buyer,
    FullReduction,
    LedgerEntry,
    Order,
    OrderLine,
    Payment,
    Product,
    Refund,
    Settlement,
    Sku,
    StockLevel,
)
from shop_admin.kernel import rawsql
from shop_admin.kernel.models import Shop, Warehouse


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def order_refund_money_rows(*, order_ids: list[int]) -> list[tuple]:
    """For each order: (id, status, shop_id, paid_amount, received, refunded, settled, payment_id, channel).

    received: what the escrow took in (the paid amount for an order paid outside our channels,
    which has no ledger row) less a forfeited deposit; refunded: every refund, whatever its
    status; payment: the largest successful payment, the one refunds go back through.
    """
    orders, ledger, refunds, settlements, payments = (m._meta.db_table for m in (Order, LedgerEntry, Refund, Settlement, Payment))
    sql = (
        f"SELECT o.id, o.status, o.shop_id, o.paid_amount,"
        f" COALESCE(NULLIF((SELECT SUM(e.amount) FROM {ledger} e WHERE e.order_id = o.id AND e.kind = %s), 0), o.paid_amount)"
        f" - COALESCE((SELECT SUM(e.amount) FROM {ledger} e WHERE e.order_id = o.id AND e.kind = %s), 0),"
        f" COALESCE((SELECT SUM(r.amount) FROM {refunds} r WHERE r.order_id = o.id), 0),"
        f" EXISTS (SELECT 1 FROM {settlements} s WHERE s.order_id = o.id),"
        f" p.id, COALESCE(p.channel, '')"
        f" FROM {orders} o LEFT JOIN LATERAL (SELECT id, channel FROM {payments} WHERE order_id = o.id AND status = %s"
        f" ORDER BY amount DESC, id DESC LIMIT 1) p ON true"
        f" WHERE o.id = ANY(%s) ORDER BY o.id"
    )
    return _rows(sql, [LedgerKind.ESCROW_IN, LedgerKind.DEPOSIT_FORFEIT, PaymentStatus.SUCCEEDED, list(order_ids)])


# --- stock ---


@cache
def _take_sql(into: str) -> str:
    q = connection.ops.quote_name
    column = q(StockLevel._meta.get_field(into).column)
    available = q(StockLevel._meta.get_field("available").column)
    return (
        f"UPDATE {q(StockLevel._meta.db_table)} SET {available} = {available} - %s, {column} = {column} + %s "
        f"WHERE {q(StockLevel._meta.pk.column)} = %s AND {available} >= %s"
    )


def stock_level_take(*, level_id: int, quantity: int, into: str) -> bool:
    """`available` -= quantity, `into` (locked or occupied) += quantity on one stock row if it has that many available;
    whether it had. By hand and prepared: it runs on every submission, and compiling it cost more than running it."""
    with connection.cursor() as cursor:
        rawsql.execute(cursor, _take_sql(into), [quantity, quantity, level_id, quantity])
        return cursor.rowcount == 1


def stock_levels_add(*, ids: list[int], deltas: dict[str, list[int]]) -> None:
    """Add to the count columns of many (locked) stock rows: `deltas[column][i]` to row `ids[i]`. One UPDATE ... FROM
    the moves as arrays: a join, however many stock rows (a CASE per row grows with them)."""
    table = StockLevel._meta.db_table
    columns = sorted(deltas)
    sets = ", ".join(f"{c} = {table}.{c} + v.{c}" for c in columns)
    arrays = ", ".join(["%s::bigint[]"] + ["%s::int[]"] * len(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(columns)}) WHERE {table}.id = v.id",
            [ids, *[deltas[c] for c in columns]],
        )


# --- submission and the buyer API ---


def _submission_load_sql() -> str:
    level, sku, product = StockLevel._meta, Sku._meta, Product._meta
    q = connection.ops.quote_name
    return (
        # The SKUs asked for by their keys, on their own (MATERIALIZED): the statement is prepared, and whatever the
        # statistics say about a shop, its plan then never walks the shop's SKUs to find a few.
        f"WITH s AS MATERIALIZED (SELECT {rawsql.columns(Sku, 'x')} FROM {q(sku.db_table)} x WHERE x.id = ANY(%(ids)s)) "
        f"SELECT {rawsql.columns(StockLevel, 'l')}, {rawsql.columns(Sku, 's')}, {rawsql.columns(Product, 'p')}, "
        f"{rawsql.columns(Shop, 'sh')}, {rawsql.columns(Warehouse, 'w')}, "
        f"ARRAY(SELECT ARRAY[r.threshold::text, r.discount::text] FROM {q(FullReduction._meta.db_table)} r "
        "WHERE r.shop_id = %(shop)s AND r.valid_from <= %(now)s AND r.valid_to >= %(now)s), "
        f"ARRAY(SELECT o.address_detail FROM {q(Order._meta.db_table)} o WHERE o.buyer_id = %(buyer)s "
        "AND o.created_at < %(now)s ORDER BY o.created_at DESC LIMIT %(usual)s) "
        f"FROM s JOIN {q(level.db_table)} l ON l.sku_id = s.id "
        f"JOIN {q(product.db_table)} p ON p.id = s.product_id JOIN {q(Shop._meta.db_table)} sh ON sh.id = s.shop_id "
        f"JOIN {q(Warehouse._meta.db_table)} w ON w.id = l.warehouse_id "
        "WHERE s.shop_id = %(shop)s AND s.is_active AND p.is_active"
    )


_SUBMISSION_LOAD_SQL: list[str] = []


def submission_load_rows(*, shop_id: int, sku_ids: list[int], now, buyer_id: int, usual_addresses: int) -> list[tuple]:
    """The one read of a submission: per stock row of the shop's active SKUs asked for, the columns of StockLevel, Sku,
    Product, Shop and Warehouse (`rawsql.columns` order), then the shop's 满减 rules in force as [threshold, discount]
    texts and the buyer's `usual_addresses` latest address details. Prepared once per connection: PostgreSQL took
    longer to plan it than to run it."""
    if not _SUBMISSION_LOAD_SQL:
        _SUBMISSION_LOAD_SQL.append(_submission_load_sql())
    with connection.cursor() as cursor:
        rawsql.execute(
            cursor, _SUBMISSION_LOAD_SQL[0], {"shop": shop_id, "ids": sku_ids, "now": now, "buyer": buyer_id, "usual": usual_addresses}
        )
        return cursor.fetchall()


@lru_cache(maxsize=1)
def _buyer_by_token_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT {rawsql.columns(Buyer, 'b')} FROM {q(Buyer._meta.db_table)} b "
        f"WHERE b.{q(Buyer._meta.get_field('api_token').column)} = %s LIMIT 1"
    )


def buyer_by_token_row(*, token: str) -> tuple | None:
    """The Buyer row (`rawsql.columns` order) of an API token: every buyer request starts here, so it is written once."""
    with connection.cursor() as cursor:
        rawsql.execute(cursor, _buyer_by_token_sql(), [token])
        return cursor.fetchone()


# --- the console's reads ---


@lru_cache(maxsize=1)
def _tab_counts_sql(statuses: int) -> str:
    # ORDER BY the index's own order keeps each count in the (shop, status, created_at) index: without it the
    # planner counts a big status by a seq scan of its first heap pages, slow once other reads evicted them.
    table = connection.ops.quote_name(Order._meta.db_table)
    return " UNION ALL ".join(
        f"SELECT %s, COUNT(*) FROM (SELECT 1 FROM {table} WHERE shop_id = %s AND status = %s ORDER BY created_at LIMIT %s) AS t{i}"
        for i in range(statuses)
    )


def order_tab_count_rows(*, shop_id: int, cap: int) -> list[tuple[str, int]]:
    """(status, orders of the shop in it, at most `cap`) for every status. Prepared once per connection: planning the
    counts took a third of the time of running them, and every status's plan is the same index-only scan."""
    params = []
    for status in OrderStatus.values:
        params += [status, shop_id, status, cap]
    with connection.cursor() as cursor:
        rawsql.execute(cursor, _tab_counts_sql(len(OrderStatus.values)), params)
        return cursor.fetchall()


def orders_numbered_rows(*, numbers: list[str]) -> list[tuple]:
    """(pk, order_no, shop_id, status, payable, merchant_remark) of the orders with these numbers, any shop. One array
    parameter: no statement with 100,000 placeholders to build (an import checks that many)."""
    columns = ("id", "order_no", "shop_id", "status", "payable", "merchant_remark")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {Order._meta.db_table} WHERE order_no = ANY(%s)", [numbers])
        return cursor.fetchall()


def orders_export_copy(*, sql: str, params: list, write_row: Callable[[bytes], None]) -> int:
    """Stream `sql`'s rows as CSV (`COPY (sql) TO STDOUT WITH (FORMAT csv)`), each row's bytes without its newline to
    `write_row`; returns the rows. COPY takes no parameters: they are quoted into the statement."""
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's, under Django's wrapper
        with raw.copy(f"COPY ({raw.mogrify(sql, params)}) TO STDOUT WITH (FORMAT csv)") as copy:
            for data in copy:
                write_row(data[:-1])
                written += 1
    return written


def ids_array(ids: list[int]) -> RawSQL:
    """`ids` for an `__in` filter as one array parameter, which plans in a tenth of the time of 5,000 literals."""
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def jit_off_for_transaction() -> None:
    """No JIT compilation until the transaction ends: for sums the planner thinks expensive and are quick to run."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def audit_prune_allow(on: bool) -> None:
    """The transaction-local switch the append-only trigger of the audit tables reads."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('shop_admin.audit_prune', %s, true)", ["on" if on else "off"])


# --- the auto-confirm clock ---


def orders_auto_confirm_resume_rows(*, order_ids: list[int], now) -> list[tuple]:
    """Start the paused auto-confirm clock of these (locked) orders again: a delivered order's clock runs again from
    `now` with the time it had left; any other keeps its auto_confirm_at and the time left. Returns
    (id, auto_confirm_at, scheduled: whether the clock now runs) of each order that was paused, in id order."""
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS o SET auto_confirm_paused_at = NULL, updated_at = %s,"
            " auto_confirm_at = CASE WHEN was.remaining IS NOT NULL AND o.status = %s THEN %s + was.remaining ELSE o.auto_confirm_at END,"
            " auto_confirm_remaining = CASE WHEN was.remaining IS NOT NULL AND o.status = %s THEN NULL ELSE was.remaining END"
            f" FROM (SELECT id, auto_confirm_remaining AS remaining FROM {table} WHERE id = ANY(%s) AND auto_confirm_paused_at IS NOT NULL)"
            " AS was WHERE o.id = was.id"
            " RETURNING o.id, o.auto_confirm_at, was.remaining IS NOT NULL AND o.status = %s",
            [now, OrderStatus.DELIVERED, now, OrderStatus.DELIVERED, sorted(order_ids), OrderStatus.DELIVERED],
        )
        return sorted(cursor.fetchall())


# The orders' set-wise paths: a sweep's batch (or one order) in one round trip each.
#
# Why by hand: the deadline sweep cancels hundreds of orders per batch, and it is the one path every
# cancellation takes, so a batch of one is the same code. Profiled, its time went to reading rows back
# into Python only to write them again (the lines as model instances, JSON snapshot and all, to learn
# their stock row and quantity; the orders' status to learn where each came from) and to one round trip
# per step. Each statement below does a read-and-write step in the database and returns only what the
# caller must know. Figures: tests/perf/README.md ("The deadline sweep under 10 s").


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
