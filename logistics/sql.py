"""Every hand-written SQL statement of the logistics app, each returning plain rows (tests/logistics/test_sql.py reads them).

Each statement is its own function, so that statements added beside these (route statistics) merge as new functions.
"""
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from logistics.models import Shipment, TrackingEvent

# --- a tracking push ---

_SHIPMENT_COLUMNS = [field.column for field in Shipment._meta.concrete_fields]


def _lock_and_insert_sql() -> str:
    shipments, events = Shipment._meta.db_table, TrackingEvent._meta.db_table
    columns = ", ".join(_SHIPMENT_COLUMNS)
    return (
        f"WITH s AS (SELECT {columns} FROM {shipments} WHERE carrier = %s AND tracking_no = %s FOR UPDATE), "
        f"v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) "
        f"AS v (code varchar, occurred_at timestamptz, location varchar, description varchar, dedupe_key varchar)), "
        f"ins AS (INSERT INTO {events} (shipment_id, order_id, code, occurred_at, location, description, dedupe_key, received_at) "
        f"SELECT s.id, s.order_id, v.code, v.occurred_at, v.location, v.description, v.dedupe_key, %s FROM s CROSS JOIN v "
        f"ON CONFLICT (shipment_id, dedupe_key) DO NOTHING RETURNING dedupe_key) "
        f"SELECT {columns}, ARRAY(SELECT dedupe_key FROM ins) FROM s"
    )


# Fixed text: the driver parses it once and caches it, whatever the push's size.
_LOCK_AND_INSERT_SQL = _lock_and_insert_sql()
_STATE_WRITE_SQL = (
    f"UPDATE {Shipment._meta.db_table} SET status = %s, last_event_at = %s, last_event_code = %s, signed_at = %s, "
    f"stalled_at = %s, stall_deadline = %s WHERE id = %s"
)


def shipment_lock_and_insert_row(*, carrier: str, tracking_no: str, events_json: str, received_at) -> tuple | None:
    """Lock the parcel and insert the events (a JSON array of {code, occurred_at, location, description, dedupe_key})
    it does not have yet (ON CONFLICT (shipment, dedupe_key) DO NOTHING), in one statement: the parcel's row (Shipment's
    concrete fields in `_meta` order) followed by the list of the dedupe keys actually inserted; None: no such parcel."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_AND_INSERT_SQL, [carrier, tracking_no, events_json, received_at])
        return cursor.fetchone()


def shipment_state_write(*, shipment_id: int, status: str, last_event_at, last_event_code: str, signed_at, stalled_at,
                         stall_deadline) -> None:
    """The parcel's state after its latest event, in one fixed UPDATE (a model save() cost twice as much CPU)."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE_WRITE_SQL, [status, last_event_at, last_event_code, signed_at, stalled_at, stall_deadline, shipment_id])


# --- the console's reads ---


def shipment_status_count_rows(*, shop_id: int, statuses: list[str], cap: int) -> list[tuple[str, int]]:
    """(status, parcels of the shop in it, at most `cap`) for each status: each counted by its own LIMITed index scan,
    in one statement."""
    table = Shipment._meta.db_table
    parts, params = [], []
    for i, status in enumerate(statuses):
        parts.append(f"SELECT %s, COUNT(*) FROM (SELECT 1 FROM {table} WHERE shop_id = %s AND status = %s LIMIT %s) AS t{i}")
        params += [status, shop_id, status, cap]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


# --- the daily route statistics ---

# Per shop and route, over the parcels signed within the window: the transit time (shipped -> signed) and the largest
# gap between consecutive scans (shipping counts as the first point, signing as the last; scans after signing and
# before shipping are left out), each as p50/p95 (percentile_cont: interpolated, as the tests compute them). Only what
# was known at `now` counts, so a replay (the backtest) sees the history as it stood then.
_ROUTE_STATS_INSERT = """
WITH delivered AS (
    SELECT s.id, s.shop_id, s.carrier, s.origin_province, s.destination_province, s.shipped_at, s.signed_at
    FROM logistics_shipment s
    WHERE s.status = 'signed' AND s.signed_at IS NOT NULL AND s.signed_at > s.shipped_at AND s.signed_at >= %(since)s AND s.signed_at <= %(now)s
      AND (%(all_shops)s OR s.shop_id = ANY(%(shop_ids)s))
),
points AS (
    SELECT d.id, d.shipped_at AS at FROM delivered d
    UNION ALL
    SELECT d.id, e.occurred_at FROM delivered d
    JOIN logistics_trackingevent e ON e.shipment_id = d.id AND e.occurred_at > d.shipped_at AND e.occurred_at < d.signed_at
    UNION ALL
    SELECT d.id, d.signed_at FROM delivered d
),
gaps AS (
    SELECT id, max(at - previous) AS largest_gap
    FROM (SELECT id, at, lag(at) OVER (PARTITION BY id ORDER BY at) AS previous FROM points) p
    GROUP BY id
)
INSERT INTO logistics_routestat
    (shop_id, carrier, origin_province, destination_province, delivered,
     transit_p50, transit_p95, idle_p50, idle_p95, computed_at)
SELECT d.shop_id, d.carrier, d.origin_province, d.destination_province, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.signed_at - d.shipped_at),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY d.signed_at - d.shipped_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY g.largest_gap),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY g.largest_gap),
       %(now)s
FROM delivered d JOIN gaps g ON g.id = d.id
GROUP BY d.shop_id, d.carrier, d.origin_province, d.destination_province
"""


def route_stats_refresh(*, now: datetime, shop_ids: list[int] | None = None) -> int:
    """Recompute the route statistics of these shops (None: every shop) in one transaction; returns the routes written.

    Replaced whole rather than updated: a route that fell out of the window goes, and readers see the old or the new
    figures, never a mix.
    """
    params = {
        "since": now - settings.LOGISTICS_ROUTE_STATS_WINDOW, "now": now,
        "all_shops": shop_ids is None, "shop_ids": list(shop_ids or []),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logistics_routestat WHERE %(all_shops)s OR shop_id = ANY(%(shop_ids)s)", params)
        cursor.execute(_ROUTE_STATS_INSERT, params)
        return cursor.rowcount

