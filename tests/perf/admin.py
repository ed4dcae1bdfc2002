"""Benchmark of the Django admin at a million orders: the changelists platform staff use, through gunicorn.

Run from the project root, after `tests/perf/order_list.py` has built its database
(or let this script build it):

    .venv/bin/python tests/perf/admin.py               # uses shop_perf_list, building it if missing
    .venv/bin/python tests/perf/admin.py --requests 10 # a quicker look

It works in the order-list benchmark's database `shop_perf_list` (one shop with
1,000,000 orders, a second with 100,000). What the admin lists besides orders is added
once, server-side (INSERT ... SELECT, then ANALYZE): one `submitted` event per order and
a `pending_payment -> paid` event per paid order, a succeeded payment per paid order,
an after-sale case for one completed or delivered order in twenty. Then gunicorn
(`-w 2`, DJANGO_ENV development as in run.py) serves the project on a free port, and
one client signed in as a superuser GETs each changelist `--requests` times after
`--warmup` untimed calls, one request at a time, so a request's latency at the client
is its server time plus loopback. It prints p50/p95/max per case and asserts nothing.
"""
import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf import order_list  # noqa: E402  (its database and loader)
from tests.perf.procstat import children_of, cpu_seconds  # noqa: E402
from tests.perf.run import Gunicorn, percentile  # noqa: E402

ADMIN_USER = "perf-admin"
STARTED = time.monotonic()
STARTED_AT = subprocess.run(["date"], check=False, capture_output=True, text=True).stdout.strip()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(f"{order_list.SERVER_URL}/test", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [order_list.DB_NAME]).fetchone() is not None


def admin_rows_add() -> None:
    """Events, payments and after-sale cases for the orders already there, unless a previous run added them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM orders_orderevent), EXISTS (SELECT 1 FROM aftersale_aftersalecase)")
        have_events, have_cases = cursor.fetchone()
        if have_events and have_cases:
            return
        t = time.monotonic()
        if not have_events:  # else an earlier run stopped after the events and payments
            cursor.execute(
                "INSERT INTO orders_orderevent (order_id, kind, actor_kind, actor_label, from_status, to_status, reason, data, created_at) "
                "SELECT id, 'submitted', 'buyer', 'buyer', '', '', '', jsonb_build_object('payable', payable::text), created_at "
                "FROM orders_order ORDER BY id"
            )
            cursor.execute(
                "INSERT INTO orders_orderevent (order_id, kind, actor_kind, actor_label, from_status, to_status, reason, data, created_at) "
                "SELECT id, 'transition', 'system', 'payment_callback', 'pending_payment', 'paid', '', '{}'::jsonb, paid_at "
                "FROM orders_order WHERE paid_at IS NOT NULL ORDER BY paid_at, id"
            )
            cursor.execute(
                "INSERT INTO orders_payment (order_id, channel, purpose, amount, status, channel_txn_id, failure_reason, created_at, settled_at) "
                "SELECT id, (ARRAY['douyin_pay','wechat','alipay','bank_card'])[1 + id % 4], 'full', payable, 'succeeded', "
                "'TXN' || lpad(id::text, 12, '0'), '', paid_at, paid_at FROM orders_order WHERE paid_at IS NOT NULL ORDER BY paid_at, id"
            )
        cursor.execute(
            "INSERT INTO aftersale_aftersalecase (order_id, shop_id, buyer_id, type, status, reason, description, amount, evidence, "
            "reply_deadline, due_at, created_at, updated_at, is_fragile, rejected_after_inspection, reject_evidence, deductions, "
            "ruling, ruling_note, arbitration_reason, reject_reason, reship_carrier, reship_tracking_no, return_address, "
            "return_carrier, return_tracking_no) "
            "SELECT id, shop_id, buyer_id, (ARRAY['return_refund','refund_only','exchange'])[1 + id % 3], "
            "(ARRAY['requested','negotiating','approved'])[1 + id % 3], '质量问题', '性能测试', payable, '[]'::jsonb, "
            "coalesce(delivered_at, created_at) + interval '3 days', coalesce(delivered_at, created_at) + interval '3 days', "
            "coalesce(delivered_at, created_at), coalesce(delivered_at, created_at), false, false, '[]'::jsonb, '[]'::jsonb, "
            "'', '', '', '', '', '', '', '', '' "
            "FROM orders_order WHERE status IN ('completed', 'delivered') AND id % 20 = 0 ORDER BY id"
        )
        log(f"events, payments and after-sale cases added ({time.monotonic() - t:.1f} s)")
    connection.close()
    import psycopg

    t = time.monotonic()
    with psycopg.connect(order_list.DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    log(f"VACUUM ANALYZE ({time.monotonic() - t:.1f} s)")


def table_sizes() -> dict[str, int]:
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for table in ("orders_order", "orders_orderevent", "orders_payment", "aftersale_aftersalecase", "orders_orderexception"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[table] = cursor.fetchone()[0]
    return sizes


def samples() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM orders_order WHERE buyer_id BETWEEN 2000 AND 3000 GROUP BY phone ORDER BY count(*) DESC, phone LIMIT 10"
        )
        phones = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT order_no FROM orders_order WHERE id % 99991 = 0 ORDER BY id LIMIT 10")
        order_nos = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT channel_txn_id FROM orders_payment WHERE id % 9973 = 0 ORDER BY id LIMIT 10")
        txns = [r[0] for r in cursor.fetchall()]
    return {"phones": phones, "order_nos": order_nos, "txns": txns}


def session_cookie() -> str:
    """A signed-in superuser's session, stored where gunicorn will read it."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USER).first() or User.objects.create_superuser(ADMIN_USER, "", "pw-perf-admin-1")
    client = Client()
    client.force_login(user)
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def get(port: int, path: str, cookie: str) -> tuple[int, float, int]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, (time.perf_counter() - started) * 1000, body.count(b'<th class="field-')


