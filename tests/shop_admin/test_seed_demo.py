"""seed_demo: a month of orders that looks like a shop's, made by the real services, and the same after a second run.

The demo is seeded once for the module (it takes seconds) inside a transaction rolled back at the end; each test
runs in its own savepoint on top of it.
"""
import re
from collections import Counter
from datetime import datetime, time, timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from aftersale.constants import AfterSaleStatus
from aftersale.models import AfterSaleCase, AfterSaleMessage
from logistics.constants import ShipmentStatus
from logistics.models import Shipment
from logistics.services.stall import idle_hours
from orders.constants import (
    ExceptionKind,
    ExceptionStatus,
    LedgerKind,
    LineStock,
    OrderKind,
    OrderStatus,
)
from orders.models import (
    Buyer,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    Settlement,
    StockLevel,
)
from shop_admin.kernel.constants import Role
from shop_admin.kernel.deadlines import deadlines_sweep
from shop_admin.kernel.models import Membership, Shop, ShopEvent
from shop_admin.kernel.shoprules import shop_rule

SHOP_1 = "抖店演示旗舰店"
SHOP_2 = "小李的杂货铺"
BANDS = {"night 00-07": range(7), "morning 07-12": range(7, 12), "noon 12-14": range(12, 14),
         "afternoon 14-19": range(14, 19), "evening 19-23": range(19, 23), "late 23-24": range(23, 24)}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Runs seed_demo once for the module; returns what it printed (stdout, stderr). Everything is rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        out, err = StringIO(), StringIO()
        call_command("seed_demo", stdout=out, stderr=err)
        yield out.getvalue(), err.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return seeded[0]


def local(dt):
    return timezone.localtime(dt)


def test_a_month_of_orders_in_every_state(demo):
    assert "merchant" in demo and "demo12345" in demo
    assert Shop.objects.count() == 2
    statuses = set(Order.objects.filter(shop__name=SHOP_1).values_list("status", flat=True))
    assert statuses >= {"pending_payment", "deposit_paid", "paid", "shipped", "delivered", "completed", "cancelled", "closed", "rejected"}
    assert Order.objects.filter(shop__name=SHOP_2).count() >= 20
    assert 150 <= Order.objects.count() <= 400  # a few hundred: enough for charts, quick enough for `make run`
    # Open exceptions and after-sales to work on, and a paid order nothing stops from shipping (the browser tests use it).
    assert OrderException.objects.filter(status=ExceptionStatus.OPEN).exists()
    assert AfterSaleCase.objects.exists()
    assert Order.objects.filter(
        shop__name=SHOP_1, status=OrderStatus.PAID, on_hold=False, needs_risk_review=False, is_frozen=False
    ).exists()


def test_orders_fall_on_most_days_of_the_last_30(demo):
    today = timezone.localdate()
    first_day = today - timedelta(days=29)
    days = {local(at).date() for at in Order.objects.values_list("created_at", flat=True)}
    assert min(days) >= first_day and max(days) <= today
    assert len(days) >= 25, sorted(days)
    # No single day is the spike the dashboard used to show.
    per_day = Counter(local(at).date() for at in Order.objects.values_list("created_at", flat=True))
    assert max(per_day.values()) < Order.objects.count() / 5


def test_evenings_hold_the_most_orders(demo):
    hours = [local(at).hour for at in Order.objects.values_list("created_at", flat=True)]
    bands = {name: sum(1 for h in hours if h in span) for name, span in BANDS.items()}
    assert max(bands, key=bands.get) == "evening 19-23", bands
    assert bands["evening 19-23"] >= 0.35 * len(hours), bands


def test_weekends_are_busier_than_weekdays(demo):
    today = timezone.localdate()
    per_day = Counter(local(at).date() for at in Order.objects.values_list("created_at", flat=True))
    full_days = [today - timedelta(days=n) for n in range(1, 29)]  # four whole weeks, today is not over yet
    weekend = [per_day[d] for d in full_days if d.weekday() >= 5]
    weekday = [per_day[d] for d in full_days if d.weekday() < 5]
    assert sum(weekend) / len(weekend) > 1.1 * sum(weekday) / len(weekday), (weekend, weekday)


def test_running_it_again_creates_and_changes_nothing(demo):
    def picture():
        return {
            "users": get_user_model().objects.count(),
            "shops": Shop.objects.count(),
            "buyers": Buyer.objects.count(),
            "orders": sorted(Order.objects.values_list("order_no", "status", "created_at", "updated_at", "paid_amount")),
            "events": OrderEvent.objects.count(),
            "payments": Payment.objects.count(),
            "ledger": sorted(LedgerEntry.objects.values_list("order_id", "kind", "amount", "created_at")),
            "shipments": Shipment.objects.count(),
            "exceptions": OrderException.objects.count(),
            "aftersales": AfterSaleCase.objects.count(),
            "stock": sorted(StockLevel.objects.values_list("pk", "available", "locked", "occupied")),
        }

    before = picture()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already present" in out.getvalue()
    assert picture() == before


