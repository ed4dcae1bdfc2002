"""Benchmark of the deadline queue (/deadlines/ and GET /merchant/deadlines) at a million orders, on PostgreSQL.

Run from the project root (or `make perf-deadlines`):

    .venv/bin/python tests/perf/deadline_queue.py                 # 1,000,000 orders (the order-list loader, 5-10 minutes)
    .venv/bin/python tests/perf/deadline_queue.py --orders 100000 # a quicker look
    .venv/bin/python tests/perf/deadline_queue.py --reuse         # measure again without reloading (the database is kept)
    .venv/bin/python tests/perf/deadline_queue.py --reuse --explain --profile  # plans of each kind, a profile of the slowest case

It builds its own database `shop_perf_deadlines` with the loader of `tests/perf/order_list.py` (one shop of N orders
in every state, a second of N/10, about 6,000 orders a day at the recent end; paid orders carry their ship-by; the
cancelled unpaid ones of the last 24 h are recovery windows), then adds, in SQL (`deadline_rows_add`, idempotent), the
rows of every other kind in the proportions of a shop that size: after-sale cases on one order in 25 of the last 20
days (30 % waiting for the reply, 10 % negotiating, 20 % waiting for the return parcel, 10 % inspecting, the rest done)
plus the closed cases of the year before; exceptions older than 10 days resolved, the open ones with their deadline
(48 h, 7 days after ordering for paid-not-shipped; the passed ones escalated); reviews of 30 % of completed orders, 6 %
of them bad (<= 2 stars) with a 24 h reply deadline, answered unless recent.

Then, signed in as the big shop's owner, it times `--requests` calls of each case with Django's test Client
in-process (server time without a socket) after `--warmup` untimed ones and prints p50/p95/max and SQL statements per
request, with `uptime`'s load. `--explain` prints EXPLAIN (ANALYZE, BUFFERS) of each kind's statement over 30 days;
`--profile` a pyinstrument profile of the slowest case. It asserts nothing about time; the target is p95 < 50 ms.
Redis: PERF_REDIS_URL (default database 14), which this runner never flushes.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf import order_list  # noqa: E402  (its loader, timing and percentile)

order_list.DB_NAME = "shop_perf_deadlines"
order_list.DATABASE_URL = f"{order_list.SERVER_URL}/{order_list.DB_NAME}"
order_list.REDIS_URL = os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/14")
log = order_list.log

# After-sale cases: (share out of 20 of the recent cases, status, the deadline column it waits on, hours it spans).
CASE_MIX = "CASE WHEN b < 6 THEN 'requested' WHEN b < 8 THEN 'negotiating' WHEN b < 12 THEN 'awaiting_return' " \
           "WHEN b < 14 THEN 'inspecting' WHEN b < 17 THEN 'refunded' WHEN b < 19 THEN 'closed' ELSE 'rejected' END"

CASES_SQL = f"""
INSERT INTO aftersale_aftersalecase (order_id, shop_id, buyer_id, type, status, reason, description, amount, evidence,
    reply_deadline, return_deadline, inspect_deadline, due_at, closed_at, created_at, updated_at, is_fragile,
    rejected_after_inspection, reject_evidence, deductions, ruling, ruling_note, arbitration_reason, reject_reason,
    reship_carrier, reship_tracking_no, return_address, return_carrier, return_tracking_no)
SELECT id, shop_id, buyer_id, case_type, case_status, '质量问题', '性能测试', payable, '[]'::jsonb,
    opened + interval '24 hours',
    CASE WHEN case_status = 'awaiting_return' THEN opened + interval '7 days' END,
    CASE WHEN case_status = 'inspecting' THEN now() + (h % 25 - 1) * interval '1 hour' END,
    CASE case_status WHEN 'requested' THEN opened + interval '24 hours' WHEN 'negotiating' THEN opened + interval '24 hours'
        WHEN 'awaiting_return' THEN opened + interval '7 days' WHEN 'inspecting' THEN now() + (h % 25 - 1) * interval '1 hour' END,
    CASE WHEN case_status IN ('refunded', 'closed', 'rejected') THEN opened + interval '2 days' END,
    opened, opened, false, false, '[]'::jsonb, '[]'::jsonb, '', '', '', '', '', '', '', '', ''