def workers_cpu_ms(master_pid: int) -> float:
    """CPU time (ms) the gunicorn workers under this master have used so far."""
    return cpu_seconds(children_of(master_pid)[1:]) * 1000


def measure(port: int, cookie: str, urls: list[str], *, requests: int, warmup: int, master_pid: int) -> dict:
    times, rows = [], []
    cpu_before = 0.0
    for k in range(warmup + requests):
        if k == warmup:
            cpu_before = workers_cpu_ms(master_pid)
        status, ms, n = get(port, urls[k % len(urls)], cookie)
        if status != 200:
            sys.exit(f"admin.py: GET {urls[k % len(urls)]} answered {status}")
        if k >= warmup:
            times.append(ms)
            rows.append(n)
    cpu = (workers_cpu_ms(master_pid) - cpu_before) / requests
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "max": max(times), "rows": (min(rows), max(rows)), "n": len(times),
            "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of the big shop, if the database has to be built")
    args = parser.parse_args()

    build = not database_exists()
    if build:
        log(f"no database {order_list.DB_NAME}: building it as tests/perf/order_list.py does")
        order_list.database_recreate()
    order_list.django_setup()
    from django.core.management import call_command

    if build:
        call_command("migrate", verbosity=0)
        order_list.load(args.orders, args.orders // 10, 20261122)
    else:
        call_command("migrate", verbosity=0)  # the admin may need this branch's migrations
    admin_rows_add()
    sizes = table_sizes()
    log("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
    picked = samples()
    cookie = session_cookie()

    env = dict(os.environ, DATABASE_URL=order_list.DATABASE_URL, REDIS_URL=order_list.REDIS_URL, LOG_LEVEL="WARNING")
    env.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    log_dir = Path(os.environ.get("PERF_LOG_DIR", "/tmp")) / f"shop_perf_admin_{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    cases = [
        ("orders: first page", ["/admin/orders/order/"]),
        ("orders: status filter paid", ["/admin/orders/order/?status__exact=paid"]),
        ("orders: status filter rejected", ["/admin/orders/order/?status__exact=rejected"]),
        ("orders: phone search", [f"/admin/orders/order/?q={p}" for p in picked["phones"]]),
        ("orders: order-number search", [f"/admin/orders/order/?q={n}" for n in picked["order_nos"]]),
        ("orders: page 100", ["/admin/orders/order/?p=100"]),
        ("events: first page", ["/admin/orders/orderevent/"]),
        ("events: order-number search", [f"/admin/orders/orderevent/?q={n}" for n in picked["order_nos"]]),
        ("payments: first page", ["/admin/orders/payment/"]),
        ("payments: transaction search", [f"/admin/orders/payment/?q={t}" for t in picked["txns"]]),
        ("after-sale cases: first page (all, not only disputes)", ["/admin/aftersale/aftersalecase/?queue=all"]),
        ("after-sale cases: status filter", ["/admin/aftersale/aftersalecase/?queue=all&status__exact=requested"]),
        ("exceptions: first page", ["/admin/orders/orderexception/"]),
        ("exceptions: status filter open", ["/admin/orders/orderexception/?status__exact=open"]),
    ]
    server = Gunicorn(env=env, workers=args.workers, log_path=log_dir / "gunicorn.log")
    results = []
    load_before = os.getloadavg()
    try:
        server.wait_ready()
        log(f"gunicorn -w {args.workers} on 127.0.0.1:{server.port} (log {server.log_file.name})")
        for name, urls in cases:
            r = measure(server.port, cookie, urls, requests=args.requests, warmup=args.warmup, master_pid=server.process.pid)
            results.append((name, urls, r))
            log(f"{name}: p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, max {r['max']:.0f} ms, "
                f"worker CPU {r['cpu']:.1f} ms/request, rows {r['rows'][0]}-{r['rows'][1]}")
    finally:
        server.stop()

    print(f"\nDjango admin at a million orders ({', '.join(f'{t} {n:,}' for t, n in sizes.items())}); "
          f"{args.requests} requests per case after {args.warmup} warm-up, one at a time, gunicorn -w {args.workers}")
    print("| case | p50 ms | p95 ms | max ms | worker CPU ms/request | rows on the page |\n| --- | --- | --- | --- | --- | --- |")
    for name, _urls, r in results:
        print(f"| {name} | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} | {r['cpu']:.1f} | {r['rows'][0]}-{r['rows'][1]} |")
    print("\nWorker CPU: user + system time of the gunicorn workers (/proc) over the timed requests, divided by their number "
          "(the machine's load inflates wall time far more than it does this).")
    print("\nURLs: " + "; ".join(f"{name}: {urls[0]}" for name, urls, _r in results))
    print(f"load average before {'/'.join(f'{v:.2f}' for v in load_before)}, after {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")
    for label, value in order_list.machine():
        print(f"{label}: {value}")
    print(f"total run time: {time.monotonic() - STARTED:.1f} s")


if __name__ == "__main__":
    main()
