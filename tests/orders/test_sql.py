"""The rows each hand-written statement of orders/sql.py returns."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders import sql
from orders.models import Order, OrderEvent, StockLevel
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from tests.factories import stock_of


def _paid(place_order, pay, sku, quantity=1) -> Order:
    placed = place_order((sku, quantity))
    pay(placed["order_no"])
    return Order.objects.get(order_no=placed["order_no"])


def test_refund_money_rows_give_what_was_received_refunded_and_the_payment_to_refund_through(place_order, pay, sku):
    order = _paid(place_order, pay, sku, 2)
    refund_create(order=order, amount=Decimal("10.00"), actor=Actor.system("test"), reason="部分")
    unpaid = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    rows = {row[0]: row for row in sql.order_refund_money_rows(order_ids=[order.pk, unpaid.pk])}
    _pk, status, shop_id, paid, received, refunded, settled, payment_id, channel = rows[order.pk]
    assert (status, shop_id, paid, received, refunded, settled) == ("paid", order.shop_id, Decimal("119.80"), Decimal("119.80"), Decimal("10.00"), False)
    assert payment_id == order.payments.get().pk and channel == "douyin_pay"
    assert rows[unpaid.pk][5:] == (Decimal("0"), False, None, "")


def test_stock_level_take_moves_units_only_when_enough_are_available(sku):
    level = StockLevel.objects.get(sku=sku)
    assert sql.stock_level_take(level_id=level.pk, quantity=3, into="locked") is True
    assert sql.stock_level_take(level_id=level.pk, quantity=1000, into="occupied") is False
    assert stock_of(sku) == {"available": 97, "locked": 3, "occupied": 0}


def test_stock_levels_add_adds_each_rows_deltas(sku):
    level = StockLevel.objects.get(sku=sku)
    sql.stock_levels_add(ids=[level.pk], deltas={"available": [-5], "occupied": [5]})
    assert stock_of(sku) == {"available": 95, "locked": 0, "occupied": 5}


def test_submission_load_rows_read_the_shops_active_skus_with_their_stock_rules_and_past_addresses(shop, sku, buyer):
    rows = sql.submission_load_rows(shop_id=shop.pk, sku_ids=[sku.pk], now=timezone.now(), buyer_id=buyer.pk, usual_addresses=3)
    assert len(rows) == 1 and rows[0][0] == StockLevel.objects.get(sku=sku).pk
    assert rows[0][-2] == [] and rows[0][-1] == []  # no 满减 rule in force, no past order of the buyer
    assert sql.submission_load_rows(shop_id=shop.pk + 1000, sku_ids=[sku.pk], now=timezone.now(), buyer_id=buyer.pk, usual_addresses=3) == []


def test_buyer_by_token_row_finds_the_buyer_of_a_token(buyer):
    assert sql.buyer_by_token_row(token=buyer.api_token)[0] == buyer.pk
    assert sql.buyer_by_token_row(token="no-such-token") is None


def test_tab_count_rows_count_each_status_of_the_shop_up_to_the_cap(place_order, pay, sku, shop):
    _paid(place_order, pay, sku)
    place_order((sku, 1))
    place_order((sku, 1))
    counts = dict(sql.order_tab_count_rows(shop_id=shop.pk, cap=2))
    assert counts["paid"] == 1 and counts["pending_payment"] == 2 and counts["closed"] == 0
    assert dict(sql.order_tab_count_rows(shop_id=shop.pk, cap=1))["pending_payment"] == 1


def test_orders_numbered_rows_find_orders_by_number_in_any_shop(place_order, sku):
    placed = place_order((sku, 1))
    (row,) = sql.orders_numbered_rows(numbers=[placed["order_no"], "0000"])
    assert row[1] == placed["order_no"] and row[3] == "pending_payment"


def test_export_copy_streams_each_row_without_its_newline(place_order, sku):
    place_order((sku, 1))
    out = io.BytesIO()
    written = sql.orders_export_copy(sql="SELECT order_no, status FROM orders_order WHERE shop_id = %s", params=[sku.shop_id],
                                     write_row=lambda data: out.write(bytes(data) + b"|"))
    assert written == 1 and out.getvalue().endswith(b",pending_payment|")


def test_ids_array_filters_by_an_id_list(place_order, sku):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    assert list(Order.objects.filter(pk__in=sql.ids_array([order.pk, 0])).values_list("pk", flat=True)) == [order.pk]


def test_jit_off_lasts_the_transaction(db):
    with transaction.atomic():
        sql.jit_off_for_transaction()
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"


def test_audit_prune_switch_lets_the_append_only_audit_be_pruned(place_order, sku):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEvent.objects.filter(order=order).delete()
    with transaction.atomic():
        sql.audit_prune_allow(True)
        OrderEvent.objects.filter(order=order).delete()
        sql.audit_prune_allow(False)
    assert not OrderEvent.objects.filter(order=order).exists()


def test_auto_confirm_resume_rows_restart_a_delivered_orders_clock_with_the_time_it_had_left(place_order, pay, sku):
    order = _paid(place_order, pay, sku)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(status="delivered", auto_confirm_paused_at=now, auto_confirm_remaining=timedelta(days=3))
    ((pk, at, scheduled),) = sql.orders_auto_confirm_resume_rows(order_ids=[order.pk], now=now)
    assert (pk, at, scheduled) == (order.pk, now + timedelta(days=3), True)
    order.refresh_from_db()
    assert order.auto_confirm_paused_at is None and order.auto_confirm_remaining is None
    assert sql.orders_auto_confirm_resume_rows(order_ids=[order.pk], now=now) == []  # not paused any more