FROM (
    SELECT id, shop_id, buyer_id, payable, (ARRAY['return_refund', 'refund_only', 'exchange'])[1 + id % 3] AS case_type,
           {CASE_MIX} AS case_status, h,
           -- an open case was opened recently enough to still wait: the reply within 26 h, the return parcel within 7 days
           CASE WHEN b < 8 THEN now() - (h % 26) * interval '1 hour'
                WHEN b < 14 THEN now() - (h % 160) * interval '1 hour'
                ELSE created_at + interval '4 days' END AS opened
    FROM (SELECT o.id, o.shop_id, o.buyer_id, o.payable, o.created_at, (o.id / 25) % 20 AS b, (o.id * 7919) % 1000 AS h
          FROM orders_order o WHERE o.status IN ('shipped', 'delivered', 'completed') AND o.created_at > now() - interval '20 days'
          AND o.id % 25 = 0) recent
    UNION ALL
    SELECT o.id, o.shop_id, o.buyer_id, o.payable, (ARRAY['return_refund', 'refund_only', 'exchange'])[1 + o.id % 3],
           (ARRAY['refunded', 'closed', 'rejected'])[1 + o.id % 3], 0, o.created_at + interval '6 days'
    FROM orders_order o WHERE o.status = 'completed' AND o.created_at <= now() - interval '20 days' AND o.id % 33 = 0
) c
"""

EXCEPTIONS_SQL = [
    # What the exception centre of a working shop holds: the old ones were handled.
    "UPDATE orders_orderexception SET status = 'resolved', resolved_at = opened_at + interval '1 day', remedy = 'no_action', "
    "resolution = '性能测试：已处理' WHERE status = 'open' AND opened_at < now() - interval '10 days'",
    "UPDATE orders_orderexception e SET deadline = CASE WHEN e.kind = 'paid_not_shipped' THEN o.created_at + interval '7 days' "
    "ELSE e.opened_at + interval '48 hours' END FROM orders_order o WHERE o.id = e.order_id AND e.status = 'open'",
    "UPDATE orders_orderexception SET escalated_at = deadline WHERE status = 'open' AND deadline < now()",
]

REVIEWS_SQL = """
INSERT INTO aftersale_productreview (shop_id, order_id, line_id, buyer_id, product_id, sku_id, rating, text, images, has_images,
    logistics_rating, service_rating, follow_up_text, reply_text, replied_at, reply_deadline, created_at)
SELECT shop_id, order_id, line_id, buyer_id, product_id, sku_id, rating, '性能测试评价', '[]'::jsonb, false, 5, 5, '',
    CASE WHEN answered THEN '感谢反馈' ELSE '' END, CASE WHEN answered THEN created + interval '3 hours' END,
    CASE WHEN rating <= 2 THEN created + interval '24 hours' END, created