def test_stock_matches_the_order_lines(demo):
    assert not StockLevel.objects.filter(Q(available__lt=0) | Q(locked__lt=0) | Q(occupied__lt=0)).exists()
    for level in StockLevel.objects.all():
        lines = OrderLine.objects.filter(stock_level=level)
        locked = lines.filter(stock_state=LineStock.LOCKED).aggregate(n=Sum("quantity"))["n"] or 0
        occupied = lines.filter(stock_state=LineStock.OCCUPIED).aggregate(n=Sum("quantity"))["n"] or 0
        assert (level.locked, level.occupied) == (locked, occupied), level.sku.code
    # Unpaid orders hold locked stock, paid ones occupied, shipped ones deducted, cancelled ones none.
    for status, states in (
        (OrderStatus.PENDING_PAYMENT, {LineStock.LOCKED}),
        (OrderStatus.PAID, {LineStock.OCCUPIED}),
        (OrderStatus.SHIPPED, {LineStock.DEDUCTED}),
        (OrderStatus.COMPLETED, {LineStock.DEDUCTED}),
        (OrderStatus.CANCELLED, {LineStock.RELEASED}),
    ):
        assert set(OrderLine.objects.filter(order__status=status).values_list("stock_state", flat=True)) == states, status


def test_money_goes_through_escrow(demo):
    paid = Order.objects.filter(paid_at__isnull=False)
    assert paid.count() > 100
    escrow = dict(
        LedgerEntry.objects.filter(kind=LedgerKind.ESCROW_IN).values_list("order_id").annotate(total=Sum("amount"))
    )
    for order in paid:
        assert escrow.get(order.pk) == order.paid_amount > 0, order.order_no
    assert not LedgerEntry.objects.filter(order__paid_at__isnull=True).exists()
    for order in Order.objects.filter(status=OrderStatus.CLOSED):
        # Closed means all of it is refunded or on its way back (wechat, alipay and cards wait for the channel).
        assert order.refunds.aggregate(total=Sum("amount"))["total"] == order.paid_amount, order.order_no
        refunded = order.ledger.filter(kind=LedgerKind.REFUND_OUT).aggregate(total=Sum("amount"))["total"]
        succeeded = order.refunds.filter(status="succeeded").aggregate(total=Sum("amount"))["total"]
        assert refunded == succeeded, order.order_no
    completed = Order.objects.filter(status=OrderStatus.COMPLETED)
    assert Settlement.objects.filter(order__in=completed).count() == completed.count()
    for settlement in Settlement.objects.all():
        assert settlement.gross == settlement.order.paid_amount
        assert settlement.commission + settlement.net == settlement.gross
    # Money never settles for an order that is not finished: a settled order completed, even if an after-sale
    # refund closed it afterwards (then the refund is booked against it).
    completed_once = OrderEvent.objects.filter(to_status=OrderStatus.COMPLETED).values("order_id")
    assert not Settlement.objects.exclude(order__in=completed_once).exists()
    for settlement in Settlement.objects.exclude(order__status=OrderStatus.COMPLETED).select_related("order"):
        assert settlement.order.ledger.filter(kind=LedgerKind.REFUND_OUT).exists() or settlement.order.refunds.exists()


