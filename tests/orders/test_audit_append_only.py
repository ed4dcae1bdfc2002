"""The audit trail and the ledger are append-only in the database; only the retention command removes old audit rows."""
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from orders.constants import EventKind
from orders.events import order_event_append
from orders.models import AuditPrune, LedgerEntry, Order, OrderEvent, StockAdjustment
from shop_admin.kernel.actors import Actor

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only triggers are PostgreSQL's")

TABLES = {OrderEvent: "orders_orderevent", LedgerEntry: "orders_ledgerentry", StockAdjustment: "orders_stockadjustment"}


def _sql(statement: str, params=()) -> None:
    """One statement in its own savepoint, so a refusal leaves the connection usable for the next."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def paid_order(sku, place_order, pay, merchant_api) -> Order:
    """A paid order (events and an escrow entry) and a stock edit, each committed by its own request."""
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    status, body = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 50})
    assert status == 200, body
    return Order.objects.get(order_no=placed["order_no"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", list(TABLES), ids=lambda model: model.__name__)
def test_a_committed_audit_or_ledger_row_refuses_raw_update_and_delete(paid_order, model):
    row = model.objects.order_by("pk").first()
    table = TABLES[model]

    with pytest.raises(IntegrityError, match="append-only: UPDATE"):
        _sql(f"UPDATE {table} SET created_at = created_at - interval '1 day' WHERE id = %s", [row.pk])
    with pytest.raises(IntegrityError, match="append-only: DELETE"):
        _sql(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    # the ORM's set-wise paths, which never call the model's save() or delete(), are refused the same way
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(created_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=row.pk).delete()

    assert model.objects.get(pk=row.pk).created_at == row.created_at


@pytest.mark.django_db(transaction=True)
def test_the_prune_switch_never_opens_the_ledger(paid_order):
    entry = LedgerEntry.objects.get(order=paid_order)

    with pytest.raises(IntegrityError, match="append-only: DELETE"), transaction.atomic():
        _sql("SELECT set_config('shop_admin.audit_prune', 'on', true)")
        _sql("DELETE FROM orders_ledgerentry WHERE id = %s", [entry.pk])

    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_an_order_with_events_or_money_is_never_deleted(sku, place_order, pay):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    assert order.events.exists()

    with pytest.raises(ProtectedError):
        order.delete()
    with pytest.raises(ProtectedError):
        Order.objects.filter(pk=order.pk).delete()

    assert OrderEvent.objects.filter(order=order).exists()


def test_a_user_who_acted_on_an_order_is_never_deleted_under_the_audit_trail(sku, place_order, pay, merchant_api, owner):
    order_no = place_order((sku, 1))["order_no"]
    pay(order_no)
    status, body = merchant_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": "中通", "tracking_no": "73100000000031"})
    assert status == 200, body

    # SET_NULL would rewrite "who" in committed audit rows; the user is kept instead
    with pytest.raises(ProtectedError):
        owner.delete()

    assert OrderEvent.objects.filter(order__order_no=order_no, actor_user=owner).exists()


def _events_backdated(order: Order, days: int, count: int) -> list[int]:
    """Events written and backdated in one transaction: until it commits a row is not yet on the record."""
    with transaction.atomic():
        ids = [
            order_event_append(order=order, kind=EventKind.REMARK, actor=Actor.system("test"), reason=f"old {i}").pk
            for i in range(count)
        ]
        OrderEvent.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(days=days))
    return ids


@pytest.mark.django_db(transaction=True)
def test_the_prune_command_removes_only_events_past_the_retention_and_records_itself(paid_order, settings):
    settings.AUDIT_RETENTION = timedelta(days=200)
    old = _events_backdated(paid_order, days=201, count=3)
    kept = _events_backdated(paid_order, days=199, count=2)
    recent = list(OrderEvent.objects.exclude(pk__in=old + kept).values_list("pk", flat=True))
    out = io.StringIO()

    call_command("audit_prune", "--by", "ops-alice", stdout=out)

    assert not OrderEvent.objects.filter(pk__in=old).exists()
    assert set(OrderEvent.objects.values_list("pk", flat=True)) == set(kept + recent)
    run = AuditPrune.objects.get()
    assert (run.ran_by, run.retention_days, run.events_removed, run.adjustments_removed) == ("ops-alice", 200, 3, 0)
    assert "3 order events" in out.getvalue()
    # the switch lived only in the command's transaction, and the run's record is itself append-only
    with pytest.raises(IntegrityError, match="append-only: DELETE"):
        _sql("DELETE FROM orders_orderevent WHERE id = %s", [kept[0]])
    with pytest.raises(IntegrityError, match="append-only: DELETE"):
        _sql("DELETE FROM orders_auditprune WHERE id = %s", [run.pk])


@pytest.mark.django_db(transaction=True)
def test_the_prune_command_refuses_a_retention_below_180_days(paid_order, settings):
    settings.AUDIT_RETENTION = timedelta(days=179)
    old = _events_backdated(paid_order, days=365, count=1)

    with pytest.raises(CommandError, match="180"):
        call_command("audit_prune", stdout=io.StringIO())

    assert OrderEvent.objects.filter(pk__in=old).exists()
    assert not AuditPrune.objects.exists()
