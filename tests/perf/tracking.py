"""Benchmarks of logistics on PostgreSQL: tracking pushes through the signed callback, and the stalled-parcel sweep.

Run from the project root (what `make perf-tracking` does):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python tests/perf/tracking.py

DATABASE_URL only names the server: the runner drops and recreates its own
database (`perf_tracking` unless `--db`), migrates it and works there. Redis is
database 10 (`PERF_TRACKING_REDIS_URL`), emptied before and after: every push
schedules its parcel's stall wake-up there, as in production.

A. Ingest: `--parcels` shipped orders, each parcel getting `2 * --per-push` distinct
   events split at random over two pushes (so half of each parcel's history arrives
   after later events: out of order), sent as signed HTTP requests
   (`POST /api/v1/callbacks/logistics`, X-Timestamp + HMAC X-Signature) to gunicorn
   on a loopback port by `--threads` client threads, a new connection per request.
   One parcel in five ends signed, which delivers its order. Figure: events stored
   per second over the whole run. Afterwards: every event stored exactly once, every
   signed parcel's order delivered.
B. Stall sweep: `--shipments` parcels (COPY) of which `--stalled-ratio` are past their
   stall deadline, 40 % still moving and not yet due, the rest signed; ANALYZE; then
   `deadlines_sweep(now)` in-process. Figure: seconds. Afterwards: exactly the due
   parcels are stalled with one open stalled_logistics exception per order, and a
   second sweep applies nothing.

It asserts nothing about time; it exits 1 if a consistency check fails. At the
default sizes it records its figures in tests/perf/README.md. It drops its database
at the end unless `--keep`.
"""
import argparse
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.perf.procstat import children_of, cpu_seconds, database_backends  # noqa: E402
from tests.perf.run import (  # noqa: E402  (the spine's runner: its database, gunicorn and machine helpers)
    STARTED_AT,
    STARTED_LOAD,
    Gunicorn,
    database_recreate,
    django_setup,
    log,
    machine,
    migrate,
    redis_flush,
)