def test_every_order_tells_its_story_in_order(demo):
    now = timezone.now()
    first = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=29), time.min))
    shipped_at = dict(Shipment.objects.values_list("order_id", "shipped_at"))
    for order in Order.objects.prefetch_related("events", "payments"):
        steps = [order.created_at, order.paid_at, order.shipped_at, order.delivered_at, order.completed_at]
        steps = [at for at in steps if at]
        assert steps == sorted(steps) and first <= order.created_at and steps[-1] <= now, order.order_no
        if order.cancelled_at:
            assert order.created_at < order.cancelled_at <= now
        assert order.created_at <= order.updated_at <= now
        # The order number carries the time of ordering (shop time), as a freshly placed order's does.
        assert order.order_no[4:16] == f"{local(order.created_at):%y%m%d%H%M%S}", order.order_no
        window = settings.ORDER_PAY_WINDOW_VIRTUAL if order.kind == OrderKind.VIRTUAL else settings.ORDER_PAY_WINDOW
        assert order.pay_deadline - order.created_at == window
        if order.ship_deadline and order.kind != OrderKind.PRESALE:
            ship_window = settings.FRESH_SHIP_DEADLINE if order.kind == OrderKind.FRESH else shop_rule(order.shop_id, "ship_promise")
            assert order.ship_deadline - order.paid_at == ship_window
        events = list(order.events.all())
        assert events and [e.pk for e in events] == sorted(e.pk for e in events)  # by time, as they were written
        assert order.created_at <= events[0].created_at and events[-1].created_at <= now
        assert shipped_at.get(order.pk) == order.shipped_at, order.order_no
        for payment in order.payments.all():
            assert order.created_at <= payment.created_at <= payment.settled_at <= order.paid_at
    # Steps are spread like a shop's, not all in the same minute: parcels leave hours after payment, arrive days later.
    shipped = Order.objects.filter(shipped_at__isnull=False, delivered_at__isnull=False)
    assert all(o.shipped_at - o.paid_at > timedelta(minutes=10) for o in shipped)
    assert all(o.delivered_at - o.shipped_at > timedelta(hours=8) for o in shipped)


def test_live_deadlines_are_still_running(demo):
    now = timezone.now()
    assert all(at > now for at in Order.objects.filter(status=OrderStatus.PENDING_PAYMENT).values_list("pay_deadline", flat=True))
    delivered = Order.objects.filter(status=OrderStatus.DELIVERED)
    # Auto-confirm runs, or waits paused (with its time left) while an after-sale case is open.
    assert all(o.auto_confirm_at > now if o.auto_confirm_at else o.auto_confirm_remaining > timedelta(0) for o in delivered)
    assert delivered.filter(auto_confirm_at__isnull=False).exists() and delivered.filter(auto_confirm_remaining__isnull=False).exists()
    waiting = AfterSaleCase.objects.filter(status=AfterSaleStatus.REQUESTED)
    assert waiting.exists() and all(at > now for at in waiting.values_list("reply_deadline", flat=True))
    # The sweep of `make run` finds nothing due: the picture does not change under the merchant's eyes.
    assert {kind: n for kind, n in deadlines_sweep(now=now).items() if n} == {}


def test_a_few_parcels_stalled_and_a_few_orders_late(demo):
    now = timezone.now()
    stall = settings.LOGISTICS_STALL_AFTER
    stalled = Shipment.objects.filter(
        order__status=OrderStatus.SHIPPED, status=ShipmentStatus.IN_TRANSIT, shipped_at__lt=now - stall, last_event_at__isnull=True
    )
    assert 2 <= stalled.count() <= 10
    open_stalls = OrderException.objects.filter(kind=ExceptionKind.STALLED_LOGISTICS, status=ExceptionStatus.OPEN)
    assert set(open_stalls.values_list("order_id", flat=True)) == set(stalled.values_list("order_id", flat=True))
    assert all(e.opened_at - e.order.shipped_at >= stall for e in open_stalls.select_related("order"))
    # Parcels still moving are younger than the stall limit.
    moving = Shipment.objects.filter(order__status=OrderStatus.SHIPPED).exclude(pk__in=stalled)
    assert moving.exists() and all(s.shipped_at > now - stall for s in moving)

    # Late by each order's own deadline: its shop's promise (24 h for shop 2), not the platform's default; that each
    # deadline is the paid time plus the shop's promise is checked order by order above.
    late = Order.objects.filter(status=OrderStatus.PAID, ship_deadline__lt=now)
    assert 2 <= late.count() <= 10
    assert all(o.paid_at < now - shop_rule(o.shop_id, "ship_promise") for o in late if o.kind == OrderKind.NORMAL)
    open_late = OrderException.objects.filter(kind=ExceptionKind.PAID_NOT_SHIPPED, status=ExceptionStatus.OPEN)
    assert set(open_late.values_list("order_id", flat=True)) == set(late.values_list("pk", flat=True))
    on_time = Order.objects.filter(status=OrderStatus.PAID).exclude(pk__in=late)
    assert on_time.exists() and all(o.ship_deadline > now for o in on_time)


