"""The rows each hand-written statement of logistics/sql.py returns."""
import json

from logistics.models import Shipment, TrackingEvent
from logistics.sql import shipment_lock_and_insert_row, shipment_state_write, shipment_status_count_rows
from tests.logistics.conftest import TRACKING_NO


def _events(*keys: str, at) -> str:
    return json.dumps([
        {"code": "collected", "occurred_at": at.isoformat(), "location": "杭州", "description": "已揽收", "dedupe_key": key} for key in keys
    ])


def test_lock_and_insert_returns_the_parcel_row_and_only_the_keys_it_inserted(shipped, t0):
    parcel = Shipment.objects.get(tracking_no=TRACKING_NO)
    row = shipment_lock_and_insert_row(carrier="SF", tracking_no=TRACKING_NO, events_json=_events("a", "b", at=t0), received_at=t0)
    assert row[0] == parcel.pk and sorted(row[-1]) == ["a", "b"]
    again = shipment_lock_and_insert_row(carrier="SF", tracking_no=TRACKING_NO, events_json=_events("b", "c", at=t0), received_at=t0)
    assert again[-1] == ["c"] and TrackingEvent.objects.filter(shipment=parcel).count() == 3
    assert shipment_lock_and_insert_row(carrier="SF", tracking_no="SF0", events_json=_events("a", at=t0), received_at=t0) is None


def test_state_write_sets_the_parcel_state(shipped, t0):
    parcel = Shipment.objects.get(tracking_no=TRACKING_NO)
    shipment_state_write(
        shipment_id=parcel.pk, status="in_transit", last_event_at=t0, last_event_code="collected", signed_at=None, stalled_at=None,
        stall_deadline=None,
    )
    parcel.refresh_from_db()
    assert (parcel.status, parcel.last_event_at, parcel.last_event_code) == ("in_transit", t0, "collected")


def test_status_counts_count_each_status_of_the_shop_up_to_the_cap(shipped, shop):
    status = Shipment.objects.get(tracking_no=TRACKING_NO).status
    rows = dict(shipment_status_count_rows(shop_id=shop.pk, statuses=[status, "signed"], cap=5))
    assert rows == {status: 1, "signed": 0}
    assert dict(shipment_status_count_rows(shop_id=shop.pk + 1000, statuses=[status], cap=5)) == {status: 0}
