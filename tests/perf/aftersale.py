"""Benchmark of the after-sale workbench list at 200,000 cases and of the sweep auto-approving overdue refund claims.

Run from the project root:

    .venv/bin/python tests/perf/aftersale.py                            # 200,000 cases, 50,000 overdue claims
    .venv/bin/python tests/perf/aftersale.py --cases 20000 --overdue 2000

It drops and recreates its own database `shop_perf_aftersale` on 127.0.0.1:5432 (connecting to the
database `test` only to do that), migrates it and bulk-loads one shop: `--cases` cases spread over
2,000 delivered orders in every state with random deadlines (the list), and `--overdue` paid
douyin_pay orders each with one unanswered refund-only case whose reply deadline has passed (the
sweep). Redis is database 11, emptied before and after.

(a) The workbench list `/aftersales/` in-process with Django's test Client, signed in as the shop's
owner: server time (median, p95) and SQL statements per request, for the first page, a status
filter and the third page by cursor. (b) `deadlines_sweep()`: seconds for the overdue claims, then a
check that every one is refunded once and that escrow in = refunds out for those orders. Besides
wall time it prints the CPU time of this process and of its PostgreSQL backend (read from /proc: the
server runs on this machine), which neighbours on a shared machine do not inflate.
It asserts nothing about time; it exits 1 if the money does not balance.
"""
import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.perf.procstat import backend_cpu  # noqa: E402

SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "shop_perf_aftersale"
REDIS_URL = "redis://127.0.0.1:6379/11"
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def setup() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["DATABASE_URL"] = f"{SERVER_URL}/{DB_NAME}"
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    import django_rq

    django_rq.get_connection("deadlines").flushdb()


def _orders(shop, buyers, sku, n: int, *, status: str, prefix: str):
    from django.utils import timezone

    from orders.models import Order, OrderLine

    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                order_no=f"{prefix}{i:010d}", shop=shop, buyer=buyers[i % len(buyers)], status=status, items_total=Decimal("59.90"),
                payable=Decimal("59.90"), paid_amount=Decimal("59.90"), recipient_name="张三", phone="13800138000",
                province="浙江省", city="杭州市", district="西湖区", address_detail="文三路478号", created_at=now, paid_at=now,
                delivered_at=now if status == "delivered" else None,
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(order=o, sku=sku, quantity=1, unit_price=Decimal("59.90"), line_total=Decimal("59.90"), sku_code=sku.code,
                      product_name="蜂蜜柚子茶", stock_state="deducted" if status == "delivered" else "occupied")
            for o in orders
        ],
        batch_size=5000,
    )
    return orders, lines


