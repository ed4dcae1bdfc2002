"""Benchmark of the exception centre and the daily reconciliation at a million orders, on PostgreSQL.

Run from the project root:

    .venv/bin/python tests/perf/exceptions.py                    # 1,000,000 orders, 100,000 open exceptions
    .venv/bin/python tests/perf/exceptions.py --orders 50000 --exceptions 5000   # a quick look
    .venv/bin/python tests/perf/exceptions.py --reuse            # measure again without reloading

It drops and recreates its own database `shop_perf_exceptions` on 127.0.0.1:5432, migrates it,
and loads with PostgreSQL COPY one shop's N orders spread over 30 days (about 60% completed with
their settlement and ledger rows, 15% paid, 10% shipped, 10% cancelled, 5% closed with a refund),
a successful payment and escrow entry for every paid order, and --exceptions open exceptions on
distinct orders (every kind), plus a second shop with a tenth as many. Then VACUUM ANALYZE.

It measures in-process with Django's test Client, signed in / authenticated as the big shop's
owner: GET /api/v1/merchant/exceptions (first page, one kind, a page 50,000 rows deep by its
cursor) and the console page /exceptions/ (cache warm, and cold: cache cleared before each
request), server time median and p95 over --requests calls after a warm-up, and SQL statements
per request. Then `reconcile_day` for the last full day: seconds, and peak memory (tracemalloc
peak of Python allocations, and the growth of the process's max RSS). It prints the figures and
(at the default sizes, or with --readme) writes them into tests/perf/README.md between its markers.
It asserts nothing about time.
"""
import argparse
import datetime as dt
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
README = Path(__file__).resolve().parent / "README.md"
BEGIN = "<!-- tests/perf/exceptions.py: begin (written by the runner; what is inside is replaced) -->"
END = "<!-- tests/perf/exceptions.py: end -->"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "shop_perf_exceptions"
DATABASE_URL = f"{SERVER_URL}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/12"
OWNER = "perf-exceptions-owner"
BUYERS = 20_000
DAY = 86_400
KINDS = ["oversell", "paid_not_shipped", "merchant_reported", "address_anomaly", "risk_review", "stalled_logistics",
         "not_received", "payment_anomaly"]
STARTED = time.monotonic()
STARTED_AT = subprocess.run(["date"], check=False, capture_output=True, text=True).stdout.strip()
STARTED_LOAD = os.getloadavg()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def database_recreate() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def django_setup() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    # One client asking as fast as it can is what this measures; the per-token limit (10/s) would answer 429.
    os.environ["API_RATE_LIMITS_ENABLED"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]


