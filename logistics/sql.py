"""Every hand-written SQL statement of the logistics app, each returning plain rows (tests/logistics/test_sql.py reads them).

Each statement is its own function, so that statements added beside these (route statistics) merge as new functions.
"""
from django.db import connection

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