def load(n_cases: int, n_overdue: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from aftersale.models import AfterSaleCase, AfterSaleLine
    from orders.models import Buyer, LedgerEntry, Payment, Product, Sku, StockLevel
    from shop_admin.kernel.models import Membership, Shop, Warehouse

    rng = random.Random(8)
    shop = Shop.objects.create(name="售后性能测试店")
    warehouse = Warehouse.objects.create(shop=shop, name="杭州仓", province="浙江省")
    product = Product.objects.create(shop=shop, name="蜂蜜柚子茶")
    sku = Sku.objects.create(product=product, shop=shop, code="PERF-1", spec="默认", price=Decimal("59.90"))
    StockLevel.objects.create(sku=sku, warehouse=warehouse, available=10**6, occupied=n_overdue)
    buyer = Buyer.objects.create(name="perf-buyer")
    owner = get_user_model().objects.create_user(username="perf-as-owner", password="x")
    Membership.objects.create(user=owner, shop=shop, role="owner")

    log(f"loading {n_cases:,} cases over 2,000 orders")
    orders, _lines = _orders(shop, [buyer], sku, 2000, status="delivered", prefix="91")
    now = timezone.now()
    statuses = ["requested"] * 30 + ["negotiating"] * 5 + ["awaiting_return"] * 10 + ["returning"] * 5 + ["inspecting"] * 5 + [
        "refunded"] * 30 + ["rejected"] * 8 + ["closed"] * 7
    batch = []
    for i in range(n_cases):
        status = rng.choice(statuses)
        open_ = status not in ("refunded", "rejected", "closed")
        batch.append(AfterSaleCase(
            order=orders[i % len(orders)], shop=shop, buyer=buyer, type=rng.choice(["return_refund", "refund_only", "exchange"]),
            status=status, reason="质量问题", amount=Decimal("59.90"), reply_deadline=now + dt.timedelta(hours=rng.uniform(-48, 24)),
            due_at=now + dt.timedelta(hours=rng.uniform(-24, 24 * 7)) if open_ else None,
        ))
        if len(batch) == 10000:
            AfterSaleCase.objects.bulk_create(batch)
            batch = []
    AfterSaleCase.objects.bulk_create(batch)
    # The list's cases must never be due for the sweep below: push their reply deadlines out.
    AfterSaleCase.objects.filter(status__in=["requested", "negotiating"]).update(reply_deadline=now + dt.timedelta(days=30))

    log(f"loading {n_overdue:,} paid orders with an overdue refund-only claim")
    # One buyer per claim: a buyer with more than 5 refunds a day is flagged and the clock stops approving them.
    claimants = Buyer.objects.bulk_create([Buyer(name=f"perf-claimant-{i}") for i in range(n_overdue)], batch_size=5000)
    paid, lines = _orders(shop, claimants, sku, n_overdue, status="paid", prefix="92")
    payments = Payment.objects.bulk_create(
        [Payment(order=o, channel="douyin_pay", amount=o.paid_amount, status="succeeded", channel_txn_id=f"PERF-{o.pk}") for o in paid],
        batch_size=5000,
    )
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(order_id=p.order_id, kind="escrow_in", amount=p.amount, payment=p, channel_txn_id=p.channel_txn_id) for p in payments],
        batch_size=5000,
    )
    due = AfterSaleCase.objects.bulk_create(
        [AfterSaleCase(order=o, shop=shop, buyer_id=o.buyer_id, type="refund_only", status="requested", reason="不想要了",
                       amount=o.paid_amount, reply_deadline=now - dt.timedelta(minutes=5), due_at=now - dt.timedelta(minutes=5))
         for o in paid],
        batch_size=5000,
    )
    AfterSaleLine.objects.bulk_create([AfterSaleLine(case=c, line=ln, quantity=1) for c, ln in zip(due, lines, strict=True)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return owner, shop, [o.pk for o in paid]


def measure_list(owner, requests: int) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(owner)
    first = client.get("/aftersales/")
    assert first.status_code == 200
    cursor = first.content.decode().split("cursor=")[1].split('"')[0]
    second = client.get(f"/aftersales/?cursor={cursor}")
    cursor = second.content.decode().split("cursor=")[1].split('"')[0]
    results = []
    for name, path in [
        ("first page", "/aftersales/"),
        ("status=requested", "/aftersales/?status=requested"),
        ("type=exchange&status=inspecting", "/aftersales/?type=exchange&status=inspecting"),
        ("third page (cursor)", f"/aftersales/?cursor={cursor}"),
    ]:
        times, counts = [], set()
        for _ in range(requests):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            counts.add(len(ctx.captured_queries))
        times.sort()
        results.append((name, statistics.median(times), times[int(len(times) * 0.95) - 1], max(counts)))
        log(f"list {name}: median {results[-1][1]:.1f} ms, p95 {results[-1][2]:.1f} ms, {sorted(counts)} queries")
    return results


def _server_cpu() -> float:
    """CPU seconds of the PostgreSQL backend serving this process: wall time here is inflated by neighbours, CPU time is not."""
    return backend_cpu() or 0.0


def measure_sweep(order_ids: list[int]) -> tuple[float, int, bool]:
    from django.db.models import Sum

    from aftersale.models import AfterSaleCase
    from orders.models import LedgerEntry, Refund
    from shop_admin.kernel.deadlines import deadlines_sweep

    started, cpu_started, server_started = time.perf_counter(), time.process_time(), _server_cpu()
    applied = deadlines_sweep()
    seconds, cpu, server = time.perf_counter() - started, time.process_time() - cpu_started, _server_cpu() - server_started
    claims = applied.get("aftersale_reply_timeout", 0)
    log(
        f"sweep: {seconds:.1f} s wall, {cpu:.1f} s CPU of this process, {server:.1f} s CPU of its PostgreSQL backend;"
        f" {claims:,} claims approved ({seconds / max(1, claims) * 1000:.2f} ms wall, {(cpu + server) / max(1, claims) * 1000:.2f} ms CPU a claim)"
    )
    refunded = AfterSaleCase.objects.filter(order_id__in=order_ids, status="refunded").count()
    refunds = Refund.objects.filter(order_id__in=order_ids)
    once = refunds.count() == len(order_ids) == refunds.values("order_id").distinct().count()
    money_in = LedgerEntry.objects.filter(order_id__in=order_ids, kind="escrow_in").aggregate(t=Sum("amount"))["t"]
    money_out = LedgerEntry.objects.filter(order_id__in=order_ids, kind="refund_out").aggregate(t=Sum("amount"))["t"]
    balanced = once and money_in == money_out and refunded == len(order_ids)
    log(f"refunded cases {refunded:,}, one refund per order: {once}, escrow in {money_in} = refunds out {money_out}: {balanced}")
    return seconds, refunded, balanced


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--overdue", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup()
    owner, _shop, overdue_ids = load(args.cases, args.overdue)
    measure_list(owner, args.requests)
    _seconds, _refunded, balanced = measure_sweep(overdue_ids)
    import django_rq

    django_rq.get_connection("deadlines").flushdb()
    return 0 if balanced else 1


if __name__ == "__main__":
    sys.exit(main())