def load(n_orders: int, n_exceptions: int, seed: int) -> None:
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from psycopg.types.json import Jsonb

    from orders.models import Product, Sku, StockLevel
    from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse

    rng = random.Random(seed)
    big = Shop.objects.create(name="异常压测旗舰店")
    small = Shop.objects.create(name="隔壁小店")
    skus = []
    for shop in (big, small):
        warehouse = Warehouse.objects.create(shop=shop, name=f"{shop.name}仓", province="浙江省", priority=0)
        for j in range(20):
            product = Product.objects.create(shop=shop, name=f"商品{j}", category="日用")
            sku = Sku.objects.create(product=product, shop=shop, code=f"P{shop.pk}-{j}", spec="默认", price=f"{19 + j * 10}.90")
            level = StockLevel.objects.create(sku=sku, warehouse=warehouse, available=1000)
            skus.append((shop.pk, sku.pk, level.pk, sku.code, product.name, int((19 + j * 10) * 100 + 90)))
    user = get_user_model().objects.create_user(username=OWNER, password="pw-123456")
    Membership.objects.create(user=user, shop=big, role="owner")
    MerchantApiToken.objects.create(user=user)
    connection.close()

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now_ts = int(now.timestamp())

    def stamp(ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, dt.UTC)

    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    order_cols = (
        "id", "order_no", "shop_id", "buyer_id", "kind", "status", "items_total", "coupon_discount", "full_reduction", "freight",
        "subsidy", "payable", "paid_amount", "freight_insurance", "recipient_name", "phone", "province", "city", "district",
        "address_detail", "is_remote", "buyer_message", "merchant_remark", "remark_flag", "payment_attempts", "is_frozen",
        "needs_risk_review", "on_hold", "pay_deadline", "ship_deadline", "auto_confirm_at", "created_at", "updated_at",
        "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at",
    )
    line_cols = ("order_id", "sku_id", "stock_level_id", "quantity", "unit_price", "line_total", "sku_code", "product_name", "spec",
                 "product_snapshot", "stock_state")
    t0 = time.monotonic()
    with psycopg.connect(DATABASE_URL) as conn:
        try:
            conn.execute("SET session_replication_role = replica")
        except psycopg.Error:
            conn.rollback()
        conn.execute("SET synchronous_commit = off")
        cur = conn.cursor()
        with cur.copy("COPY orders_buyer (id, name, api_token, is_flagged, created_at) FROM STDIN") as copy:
            for b in range(1, BUYERS + 1):
                copy.write_row((b, f"pbuyer{b:06d}", f"{rng.getrandbits(160):040x}", False, stamp(now_ts - 60 * DAY)))
        conn.execute(f"SELECT setval('orders_buyer_id_seq', {BUYERS})")
        payments, ledger, settlements, refunds, lines = [], [], [], [], []
        paid_ids = []
        with cur.copy(f"COPY orders_order ({', '.join(order_cols)}) FROM STDIN") as copy:
            for i in range(n_orders):
                oid = i + 1
                shop_id = small.pk if rng.random() < 0.1 else big.pk
                shop_skus = [s for s in skus if s[0] == shop_id]
                _s, sku_id, level_id, code, name, price = rng.choice(shop_skus)
                created_ts = now_ts - 30 * DAY + 30 * DAY * i / n_orders
                r = rng.random()
                status = ("completed" if r < 0.6 else "paid" if r < 0.75 else "shipped" if r < 0.85 else "cancelled" if r < 0.95
                          else "closed")
                paid = status != "cancelled"
                pay_ts = created_ts + 120 if paid else None
                shipped_ts = created_ts + DAY / 2 if status in ("completed", "shipped") else None
                completed_ts = min(created_ts + 3 * DAY, now_ts - 60) if status == "completed" else None
                cancelled_ts = created_ts + 1800 if status == "cancelled" else None
                updated_ts = max(t for t in (created_ts, pay_ts, shipped_ts, completed_ts, cancelled_ts) if t)
                payable = yuan(price)
                copy.write_row((
                    oid, f"{oid:020d}", shop_id, rng.randint(1, BUYERS), "normal", status, payable, "0.00", "0.00", "0.00", "0.00",
                    payable, payable if paid else "0.00", True, "张三", "13800138000", "浙江省", "杭州市", "西湖区",
                    "文三路478号A座1201", False, "", "", 0, 1 if paid else 0, False, False, False, stamp(created_ts + 1800),
                    stamp(pay_ts + 48 * 3600) if paid else None, None, stamp(created_ts), stamp(updated_ts),
                    stamp(pay_ts) if pay_ts else None, stamp(shipped_ts) if shipped_ts else None,
                    stamp(completed_ts - DAY) if completed_ts else None, stamp(completed_ts) if completed_ts else None,
                    stamp(cancelled_ts) if cancelled_ts else None,
                ))
                lines.append((oid, sku_id, level_id, 1, payable, payable, code, name, "默认", Jsonb({"name": name}),
                              "deducted" if shipped_ts else "occupied" if paid else "released"))
                if paid:
                    paid_ids.append((oid, shop_id, status))
                    payments.append((oid, oid, "douyin_pay", "full", payable, "succeeded", f"T{oid}", "", stamp(pay_ts), stamp(pay_ts)))
                    ledger.append((oid, "escrow_in", payable, oid, f"T{oid}", stamp(pay_ts), None))
                if status == "completed":
                    commission = price * 5 // 100
                    settlements.append((oid, shop_id, payable, yuan(commission), yuan(price - commission), stamp(completed_ts)))
                    ledger.append((oid, "commission", yuan(commission), None, None, stamp(completed_ts), None))
                    ledger.append((oid, "settlement", yuan(price - commission), None, None, stamp(completed_ts), None))
                if status == "closed":
                    refunds.append((oid, oid, oid, "douyin_pay", payable, "succeeded", Jsonb([]), "", 1, "order", "", "", False,
                                    stamp(pay_ts + DAY), stamp(pay_ts + DAY)))
                    ledger.append((oid, "refund_out", payable, None, None, stamp(pay_ts + DAY), oid))
        log(f"orders: {n_orders:,} ({time.monotonic() - t0:.1f} s)")
        with cur.copy(f"COPY orders_orderline ({', '.join(line_cols)}) FROM STDIN") as copy:
            for row in lines:
                copy.write_row(row)
        with cur.copy("COPY orders_payment (id, order_id, channel, purpose, amount, status, channel_txn_id, failure_reason, created_at, settled_at) FROM STDIN") as copy:
            for row in payments:
                copy.write_row(row)
        with cur.copy("COPY orders_refund (id, order_id, payment_id, channel, amount, status, failed_txn_ids, failure_reason, attempts, source, reason, actor_label, after_settlement, created_at, succeeded_at) FROM STDIN") as copy:
            for row in refunds:
                copy.write_row(row)
        with cur.copy("COPY orders_ledgerentry (order_id, kind, amount, payment_id, channel_txn_id, created_at, refund_id) FROM STDIN") as copy:
            for row in ledger:
                copy.write_row(row)
        with cur.copy("COPY orders_settlement (order_id, shop_id, gross, commission, net, created_at) FROM STDIN") as copy:
            for row in settlements:
                copy.write_row(row)
        log(f"lines, {len(payments):,} payments, {len(ledger):,} ledger rows, {len(settlements):,} settlements, "
            f"{len(refunds):,} refunds ({time.monotonic() - t0:.1f} s)")
        # Open exceptions on distinct orders still in flight (paid / shipped), plus as many resolved ones.
        open_candidates = [p for p in paid_ids if p[2] in ("paid", "shipped")]
        rng.shuffle(open_candidates)
        chosen = open_candidates[:n_exceptions]
        if len(chosen) < n_exceptions:
            chosen += rng.sample(paid_ids, n_exceptions - len(chosen))
        exc_cols = ("order_id", "shop_id", "kind", "status", "detail", "data", "opened_at", "resolved_at", "resolution", "deadline",
                    "evidence", "remedy", "note", "resolved_by_label")
        with cur.copy(f"COPY orders_orderexception ({', '.join(exc_cols)}) FROM STDIN") as copy:
            for n, (oid, shop_id, _status) in enumerate(chosen):
                opened = now_ts - rng.uniform(0, 20 * DAY)
                copy.write_row((oid, shop_id, KINDS[n % len(KINDS)], "open", "压测异常", Jsonb({}), stamp(opened), None, "",
                                stamp(opened + 2 * DAY), Jsonb([]), "", "", ""))
            for oid, shop_id, _status in rng.sample(paid_ids, min(len(paid_ids), n_exceptions)):
                opened = now_ts - rng.uniform(0, 30 * DAY)
                copy.write_row((oid, shop_id, KINDS[oid % len(KINDS)], "resolved", "已处理", Jsonb({}), stamp(opened),
                                stamp(opened + 3600), "no_action", None, Jsonb([]), "no_action", "", "perf"))
        for table in ("orders_order", "orders_payment", "orders_refund", "orders_orderexception"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("UPDATE orders_order SET on_hold = true WHERE id IN (SELECT order_id FROM orders_orderexception WHERE status = 'open' AND kind IN ('oversell', 'merchant_reported', 'risk_review'))")
        conn.commit()
        log(f"exceptions: {n_exceptions:,} open + {n_exceptions:,} resolved ({time.monotonic() - t0:.1f} s)")
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    log(f"vacuum analyze done ({time.monotonic() - t0:.1f} s)")


def measure(client, path: str, *, requests: int, warmup: int, cold: bool = False, headers: dict | None = None) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpu_times, statements = [], [], []
    for n in range(warmup + requests):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            cpu = time.process_time()
            t = time.perf_counter()
            response = client.get(path, headers=headers or {})
            elapsed = (time.perf_counter() - t) * 1000
            cpu = (time.process_time() - cpu) * 1000
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        if n >= warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
            statements.append(len(queries))
    times.sort()
    cpu_times.sort()
    # CPU time of the process over the request (time.process_time): what the code costs, whatever else the machine runs.
    return {"median": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)], "sql": max(statements),
            "cpu_median": statistics.median(cpu_times), "cpu_p95": cpu_times[max(0, int(len(cpu_times) * 0.95) - 1)]}