README = Path(__file__).resolve().parent / "README.md"
README_BEGIN = "<!-- tests/perf/tracking.py: begin (written by the runner; what is inside is replaced) -->"
README_END = "<!-- tests/perf/tracking.py: end -->"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
REDIS_URL = os.environ.get("PERF_TRACKING_REDIS_URL", "redis://127.0.0.1:6379/10")
SECRET = "perf-logistics-secret"
DEFAULTS = {"events": 100_000, "per_push": 20, "shipments": 1_000_000, "stalled_ratio": 0.01}
CODES_ON_THE_ROAD = ["collected", "in_transit", "in_transit", "in_transit", "out_for_delivery"]
ADDRESS = {"recipient_name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "address_detail": "文三路478号"}


# --- shared set-up -------------------------------------------------------------------------------


def shop_and_buyer(name: str):
    from orders.models import Buyer
    from shop_admin.kernel.models import Shop

    return Shop.objects.create(name=name), Buyer.objects.create(name=f"{name}-buyer")


def shipped_orders(*, shop, buyer, count: int, prefix: str) -> list[int]:
    """`count` orders in status shipped (bulk_create), their ids in order."""
    from decimal import Decimal

    from django.utils import timezone

    from orders.models import Order

    now = timezone.now()
    ids: list[int] = []
    for start in range(0, count, 5000):
        batch = [
            Order(
                order_no=f"{prefix}{n:017d}", shop=shop, buyer=buyer, status="shipped", items_total=Decimal("59.90"),
                payable=Decimal("59.90"), paid_amount=Decimal("59.90"), created_at=now - dt.timedelta(days=4),
                paid_at=now - dt.timedelta(days=4), shipped_at=now - dt.timedelta(days=3), **ADDRESS,
            )
            for n in range(start, min(start + 5000, count))
        ]
        ids += [o.pk for o in Order.objects.bulk_create(batch)]
    return ids


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order, logistics_shipment, logistics_trackingevent, orders_orderexception")


# --- A: ingest through the signed callback ------------------------------------------------------


class ProxiedGunicorn(Gunicorn):
    """The spine runner's gunicorn, asked for readiness as the TLS proxy in front of it would ask."""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_file.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json", headers={"X-Forwarded-Proto": "https"})
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s; see {self.log_file.name}")


def ingest_setup(*, parcels: int, per_push: int):
    """`parcels` shipped parcels and, per parcel, two pushes of `per_push` events (their times shuffled across the two)."""
    from django.utils import timezone

    from logistics.models import Shipment

    shop, buyer = shop_and_buyer("压测物流店")
    order_ids = shipped_orders(shop=shop, buyer=buyer, count=parcels, prefix="7")
    now = timezone.now()
    shipped_at = now - dt.timedelta(days=3)
    Shipment.objects.bulk_create(
        [
            Shipment(order_id=oid, shop=shop, carrier="SF", tracking_no=f"SF{n:013d}", shipped_at=shipped_at,
                     stall_deadline=shipped_at + dt.timedelta(hours=72))
            for n, oid in enumerate(order_ids)
        ],
        batch_size=5000,
    )
    rng = random.Random(7)
    first, second = [], []
    signed = 0
    for n in range(parcels):
        count = 2 * per_push
        events = []
        for k in range(count):
            code = "collected" if k == 0 else rng.choice(CODES_ON_THE_ROAD)
            events.append({"code": code, "time": (shipped_at + dt.timedelta(minutes=30 + 90 * k)).isoformat(),
                           "location": f"转运中心{k % 17}", "description": f"快件在转运中心{k % 17}，第{k}站"})
        if n % 5 == 0:
            events[-1] = {**events[-1], "code": "signed", "location": "西湖区快递柜", "description": "已签收"}
            signed += 1
        rng.shuffle(events)  # half of the history arrives after later steps
        for target, part in ((first, events[:per_push]), (second, events[per_push:])):
            target.append(json.dumps({"carrier": "SF", "tracking_no": f"SF{n:013d}", "events": part}, ensure_ascii=False).encode())
    analyze()
    return shop, first + second, signed


def post_push(port: int, body: bytes) -> tuple[int, float]:
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/api/v1/callbacks/logistics", body=body, headers={
            "Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": signature, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, time.perf_counter() - started
    except OSError:
        return 0, time.perf_counter() - started


def benchmark_ingest(*, env: dict, parcels: int, per_push: int, threads: int, workers: int, log_dir: Path) -> dict:
    from logistics.models import TrackingEvent
    from orders.models import Order

    shop, pushes, signed = ingest_setup(parcels=parcels, per_push=per_push)
    events = parcels * 2 * per_push
    log(f"A: {parcels:,} parcels, {len(pushes):,} pushes of {per_push} events ({events:,} events) ready")
    # As deployed: DJANGO_ENV=production (DEBUG off) behind a proxy that terminates TLS and says so in X-Forwarded-Proto.
    server_env = {**env, "DJANGO_ENV": "production", "SECRET_KEY": "perf-" + "x" * 60, "ALLOWED_HOSTS": "127.0.0.1",
                  "PAYMENT_CALLBACK_SECRET": "perf-payment-secret", "LOGISTICS_CALLBACK_SECRET": SECRET}
    server = ProxiedGunicorn(env=server_env, workers=workers, log_path=log_dir / "gunicorn.log")
    try:
        server.wait_ready()
        log(f"A: gunicorn -w {workers} on 127.0.0.1:{server.port}; {threads} client threads")
        half = len(pushes) // 2
        results = []
        workers_cpu_before = cpu_seconds(children_of(server.process.pid))  # imports and start-up are not the ingest
        load_before = os.getloadavg()
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            # Every parcel's first push before any second one: the second push meets a parcel with a state.
            for phase in (pushes[:half], pushes[half:]):
                results += list(pool.map(lambda body: post_push(server.port, body), phase, chunksize=16))
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()
        # The backends were opened by the workers during the run (kept for DB_CONN_MAX_AGE): all their CPU is the ingest's.
        server_cpu = cpu_seconds(children_of(server.process.pid)) - workers_cpu_before + cpu_seconds(database_backends())
    finally:
        server.stop()
    statuses = {}
    for status, _seconds in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(seconds for _status, seconds in results)
    stored = TrackingEvent.objects.filter(shipment__shop=shop).count()
    delivered = Order.objects.filter(shop=shop, status="delivered").count()
    problems = []
    if stored != events:
        problems.append(f"{stored:,} events stored, {events:,} sent")
    if delivered != signed:
        problems.append(f"{delivered:,} orders delivered, {signed:,} parcels signed")
    if statuses.get(200, 0) != len(pushes):
        problems.append(f"answers: {statuses}")
    log(f"A: {elapsed:.1f}s, {events / elapsed:,.0f} events/s; statuses {statuses}; {'; '.join(problems) or 'consistent'}")
    return {
        "events": events, "pushes": len(pushes), "seconds": elapsed, "events_per_s": events / elapsed,
        "pushes_per_s": len(pushes) / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000, "statuses": statuses, "signed": signed, "problems": problems,
        "server_cpu": server_cpu, "load": (load_before[0], load_after[0]),
    }


# --- B: the stalled-parcel sweep over a million parcels ------------------------------------------


def stall_setup(*, shipments: int, stalled_ratio: float):
    """`shipments` parcels by COPY: `stalled_ratio` past their stall deadline (one per order), 40 % moving not due, the rest signed."""
    from django.db import connection
    from django.utils import timezone

    due_count = int(shipments * stalled_ratio)
    shop, buyer = shop_and_buyer("压测停滞店")
    # Each due parcel has an order of its own (the exception is per order); the others share orders, 100 a piece:
    # the sweep reads parcels, and the orders table's size does not enter its plans.
    due_orders = shipped_orders(shop=shop, buyer=buyer, count=due_count, prefix="8")
    other_orders = shipped_orders(shop=shop, buyer=buyer, count=max(1, (shipments - due_count) // 100), prefix="9")
    now = timezone.now()
    rng = random.Random(11)
    columns = ("order_id", "shop_id", "carrier", "tracking_no", "status", "shipped_at", "last_event_at", "last_event_code",
               "signed_at", "stall_deadline", "stalled_at", "door_delivery", "is_reship", "freight_payer",
               "intercept_source", "intercept_result")  # nobody asked to intercept these parcels
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY logistics_shipment ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(shipments):
                shipped_at = now - dt.timedelta(hours=rng.uniform(1, 24 * 20))
                if n < due_count:
                    last = now - dt.timedelta(hours=rng.uniform(73, 24 * 10))
                    row = (due_orders[n], shop.pk, "ZTO", f"7{n:014d}", "in_transit", min(shipped_at, last), last, "in_transit",
                           None, last + dt.timedelta(hours=72), None, False, False, "buyer")
                elif n % 5 < 2:
                    last = now - dt.timedelta(hours=rng.uniform(0, 71))
                    row = (other_orders[n % len(other_orders)], shop.pk, "ZTO", f"7{n:014d}", "in_transit", min(shipped_at, last), last,
                           "in_transit", None, last + dt.timedelta(hours=72), None, False, False, "buyer")
                else:
                    row = (other_orders[n % len(other_orders)], shop.pk, "ZTO", f"7{n:014d}", "signed", shipped_at, shipped_at,
                           "signed", shipped_at, None, None, False, False, "buyer")
                copy.write_row((*row, "", ""))
        cursor.execute("SELECT id, order_id FROM logistics_shipment WHERE shop_id = %s AND stall_deadline <= %s AND status = 'in_transit'", [shop.pk, now])
        due_ids = cursor.fetchall()
        # The due parcels' last event, for the exception's evidence.
        with raw.copy("COPY logistics_trackingevent (shipment_id, order_id, code, occurred_at, location, description, dedupe_key, received_at) FROM STDIN") as copy:
            for sid, oid in due_ids:
                copy.write_row((sid, oid, "in_transit", now - dt.timedelta(hours=80), "义乌转运中心", "运输中", f"k{sid}", now))
    loaded = time.perf_counter() - started
    analyze()
    return shop, due_count, loaded, now


def benchmark_stall(*, shipments: int, stalled_ratio: float) -> dict:
    from django.db import connection

    from logistics.models import Shipment
    from orders.models import OrderException
    from shop_admin.kernel.deadlines import deadlines_sweep

    shop, due, loaded, now = stall_setup(shipments=shipments, stalled_ratio=stalled_ratio)
    log(f"B: {shipments:,} parcels loaded by COPY in {loaded:.1f}s, {due:,} past their stall deadline; ANALYZEd")
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        applied = deadlines_sweep(now=now)
        elapsed = time.perf_counter() - started
    again = deadlines_sweep(now=now)
    stalled = Shipment.objects.filter(shop=shop, stalled_at__isnull=False).count()
    exceptions = OrderException.objects.filter(shop=shop, kind="stalled_logistics", status="open").count()
    problems = []
    if applied.get("shipment_stall_timeout") != due or stalled != due:
        problems.append(f"applied {applied.get('shipment_stall_timeout')}, stalled {stalled:,}, due {due:,}")
    if exceptions != due:
        problems.append(f"{exceptions:,} open stalled_logistics exceptions for {due:,} stalled parcels")
    if any(again.values()):
        problems.append(f"a second sweep applied {again}")
    log(f"B: sweep {elapsed:.2f}s, {queries[0]:,} SQL statements; {'; '.join(problems) or 'consistent'}")
    return {"shipments": shipments, "due": due, "loaded": loaded, "seconds": elapsed, "queries": queries[0], "problems": problems}


# --- report --------------------------------------------------------------------------------------


def rows_of(a: dict, b: dict) -> list[tuple[str, str]]:
    return [
        ("A ingest: events per second (target >= 2,000)", f"{a['events_per_s']:,.0f} ({a['events']:,} events in {a['seconds']:.1f} s)"),
        ("A server CPU (gunicorn workers + their PostgreSQL backends)", f"{a['server_cpu']:.1f} s: {a['events'] / a['server_cpu']:,.0f} events per CPU-second"),
        ("A load average (1 min) before / after the run", f"{a['load'][0]:.2f} / {a['load'][1]:.2f} on {os.cpu_count()} cores"),
        ("A pushes per second, latency p50 / p95 (ms)", f"{a['pushes_per_s']:,.0f}; {a['p50']:.0f} / {a['p95']:.0f}"),
        ("A answers", ", ".join(f"{k}: {v:,}" for k, v in sorted(a["statuses"].items()))),
        ("A afterwards", "; ".join(a["problems"]) or f"each event stored once; {a['signed']:,} signed parcels, as many orders delivered"),
        ("B setup: parcels by COPY", f"{b['shipments']:,} in {b['loaded']:.1f} s"),
        ("B stalled sweep: seconds (target < 20)", f"{b['seconds']:.2f} ({b['due']:,} parcels stalled, {b['queries']:,} SQL statements)"),
        ("B afterwards", "; ".join(b["problems"]) or "exactly the due parcels stalled, one open exception each; a second sweep applies nothing"),
    ]


def readme_write(*, m: dict, rows: list[tuple[str, str]], args) -> None:
    table = "\n".join(["| figure | value |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in rows])
    section = f"""{README_BEGIN}
## Tracking pushes and the stalled-parcel sweep (`tracking.py`)

`make perf-tracking` runs `tests/perf/tracking.py` (not collected by pytest; it asserts
nothing about time and exits 1 only if a consistency check fails). It drops and
recreates its own database `{args.db}` on the server of `DATABASE_URL`, migrates it
(and drops it at the end unless `--keep`),
and uses Redis database 10, emptied before and after.

- **A, ingest through the real callback path**: signed HTTP requests
  (`POST /api/v1/callbacks/logistics`, X-Timestamp and HMAC X-Signature) to gunicorn
  (`-w {args.workers}`, sync workers) on a loopback port from {args.threads} client threads, a new
  connection per request; {args.per_push} events per push, two pushes per parcel with the
  parcel's events shuffled across them (out of order), one parcel in five ending
  signed (which delivers its order through `order_mark_delivered`). Each push is one
  statement that locks the parcel and inserts its events (one JSON array, through
  `jsonb_to_recordset`) with `ON CONFLICT DO NOTHING RETURNING`, then one update of the
  parcel, in one transaction; Redis is called only when a stalled parcel wakes up.
- **B, the stalled sweep**: {args.shipments:,} parcels loaded with COPY, {args.stalled_ratio:.0%} of them past
  their stall deadline (each on its own order), 40 % moving and not yet due, the rest
  signed; ANALYZE; then `deadlines_sweep(now)` in-process. The due parcels are found by
  the partial index `shipment_stall_due` (moving and not yet stalled), 500 a batch.

The client, gunicorn and PostgreSQL share the machine (and it is shared with other
work), so read the figures as an order of magnitude.

| what | reading |
| --- | --- |
| date (`date`) | {m['date']} |
| CPU (/proc/cpuinfo) | {m['cpu']} |
| cores (`nproc`) | {m['nproc']} |
| memory (`free -h`, total) | {m['memory']} |
| software | Python {m['python']}, Django {m['django']}, PostgreSQL {m['postgres']} |
| commit | {m['commit']} |
| load average at start (1 / 5 / 15 min) | {' / '.join(f'{x:.2f}' for x in STARTED_LOAD)} |

{table}
{README_END}"""
    text = README.read_text(encoding="utf-8")
    if README_BEGIN in text:
        before, rest = text.split(README_BEGIN, 1)
        text = before + section + rest.split(README_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text, encoding="utf-8")
    log(f"figures recorded in {README.relative_to(ROOT)}")


def database_drop(server_url: str, name: str) -> None:
    """Drop the runner's database (a million parcels are not left lying on a shared server)."""
    from urllib.parse import urlparse, urlunparse

    import psycopg
    from django.db import connections

    connections.close_all()
    parsed = urlparse(server_url)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    log(f"database {name} dropped (--keep leaves it)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=DEFAULTS["events"], help="events to ingest (default %(default)s)")
    parser.add_argument("--per-push", type=int, default=DEFAULTS["per_push"], help="events per push (default %(default)s)")
    parser.add_argument("--shipments", type=int, default=DEFAULTS["shipments"], help="parcels for the sweep (default %(default)s)")
    parser.add_argument("--stalled-ratio", type=float, default=DEFAULTS["stalled_ratio"], help="share past the stall deadline")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default %(default)s)")
    parser.add_argument("--db", default="perf_tracking", help="the runner's own database, dropped and recreated")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection instead of dropping it")
    parser.add_argument("--readme", action=argparse.BooleanOptionalAction, default=None,
                        help="record the figures in tests/perf/README.md (default: only at the default sizes)")
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    url = database_recreate(server_url, args.db)
    os.environ.update(DATABASE_URL=url, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="shop_admin.settings",
                      LOGISTICS_CALLBACK_SECRET=SECRET)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    env = dict(os.environ)
    log(f"database {args.db} recreated; migrating")
    log(f"migrated in {migrate(env):.1f}s")
    redis_flush(REDIS_URL)
    django_setup()
    log_dir = Path(os.environ.get("PERF_LOG_DIR", "/tmp")) / f"perf_tracking_{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        parcels = max(1, args.events // (2 * args.per_push))
        a = benchmark_ingest(env=env, parcels=parcels, per_push=args.per_push, threads=args.threads, workers=args.workers, log_dir=log_dir)
        b = benchmark_stall(shipments=args.shipments, stalled_ratio=args.stalled_ratio)
    finally:
        redis_flush(REDIS_URL)
    m = machine()
    rows = rows_of(a, b)
    width = max(len(k) for k, _v in rows)
    print(f"\nSummary ({STARTED_AT}; {m['cpu']}, {m['nproc']} cores, PostgreSQL {m['postgres']})")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
    sizes = {"events": args.events, "per_push": args.per_push, "shipments": args.shipments, "stalled_ratio": args.stalled_ratio}
    if args.readme or (args.readme is None and sizes == DEFAULTS):
        readme_write(m=m, rows=rows, args=args)
    if not args.keep:
        database_drop(server_url, args.db)
    return 1 if a["problems"] or b["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