FROM (
    SELECT o.shop_id, o.id AS order_id, l.id AS line_id, o.buyer_id, s.product_id, l.sku_id,
           CASE WHEN o.id % 100 < 4 THEN 1 WHEN o.id % 100 < 6 THEN 2 WHEN o.id % 100 < 10 THEN 3 WHEN o.id % 100 < 25 THEN 4 ELSE 5 END AS rating,
           least(o.completed_at + (o.id % 72) * interval '1 hour', now() - interval '1 minute') AS created,
           o.id % 100 >= 6 OR o.completed_at < now() - interval '2 days' AS answered
    FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id JOIN orders_sku s ON s.id = l.sku_id
    WHERE o.status = 'completed' AND o.id % 10 < 3
) r
"""


def deadline_rows_add() -> None:
    """The rows of every kind beyond what the order loader gives (ship-by, recovery); each step once."""
    from django.db import connection

    with connection.cursor() as cursor:
        t = time.monotonic()
        cursor.execute("SELECT EXISTS (SELECT 1 FROM aftersale_aftersalecase)")
        if not cursor.fetchone()[0]:
            cursor.execute(CASES_SQL)
            log(f"after-sale cases added: {cursor.rowcount:,} ({time.monotonic() - t:.1f} s)")
        t = time.monotonic()
        cursor.execute("SELECT EXISTS (SELECT 1 FROM orders_orderexception WHERE deadline IS NOT NULL)")
        if not cursor.fetchone()[0]:
            for sql in EXCEPTIONS_SQL:
                cursor.execute(sql)
            log(f"exceptions: the old ones resolved, the open ones given their deadline ({time.monotonic() - t:.1f} s)")
        t = time.monotonic()
        cursor.execute("SELECT EXISTS (SELECT 1 FROM aftersale_productreview)")
        if not cursor.fetchone()[0]:
            cursor.execute(REVIEWS_SQL)
            log(f"reviews added: {cursor.rowcount:,} ({time.monotonic() - t:.1f} s)")
    # What autovacuum leaves after a while: statistics, and no dead index entries of the rows the updates replaced.
    from psycopg import connect

    with connect(order_list.DATABASE_URL, autocommit=True) as conn:
        for table in ("aftersale_aftersalecase", "orders_orderexception", "aftersale_productreview"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def queue_census(shop_id: int) -> list[tuple[str, int, int]]:
    """Per kind: rows due within 24 h (overdue included) and within 30 days, as the queue itself counts them."""
    from django.utils import timezone

    from shop_admin.kernel.deadline_queue import deadline_queue_kind_rows, deadline_queue_kinds

    now = timezone.now()
    out = []
    for kind in deadline_queue_kinds():
        day = len(deadline_queue_kind_rows(kind, shop_ids={shop_id}, now=now, until=now + timedelta(hours=24), limit=100_000))
        month = len(deadline_queue_kind_rows(kind, shop_ids={shop_id}, now=now, until=now + timedelta(days=30), limit=100_000))
        out.append((kind.name, day, month))
    return out


def explain_kinds(shop_id: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each kind's statement for a first page (51 rows) over 30 days."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from shop_admin.kernel.deadline_queue import deadline_queue, deadline_queue_kind_rows, deadline_queue_kinds

    now = timezone.now()
    reads = [(f"kind {kind.name}", lambda kind=kind: deadline_queue_kind_rows(
        kind, shop_ids={shop_id}, now=now, until=now + timedelta(days=30), limit=51)) for kind in deadline_queue_kinds()]
    reads.append(("the default page (every kind, 24 h, one statement)", lambda: deadline_queue(shop_ids={shop_id}, now=now)))
    for label, read in reads:
        with CaptureQueriesContext(connection) as ctx:
            read()
        for q in ctx.captured_queries:
            print(f"\n-- {label}: {q['sql'][:400]}")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                for (line,) in cursor.fetchall():
                    print("   " + line)


def measure(client, url: str, *, requests: int, warmup: int, headers: dict | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpu_times, db_times, n_queries = [], [], [], []
    for k in range(warmup + requests):
        with CaptureQueriesContext(connection) as ctx:
            cpu = time.process_time()
            t = time.perf_counter()
            response = client.get(url, headers=headers or {})
            elapsed = (time.perf_counter() - t) * 1000
            cpu = (time.process_time() - cpu) * 1000
        if response.status_code != 200:
            sys.exit(f"deadline_queue.py: GET {url} answered {response.status_code}: {response.content[:300]!r}")
        if k >= warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
            db_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            n_queries.append(len(ctx.captured_queries))
    json = response["Content-Type"].startswith("application/json")
    rows = len(response.json()["deadlines"]) if json else response.content.count(b"<tr data-kind=")
    return {"p50": statistics.median(times), "p95": order_list.percentile(times, 0.95), "max": max(times),
            "db": statistics.median(db_times), "cpu": statistics.median(cpu_times), "queries": max(n_queries), "rows": rows}


def uptime() -> str:
    # In UTC: Django has set TZ to the shop's zone for this process.
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of the measured shop")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run left, without reloading")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each kind's statement")
    parser.add_argument("--profile", action="store_true", help="a pyinstrument profile of the slowest case")
    parser.add_argument("--database", default=order_list.DB_NAME, help="the database it builds and keeps")
    args = parser.parse_args()
    order_list.DB_NAME = args.database
    order_list.DATABASE_URL = f"{order_list.SERVER_URL}/{order_list.DB_NAME}"

    if not args.reuse:
        log(f"recreating database {order_list.DB_NAME}")
        order_list.database_recreate()
    order_list.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from shop_admin.kernel.deadline_queue import deadline_queue_kinds
    from shop_admin.kernel.models import Shop

    t = time.monotonic()
    call_command("migrate", verbosity=0)  # a reused database may predate this branch's columns and indexes
    log(f"migrate ({time.monotonic() - t:.1f} s)")
    if not args.reuse:
        order_list.check_columns()
        order_list.load(args.orders, args.orders // 10, args.seed)
    deadline_rows_add()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        total = cursor.fetchone()[0]
    shop = Shop.objects.get(name=order_list.BIG_SHOP)
    user = get_user_model().objects.get(username=order_list.OWNER)
    settings.API_RATE_LIMITS_ENABLED = False
    client = Client()
    client.force_login(user)
    auth = {"Authorization": f"Bearer {user.api_token.key}"}
    log(f"{total:,} orders; measuring shop {shop.pk}")
    print("\n| kind | due within 24 h | within 30 d |\n| --- | --- | --- |")
    for name, day, month in queue_census(shop.pk):
        print(f"| {name} | {day:,} | {month:,} |")

    cases = [("page", "/deadlines/"), ("page", "/deadlines/?within=2h"), ("page", "/deadlines/?within=7d")]
    cases += [("page", f"/deadlines/?within=7d&kind={k.name}") for k in deadline_queue_kinds()]
    api = "/api/v1/merchant/deadlines"
    cases += [("API", f"{api}?limit=50"), ("API", f"{api}?within=2h"), ("API", f"{api}?within=30d&limit=100")]
    cases += [("API", f"{api}?within=7d&kind={k.name}") for k in deadline_queue_kinds()]
    first = client.get(f"{api}?within=30d", headers=auth).json()
    if first.get("next_cursor"):
        cases.append(("API", f"{api}?within=30d&cursor={first['next_cursor']}"))
    before = uptime()
    print(f"\n| what | URL ({total:,} orders) | p50 ms | p95 ms | max ms | SQL p50 ms | py CPU p50 ms | SQL statements | rows |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    results = []
    for what, url in cases:
        r = measure(client, url, requests=args.requests, warmup=args.warmup, headers=auth if what == "API" else None)
        results.append((what, url, r))
        shown = url if "cursor=" not in url else url.split("cursor=")[0] + "cursor=(page 2)"
        print(f"| {what} | `{shown}` | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['db']:.1f} | {r['cpu']:.1f} | {r['queries']} | {r['rows']} |",
              flush=True)
    print(f"\nTest Client in-process (server time, no socket), {args.requests} requests per case after {args.warmup} warm-up, "
          f"DEBUG off.\nuptime before: {before}\nuptime after:  {uptime()}")
    if args.explain:
        explain_kinds(shop.pk)
    if args.profile:
        from pyinstrument import Profiler

        what, url, r = max(results, key=lambda x: x[2]["p95"])
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(20):
                client.get(url, headers=auth if what == "API" else {})
        print(f"\n=== pyinstrument, 20 x GET {url} (the slowest case, p95 {r['p95']:.1f} ms) ===")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