def run(args) -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from orders.models import Order, OrderException
    from orders.reconcile import reconcile_day
    from shop_admin.kernel.api import feed_cursor_encode
    from shop_admin.kernel.models import MerchantApiToken

    user = get_user_model().objects.get(username=OWNER)
    token = MerchantApiToken.objects.get(user=user).key
    shop_id = user.membership_set.first().shop_id if hasattr(user, "membership_set") else None
    api = Client()
    console = Client()
    console.force_login(user)
    auth = {"Authorization": f"Bearer {token}"}
    open_big = OrderException.objects.filter(status="open", shop__name="异常压测旗舰店")
    deep = open_big.order_by("opened_at", "pk")[min(50_000, open_big.count() - 1)]
    cursor = feed_cursor_encode(deep.opened_at, deep.pk)
    rows = []
    cases = [
        ("API GET /merchant/exceptions (first page, limit 20)", api, "/api/v1/merchant/exceptions", False, auth),
        ("API GET /merchant/exceptions?kind=oversell", api, "/api/v1/merchant/exceptions?kind=oversell", False, auth),
        ("API GET /merchant/exceptions, 50,000 rows deep (cursor)", api, f"/api/v1/merchant/exceptions?cursor={cursor}", False, auth),
        ("API GET /merchant/exceptions?limit=100", api, "/api/v1/merchant/exceptions?limit=100", False, auth),
        ("console /exceptions/ (cache warm)", console, "/exceptions/", False, None),
        ("console /exceptions/ (cache cold)", console, "/exceptions/", True, None),
        ("console /exceptions/?kind=not_received&page=50", console, "/exceptions/?kind=not_received&page=50", False, None),
    ]
    for label, client, path, cold, headers in cases:
        result = measure(client, path, requests=args.requests, warmup=args.warmup, cold=cold, headers=headers)
        log(f"{label}: median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms, CPU {result['cpu_median']:.1f} / "
            f"{result['cpu_p95']:.1f} ms, {result['sql']} SQL")
        rows.append((label, f"{result['median']:.1f}", f"{result['p95']:.1f}", f"{result['cpu_median']:.1f}",
                     f"{result['cpu_p95']:.1f}", str(result["sql"])))
    day = timezone.localdate() - dt.timedelta(days=1)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t = time.perf_counter()
    run_ = reconcile_day(day=day)
    seconds = time.perf_counter() - t
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    log(f"reconcile {day}: {seconds:.1f} s, {run_.checked_orders:,} orders and {run_.checked_payments:,} payments checked, "
        f"{len(run_.mismatches)} mismatches, tracemalloc peak {peak / 2**20:.1f} MiB, max RSS +{(rss_after - rss_before) / 1024:.1f} MiB "
        f"(process max RSS {rss_after / 1024:.0f} MiB)")
    total_orders = Order.objects.count()
    return rows, {
        "day": day.isoformat(), "seconds": seconds, "orders": run_.checked_orders, "payments": run_.checked_payments,
        "mismatches": len(run_.mismatches), "peak": peak / 2**20, "rss_growth": (rss_after - rss_before) / 1024,
        "rss": rss_after / 1024, "total_orders": total_orders, "open": OrderException.objects.filter(status="open").count(),
        "shop_id": shop_id,
    }


