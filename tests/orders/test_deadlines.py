"""Deadlines live in the database; RQ wakes them up; the sweep catches whatever a lost job missed."""
import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import django_rq
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from orders.constants import LedgerKind, OrderStatus
from orders.models import LedgerEntry, Order, OrderEvent
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor
from tests.conftest import ApiClient
from tests.factories import ADDRESS, make_buyer, make_member, make_sku, stock_of

ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def sweep(at=None) -> str:
    out = StringIO()
    call_command("sweep_deadlines", *(["--at", at.isoformat()] if at else []), stdout=out)
    return out.getvalue()


def submit(shop, buyer, sku, quantity=1) -> dict:
    status, order = ApiClient(buyer.api_token).post(
        "/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": quantity}], "address": ADDRESS}
    )
    assert status == 201, order
    return order


@pytest.mark.django_db(transaction=True)
def test_pay_timeout_job_runs_on_a_real_rq_worker_at_the_deadline(shop, settings, redis_conn):
    settings.ORDER_PAY_WINDOW = timedelta(seconds=1)
    sku = make_sku(shop, stock=5)
    order = submit(shop, make_buyer(), sku, quantity=2)
    queue = django_rq.get_queue("deadlines")
    assert len(ScheduledJobRegistry(queue=queue)) == 1
    time.sleep(1.5)

    env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL}
    done = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "deadlines", "--burst", "--with-scheduler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr

    cancelled = Order.objects.get(order_no=order["order_no"])
    assert cancelled.status == OrderStatus.CANCELLED
    assert stock_of(sku) == {"available": 5, "locked": 0, "occupied": 0}
    event = OrderEvent.objects.get(order=cancelled, to_status="cancelled")
    assert event.actor_kind == "system"
    assert "超时未支付" in event.reason


@pytest.mark.django_db(transaction=True)
def test_after_redis_is_flushed_the_sweep_cancels_every_overdue_order_exactly_once(shop, redis_conn):
    sku = make_sku(shop, stock=100)
    buyers = [make_buyer() for _ in range(3)]
    overdue = [submit(shop, buyers[i % 3], sku, quantity=2) for i in range(12)]
    on_time = submit(shop, buyers[0], sku, quantity=1)
    Order.objects.filter(order_no__in=[o["order_no"] for o in overdue]).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    assert stock_of(sku) == {"available": 75, "locked": 25, "occupied": 0}

    redis_conn.flushdb()  # every wake-up job is lost (this database only: other runs may share the server)
    assert "order_pay_timeout: 12" in sweep()
    assert "order_pay_timeout: 0" in sweep()  # and again: nothing more to do

    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 12
    assert Order.objects.get(order_no=on_time["order_no"]).status == OrderStatus.PENDING_PAYMENT
    assert OrderEvent.objects.filter(to_status="cancelled").count() == 12
    assert stock_of(sku) == {"available": 99, "locked": 1, "occupied": 0}


def test_sweep_at_a_given_time_applies_what_is_due_by_then(shop, sku, buyer):
    order = submit(shop, buyer, sku)
    assert "order_pay_timeout: 0" in sweep()
    assert "order_pay_timeout: 1" in sweep(at=timezone.now() + timedelta(minutes=31))
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.CANCELLED


def test_auto_confirm_completes_signed_orders_and_settles(shop, sku, buyer, pay):
    order = submit(shop, buyer, sku, quantity=1)
    pay(order["order_no"])
    owner = make_member(shop)
    ApiClient(owner.api_token.key).post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "YTO", "tracking_no": "YT1234567890123"})
    signed = order_mark_delivered(order=Order.objects.get(order_no=order["order_no"]), actor=Actor.channel("YTO"))
    assert signed.auto_confirm_at - signed.delivered_at == timedelta(days=7)

    assert "order_auto_confirm: 0" in sweep(at=signed.auto_confirm_at - timedelta(minutes=1))
    assert "order_auto_confirm: 1" in sweep(at=signed.auto_confirm_at)
    assert "order_auto_confirm: 0" in sweep(at=signed.auto_confirm_at + timedelta(days=1))
    done = Order.objects.get(pk=signed.pk)
    assert done.status == OrderStatus.COMPLETED
    assert done.settlement.net == Decimal("56.90")  # 59.90 minus 5 % commission (3.00)


def test_remote_and_fresh_orders_wait_longer_or_shorter(shop, buyer, pay):
    fresh = make_sku(shop, name="车厘子", is_fresh=True)
    remote_address = {**ADDRESS, "province": "西藏自治区", "city": "拉萨市", "district": "城关区"}
    status, remote = ApiClient(buyer.api_token).post(
        "/orders", {"shop_id": shop.pk, "items": [{"sku_id": make_sku(shop).pk, "quantity": 1}], "address": remote_address}
    )
    assert status == 201, remote
    fresh_order = submit(shop, buyer, fresh)
    owner = ApiClient(make_member(shop).api_token.key)
    for index, number in enumerate((remote["order_no"], fresh_order["order_no"])):
        pay(number)
        owner.post(f"/merchant/orders/{number}/ship", {"carrier": "SF", "tracking_no": f"SF12345678901{index}"})
    windows = {}
    for number in (remote["order_no"], fresh_order["order_no"]):
        signed = order_mark_delivered(order=Order.objects.get(order_no=number), actor=Actor.channel("SF"))
        windows[number] = signed.auto_confirm_at - signed.delivered_at
    assert windows[remote["order_no"]] == timedelta(days=10)
    assert windows[fresh_order["order_no"]] == timedelta(days=3)
    assert Order.objects.get(order_no=fresh_order["order_no"]).ship_deadline is not None


def test_presale_balance_not_paid_in_time_cancels_and_forfeits_the_deposit(shop, buyer, pay):
    coat = make_sku(
        shop, price="399.00", stock=10, name="预售羽绒服", is_presale=True, presale_deposit_ratio=Decimal("0.20"),
        presale_balance_due=timezone.now() + timedelta(days=3), presale_ship_days=7,
    )
    order = submit(shop, buyer, coat)
    assert order["amounts"]["deposit"] == "79.80"
    pay(order["order_no"])
    held = Order.objects.get(order_no=order["order_no"])
    assert held.status == OrderStatus.DEPOSIT_PAID
    assert stock_of(coat) == {"available": 9, "locked": 0, "occupied": 1}

    assert "presale_balance_timeout: 1" in sweep(at=timezone.now() + timedelta(days=3, minutes=1))
    cancelled = Order.objects.get(pk=held.pk)
    assert cancelled.status == OrderStatus.CANCELLED
    assert LedgerEntry.objects.get(order=cancelled, kind=LedgerKind.DEPOSIT_FORFEIT).amount == Decimal("79.80")
    assert stock_of(coat) == {"available": 10, "locked": 0, "occupied": 0}


def test_presale_balance_paid_in_time_makes_the_order_shippable(shop, buyer, pay):
    coat = make_sku(
        shop, price="399.00", stock=10, is_presale=True, presale_deposit_ratio=Decimal("0.10"),
        presale_balance_due=timezone.now() + timedelta(days=3), presale_ship_days=7,
    )
    order = submit(shop, buyer, coat)
    deposit = pay(order["order_no"])
    balance = pay(order["order_no"])
    assert (deposit["purpose"], deposit["amount"]) == ("deposit", "39.90")
    assert (balance["purpose"], balance["amount"]) == ("balance", "359.10")
    paid = Order.objects.get(order_no=order["order_no"])
    assert paid.status == OrderStatus.PAID
    assert paid.ship_deadline - paid.paid_at == timedelta(days=7)
