"""The sweep walks past due rows it cannot apply, one kind breaking never stops the others, and a row that keeps failing
becomes its shop's to-do until it is applied or no longer due."""
import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from orders.constants import OrderStatus, PaymentChannel, RefundStatus
from orders.models import Order, Refund
from shop_admin.kernel import deadlines
from shop_admin.kernel.deadlines import DeadlineKind, deadlines_sweep
from shop_admin.kernel.models import DeadlineFailure
from shop_admin.kernel.todos import todo_feed


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def failed_refund(order: Order, *, retry_at) -> Refund:
    return Refund(
        order=order, channel=PaymentChannel.WECHAT, amount=Decimal("0.01"), status=RefundStatus.FAILED, retry_at=retry_at,
        failure_reason="渠道超时",
    )


@pytest.mark.django_db(transaction=True)
def test_501_due_rows_held_by_another_process_do_not_hide_the_one_behind_them(shop, sku, place_order, pay):
    # given 501 failed refunds due on an order another process holds, and one due behind them on a free order
    busy, free = (Order.objects.get(order_no=place_order((sku, 1))["order_no"]) for _ in range(2))
    for order in (busy, free):
        pay(order.order_no, channel="wechat")
    now = timezone.now()
    Refund.objects.bulk_create([failed_refund(busy, retry_at=now - timedelta(hours=2)) for _ in range(501)])
    last = Refund.objects.create(**{f.name: getattr(failed_refund(free, retry_at=now - timedelta(hours=1)), f.name)
                                    for f in Refund._meta.concrete_fields if f.name != "id"})
    locked, release = threading.Event(), threading.Event()

    def hold_busy_order():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=busy.pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_busy_order)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        # when one sweep runs
        applied = deadlines_sweep(now=now)
    finally:
        release.set()
        holder.join()

    # then the free order's refund went out again; the held ones wait for the next sweep, not counted as failures
    assert applied["refund_retry"] == 1
    assert Refund.objects.get(pk=last.pk).status == RefundStatus.PENDING
    assert Refund.objects.filter(order=busy, status=RefundStatus.FAILED).count() == 501
    assert not DeadlineFailure.objects.exists()


@pytest.fixture
def exploding_kind_first(db):
    """A kind registered ahead of every other whose service raises on any row (a bug in one app, say)."""

    def exploding_deadline(*, now, ids=None):
        raise RuntimeError("the service has a bug")

    saved = dict(deadlines._kinds)
    deadlines._kinds.clear()
    deadlines._kinds["exploding_deadline"] = DeadlineKind(
        name="exploding_deadline", apply_due=exploding_deadline, label="会出错的到期处理",
        due=lambda now: Order.objects.filter(status=OrderStatus.PENDING_PAYMENT), shop="shop_id",
        url=lambda pk: "/",
    )
    deadlines._kinds.update(saved)
    yield
    deadlines._kinds.clear()
    deadlines._kinds.update(saved)


def test_a_kind_that_raises_does_not_stop_the_kinds_after_it(exploding_kind_first, shop, sku, place_order):
    placed = place_order((sku, 1))
    order = Order.objects.get(order_no=placed["order_no"])

    out = sweep(order.pay_deadline + timedelta(minutes=1))

    assert "exploding_deadline: 0, skipped 1, failed 1" in out
    assert "order_pay_timeout: 1" in out
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    # the row it failed on is no longer due (cancelled), so nothing is left to show
    assert not DeadlineFailure.objects.exists()


def test_a_row_that_raises_is_counted_and_its_error_text_is_not_shown_to_the_merchant(
    exploding_kind_first, shop, sku, place_order, owner, settings
):
    settings.DEADLINE_FAILURES_VISIBLE_AFTER = 1
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])

    deadlines_sweep(now=timezone.now())  # the order is still in its pay window: only the broken kind wants it

    failure = DeadlineFailure.objects.get(kind="exploding_deadline")
    assert (failure.row_id, failure.shop_id, failure.attempts, failure.reason_code) == (order.pk, shop.pk, 1, "RuntimeError")
    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())
    [item] = [e.item for e in feed.entries if e.item.key.startswith("deadline_failed:")]
    assert "RuntimeError" in item.detail and "bug" not in item.detail
    assert item.url == "/"