def readme_write(rows, recon, args) -> None:
    import django

    pg = subprocess.run(["psql", DATABASE_URL, "-Atc", "show server_version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    table = "\n".join(f"| {label} | {median} | {p95} | {cpu_median} | {cpu_p95} | {sql} |"
                      for label, median, p95, cpu_median, cpu_p95, sql in rows)
    body = f"""{BEGIN}
## The exception centre and the daily reconciliation (`exceptions.py`)

`tests/perf/exceptions.py` loads {recon['total_orders']:,} orders over 30 days (90% in one shop, the
rest in a second shop) with their payments, escrow entries, settlements and refunds, and
{recon['open']:,} open exceptions (as many resolved ones beside them), then measures the exception
list in-process (Django test Client, DEBUG off) as the big shop's owner: {args.requests} requests
after {args.warmup} warm-up ones, server time in ms: wall clock, and the CPU time of the process over the
request (`time.process_time`, which other work on the machine does not inflate). It asserts nothing about time.

| request | median ms (wall) | p95 ms (wall) | median ms (CPU) | p95 ms (CPU) | SQL statements |
| --- | --- | --- | --- | --- | --- |
{table}

Daily reconciliation of {recon['day']} (`reconcile_day`, what `manage.py reconcile` and the daily job run):
**{recon['seconds']:.1f} s**, {recon['orders']:,} orders and {recon['payments']:,} payments checked,
{recon['mismatches']} mismatches; peak Python allocations (tracemalloc) **{recon['peak']:.1f} MiB**, growth
of the process's max RSS {recon['rss_growth']:.1f} MiB (max RSS {recon['rss']:.0f} MiB, Django and the
loaded test client included). Targets: list p95 under 30 ms, reconciliation under 60 s and 300 MB.

Machine: {STARTED_AT}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average at start
{STARTED_LOAD[0]:.2f} / {STARTED_LOAD[1]:.2f} / {STARTED_LOAD[2]:.2f} (other engineers' work shares it); Python
{platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg}; commit {commit}.
{END}"""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + body + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    README.write_text(text, encoding="utf-8")
    log("README updated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--exceptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="measure the loaded database again")
    parser.add_argument("--readme", action="store_true", help="write the figures into README.md even at other sizes")
    args = parser.parse_args()
    if not args.reuse:
        database_recreate()
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # also on --reuse: a newer index applies to the loaded data
    log("migrated")
    if not args.reuse:
        load(args.orders, args.exceptions, args.seed)
    import django_rq

    django_rq.get_connection("default").flushdb()
    rows, recon = run(args)
    django_rq.get_connection("default").flushdb()
    if args.readme or (args.orders == 1_000_000 and args.exceptions == 100_000):
        readme_write(rows, recon, args)


if __name__ == "__main__":
    main()
