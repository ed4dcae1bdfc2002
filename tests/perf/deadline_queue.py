"""Benchmark of the deadline queue (/deadlines/ and GET /merchant/deadlines) at a million orders, on PostgreSQL.

Run from the project root:

    .venv/bin/python tests/perf/deadline_queue.py                 # 1,000,000 orders (the order-list loader, 5-10 minutes)
    .venv/bin/python tests/perf/deadline_queue.py --orders 100000 # a quicker look
    .venv/bin/python tests/perf/deadline_queue.py --reuse         # measure again without reloading

It builds its own database `shop_perf_deadlines` with the loader of `tests/perf/order_list.py` (one shop of N orders
in every state, a second of N/10; paid orders carry their ship-by, about 2 % have an open exception), adds an after-sale
case to one completed or delivered order in twenty (server-side, half of them past their reply deadline) and, with
--reuse, measures the database a previous run left. Redis is database 14. Then, signed in as the big shop's owner with
Django's test Client in-process, it times `--requests` calls of each case after `--warmup` untimed ones and prints
p50/p95/max and SQL statements per request. It asserts nothing about time; the target is p95 < 50 ms.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf import order_list  # noqa: E402  (its loader, timing and percentile)

order_list.DB_NAME = "shop_perf_deadlines"
order_list.DATABASE_URL = f"{order_list.SERVER_URL}/{order_list.DB_NAME}"
order_list.REDIS_URL = "redis://127.0.0.1:6379/14"
log = order_list.log


def cases_add() -> None:
    """After-sale cases waiting for the merchant, for one completed or delivered order in twenty, half already overdue."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM aftersale_aftersalecase)")
        if cursor.fetchone()[0]:
            return
        t = time.monotonic()
        cursor.execute(
            "INSERT INTO aftersale_aftersalecase (order_id, shop_id, buyer_id, type, status, reason, description, amount, evidence, "
            "reply_deadline, due_at, created_at, updated_at, is_fragile, rejected_after_inspection, reject_evidence, deductions, "
            "ruling, ruling_note, arbitration_reason, reject_reason, reship_carrier, reship_tracking_no, return_address, "
            "return_carrier, return_tracking_no) "
            "SELECT id, shop_id, buyer_id, (ARRAY['return_refund','refund_only','exchange'])[1 + id % 3], "
            "(ARRAY['requested','negotiating','inspecting'])[1 + id % 3], '质量问题', '性能测试', payable, '[]'::jsonb, "
            "now() + (id % 48 - 24) * interval '1 hour', now() + (id % 48 - 24) * interval '1 hour', now(), now(), "
            "false, false, '[]'::jsonb, '[]'::jsonb, '', '', '', '', '', '', '', '', '' "
            "FROM orders_order WHERE status IN ('completed', 'delivered') AND id % 20 = 0 ORDER BY id"
        )
        log(f"after-sale cases added: {cursor.rowcount} ({time.monotonic() - t:.1f} s)")
        cursor.execute("ANALYZE aftersale_aftersalecase")


def measure(client, urls: list[str], *, requests: int, warmup: int, headers: dict | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, n_queries = [], []
    for k in range(warmup + requests):
        url = urls[k % len(urls)]
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url, headers=headers or {})
            elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            sys.exit(f"deadline_queue.py: GET {url} answered {response.status_code}: {response.content[:300]!r}")
        if k >= warmup:
            times.append(elapsed)
            n_queries.append(len(ctx.captured_queries))
    return {"p50": statistics.median(times), "p95": order_list.percentile(times, 0.95), "max": max(times), "queries": max(n_queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of the measured shop")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run left, without reloading")
    args = parser.parse_args()

    if not args.reuse:
        log(f"recreating database {order_list.DB_NAME}")
        order_list.database_recreate()
    order_list.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from shop_admin.kernel.models import Shop

    call_command("migrate", verbosity=0)  # a reused database may predate this branch's columns and indexes
    if not args.reuse:
        order_list.check_columns()
        order_list.load(args.orders, args.orders // 10, args.seed)
    cases_add()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        total = cursor.fetchone()[0]
    shop = Shop.objects.get(name=order_list.BIG_SHOP)
    user = get_user_model().objects.get(username=order_list.OWNER)
    settings.API_RATE_LIMITS_ENABLED = False
    client = Client()
    client.force_login(user)
    token = user.api_token.key if hasattr(user, "api_token") else None
    log(f"{total:,} orders; measuring shop {shop.pk}")

    cases = [
        ("/deadlines/ (24 h, all kinds)", ["/deadlines/"], None),
        ("/deadlines/?within=2h", ["/deadlines/?within=2h"], None),
        ("/deadlines/?within=30d&kind=ship", ["/deadlines/?within=30d&kind=ship"], None),
        ("/deadlines/?kind=aftersale_reply", ["/deadlines/?kind=aftersale_reply"], None),
    ]
    if token:
        cases.append(("GET /api/v1/merchant/deadlines?limit=100", ["/api/v1/merchant/deadlines?limit=100"], {"Authorization": f"Bearer {token}"}))
    # The second page: the cursor the first page of a 30-day window hands out.
    first = client.get("/api/v1/merchant/deadlines?within=30d", headers={"Authorization": f"Bearer {token}"}).json() if token else {}
    if first.get("next_cursor"):
        cases.append(("GET /api/v1/merchant/deadlines page 2 (30 d)", [f"/api/v1/merchant/deadlines?within=30d&cursor={first['next_cursor']}"],
                      {"Authorization": f"Bearer {token}"}))
    print(f"\n| case ({total:,} orders) | p50 ms | p95 ms | max ms | SQL statements |\n| --- | --- | --- | --- | --- |")
    for label, urls, headers in cases:
        r = measure(client, urls, requests=args.requests, warmup=args.warmup, headers=headers)
        print(f"| {label} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['queries']} |", flush=True)


if __name__ == "__main__":
    main()