def test_finished_orders_reach_back_over_the_month_and_young_ones_are_in_progress(demo):
    now = timezone.now()
    ages = dict(
        Order.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    assert ages[OrderStatus.COMPLETED] > ages.get(OrderStatus.PAID, 0)
    oldest_completed = min(Order.objects.filter(status=OrderStatus.COMPLETED).values_list("created_at", flat=True))
    assert oldest_completed < now - timedelta(days=25)
    assert all(at > now - settings.ORDER_PAY_WINDOW for at in Order.objects.filter(status=OrderStatus.PENDING_PAYMENT).values_list("created_at", flat=True))
    refunds_days = {local(at).date() for at in Order.objects.filter(status=OrderStatus.CLOSED).values_list("created_at", flat=True)}
    assert len(refunds_days) >= 3  # the refund-rate chart has more than one point


def test_cases_in_several_states_and_the_arbiter_has_only_arbitration(demo):
    states = set(AfterSaleCase.objects.values_list("status", flat=True))
    assert {AfterSaleStatus.REQUESTED, AfterSaleStatus.REJECTED, AfterSaleStatus.ARBITRATING} <= states
    assert len(states) >= 4
    arbiter = get_user_model().objects.get(username="arbiter")
    assert arbiter.is_staff and not arbiter.is_superuser
    assert arbiter.has_perm("aftersale.arbitrate_aftersalecase")
    assert not arbiter.has_perm("orders.change_order")


def test_seeding_reports_no_failure(seeded, db):
    # Every play of the story went through: an after-sale agreed with the shop's return address, no order stopped.
    assert seeded[1] == ""


def test_exception_texts_quote_their_orders_deadline_and_their_parcels_idle_hours(demo):
    late = OrderException.objects.filter(kind=ExceptionKind.PAID_NOT_SHIPPED).select_related("order")
    assert late.exists()
    for exception in late:
        quoted = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", exception.detail_text).group()
        assert quoted == f"{local(exception.order.ship_deadline):%Y-%m-%d %H:%M}", exception.detail
        assert exception.data["ship_deadline"] == local(exception.order.ship_deadline).isoformat()
    stalls = OrderException.objects.filter(kind=ExceptionKind.STALLED_LOGISTICS, status=ExceptionStatus.OPEN)
    assert stalls.exists()
    for exception in stalls:
        quoted = int(re.search(r"(\d+) 小时", exception.detail_text).group(1))
        parcel = Shipment.objects.get(pk=exception.data["shipment_id"])
        assert quoted == exception.data["idle_hours"] == idle_hours(parcel, exception.opened_at), exception.detail
        # What the parcel shows now (the logistics page, the order page) is what the exception says, not days more.
        assert idle_hours(parcel) - quoted <= 1, (exception.detail, idle_hours(parcel))


def test_every_evidence_link_of_the_demo_is_served(demo, client, settings):
    # As `make run` serves them (DEBUG: whitenoise finds the apps' static files).
    settings.WHITENOISE_USE_FINDERS = True
    urls = set()
    for rows in (
        OrderException.objects.values_list("evidence", flat=True),
        AfterSaleCase.objects.values_list("evidence", flat=True),
        AfterSaleCase.objects.values_list("reject_evidence", flat=True),
        AfterSaleMessage.objects.values_list("evidence", flat=True),
    ):
        urls.update(url for evidence in rows for url in evidence)
    assert len(urls) >= 3
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.netloc == "127.0.0.1:8000", url
        response = client.get(parts.path)
        assert response.status_code == 200 and response["Content-Type"] == "image/png", url
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_the_small_shop_ships_within_its_own_promise_of_24_hours(demo):
    shop2 = Shop.objects.get(name=SHOP_2)
    assert shop_rule(shop2.pk, "ship_promise") == timedelta(hours=24) != settings.SHIP_DEADLINE
    assert ShopEvent.objects.filter(shop=shop2, kind="rules_changed").exists()  # set as its owner would, audited
    paid = Order.objects.filter(shop=shop2, paid_at__isnull=False, ship_deadline__isnull=False).exclude(
        kind__in=[OrderKind.FRESH, OrderKind.PRESALE]
    )
    assert paid.exists() and all(o.ship_deadline - o.paid_at == timedelta(hours=24) for o in paid)
    # shipped within the promise unless the story made it late on purpose
    on_time = paid.filter(shipped_at__isnull=False, shipped_at__lte=models.F("ship_deadline"))
    assert on_time.exists()
    flagship = Order.objects.filter(shop__name=SHOP_1, kind=OrderKind.NORMAL, paid_at__isnull=False).first()
    assert flagship.ship_deadline - flagship.paid_at == settings.SHIP_DEADLINE


def test_a_finance_user_is_printed_and_sees_only_the_money(demo, client):
    assert re.search(r"^  finance +password: demo12345$", demo, re.M)
    finance = get_user_model().objects.get(username="finance")
    assert Membership.objects.get(user=finance, shop__name=SHOP_1).role == Role.FINANCE
    client.force_login(finance)
    assert client.get("/orders/").status_code == 403
