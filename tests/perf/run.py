"""Benchmarks of the order spine on PostgreSQL: order submissions through the JSON API, and the unpaid-deadline sweep.

Run from the project root (what `make perf` does):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python tests/perf/run.py

DATABASE_URL only says which server to use: the runner drops and recreates its
own database (`shop_perf` unless `--db`), migrates it and works there, so it
never touches the database it was pointed at nor the pytest one. It prints its
figures and, at the default sizes, records them in tests/perf/README.md. It
asserts nothing about time; it does check that stock and the audit trail stay
consistent, and exits 1 if they do not.
"""
import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
README = Path(__file__).resolve().parent / "README.md"
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_REQUESTS = 2000
DEFAULT_ORDERS = 100_000
README_BEGIN = "<!-- tests/perf/run.py: begin (written by the runner; what is inside is replaced) -->"
README_END = "<!-- tests/perf/run.py: end -->"
BUYERS = 32
WIDE_SKUS = 1000  # scenario (b) of the API benchmark
FLASH_BUYERS = 2000  # scenario (c): this many buyers at once ...
FLASH_UNITS = 100  # ... for this many units of one SKU
FLASH_THREADS = 64
DUE_SKUS = 100  # the overdue orders of the sweep benchmark spread over these
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
PERF_REDIS_URL = os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/14")
# gunicorn serves the project as deployed: DJANGO_ENV=production (DEBUG off: no query log, no debug cursor)
# behind a proxy that terminates TLS and says so (production redirects plain HTTP). The floor and the orders
# are the same WSGI application under the same settings, so whatever the settings cost, both pay it.
SERVER_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "perf-" + "x" * 60,
    "ALLOWED_HOSTS": "127.0.0.1",
    "PAYMENT_CALLBACK_SECRET": "perf-payment-secret",
    "LOGISTICS_CALLBACK_SECRET": "perf-logistics-secret",
}
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路478号华星时代广场A座",
}

sys.path.insert(0, str(ROOT))
from tests.perf.procstat import children_of, cpu_by_pid, database_backends  # noqa: E402

STARTED = time.monotonic()
# Read before django.setup(), which sets TZ to the shop's zone for this process and its children.
STARTED_AT = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
STARTED_LOAD = os.getloadavg()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# --- the runner's own database -------------------------------------------------------------------


def database_recreate(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `server_url`; return the URL of the new database."""
    import psycopg

    parsed = urlparse(server_url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"perf: DATABASE_URL must point at PostgreSQL (got {server_url!r})")
    given = parsed.path.lstrip("/")
    if name in {given, "test", "postgres", "template0", "template1"} or name.startswith("test_"):
        sys.exit(f"perf: refusing to drop database {name!r}: it is not the runner's own")
    # Connect to the maintenance database (or, failing that, to the one given) only to drop and create ours.
    last_error = None
    for admin_db in ("postgres", given):
        try:
            with psycopg.connect(urlunparse(parsed._replace(path=f"/{admin_db}")), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            return urlunparse(parsed._replace(path=f"/{name}"))
        except psycopg.OperationalError as exc:
            last_error = exc
    sys.exit(f"perf: cannot reach PostgreSQL at {server_url}: {last_error}")


def redis_flush(url: str) -> None:
    """Empty the runner's own Redis database (the pay-timeout jobs its orders scheduled)."""
    import redis

    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError as exc:
        log(f"Redis {url} not reachable ({exc}); deadline wake-ups are skipped, the benchmarks do not need them")


def redis_connections_received(url: str) -> int | None:
    """Connections Redis has accepted since it started (INFO stats), to see how many one run opens."""
    import redis

    try:
        return int(redis.Redis.from_url(url).info("stats")["total_connections_received"])
    except (redis.RedisError, KeyError, ValueError):
        return None


def server_cpu_snapshot(master: int) -> dict[int, float]:
    """CPU so far of gunicorn (master and workers) and of the PostgreSQL backends serving the runner's database.

    Measured around each run, its difference is the server's CPU for that run's requests: unlike requests/s,
    it hardly depends on what else the machine is doing (contention inflates it a little, never by the wait).
    """
    return cpu_by_pid(children_of(master) + database_backends())


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots (a backend that appeared in between counts from zero)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def migrate(env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env)
    if done.returncode:
        sys.exit(f"perf: manage.py migrate failed (exit {done.returncode}, see above); nothing was measured")
    return time.perf_counter() - started


def django_setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    django.setup()


# --- shared fixtures, made with the ORM ------------------------------------------------------------


def shop_with_skus(*, name: str, sku_count: int, stock: int, code_prefix: str):
    """A shop with one warehouse in 浙江省 and `sku_count` products of one SKU each, `stock` units apiece."""
    from decimal import Decimal

    from orders.models import Product, Sku, StockLevel
    from shop_admin.kernel.models import Shop, Warehouse

    shop = Shop.objects.create(name=name)
    warehouse = Warehouse.objects.create(shop=shop, name="杭州仓", province="浙江省", priority=0)
    products = Product.objects.bulk_create(
        [Product(shop=shop, name=f"{name}商品{n}", category="食品", freight=Decimal("0.00")) for n in range(sku_count)]
    )
    skus = Sku.objects.bulk_create(
        [
            Sku(product=p, shop=shop, code=f"{code_prefix}-{n:05d}", spec="默认", price=Decimal("59.90"))
            for n, p in enumerate(products)
        ]
    )
    StockLevel.objects.bulk_create([StockLevel(sku=s, warehouse=warehouse, available=stock) for s in skus])
    return shop, warehouse, skus


def buyers_create(count: int, prefix: str = "perf-buyer"):
    from orders.models import Buyer

    return Buyer.objects.bulk_create([Buyer(name=f"{prefix}-{n:04d}") for n in range(count)])


# --- benchmark A: POST /api/v1/orders through gunicorn --------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving the project on a free loopback port; stopped (its whole process group) on exit."""

    def __init__(self, *, env: dict, workers: int, log_path: Path, app: str = "shop_admin.wsgi", ready_path: str = "/api/v1/openapi.json"):
        self.port = free_port()
        self.ready_path = ready_path
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                "--timeout", "120", "--no-control-socket",  # no shared ~/.gunicorn socket with anyone else's gunicorn
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_file.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.ready_path, headers=PROXY_HEADERS)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s; see {self.log_file.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the process group gunicorn leads: master and its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


def post_json(port: int, path: str, token: str | None, body: bytes, expect: int = 201) -> tuple[int, float, str]:
    """One POST on a fresh connection; returns (status, seconds, error code or '')."""
    started = time.perf_counter()
    headers = {"Content-Type": "application/json", **PROXY_HEADERS}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        status = response.status
    except OSError as exc:
        return 0, time.perf_counter() - started, type(exc).__name__
    elapsed = time.perf_counter() - started
    code = ""
    if status != expect:
        try:
            code = json.loads(payload)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = payload[:80].decode(errors="replace")
    return status, elapsed, code


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def order_body(shop_id: int, sku_id: int) -> bytes:
    return json.dumps({"shop_id": shop_id, "items": [{"sku_id": sku_id, "quantity": 1}], "address": ADDRESS}).encode()


def load_run(*, port: int, path: str, calls: list[tuple[str | None, bytes]], threads: int) -> dict:
    """POST each (token, body) of `calls` to `path` from `threads` threads; figures of the run."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda tb: post_json(port, path, tb[0], tb[1]), calls))
    wall = time.perf_counter() - started
    latencies = [r[1] for r in results]
    answers: dict[str, int] = {}
    for status, _elapsed, code in results:
        key = f"{status} {code}".strip()
        answers[key] = answers.get(key, 0) + 1
    return {
        "requests": len(results),
        "seconds": wall,
        "rps": len(results) / wall,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "created": sum(1 for r in results if r[0] == 201),
        "non_201": sum(1 for r in results if r[0] != 201),
        "refused": {k: n for k, n in answers.items() if not k.startswith("201")},
        "answers": answers,
    }


def stock_check(*, shop_id: int, initial: dict[int, int]) -> list[str]:
    """What is wrong with the stock of a shop where nothing was paid (initial = available + locked; locked = pending lines)."""
    from django.db.models import Sum

    from orders.constants import LineStock, OrderStatus
    from orders.models import OrderLine, StockLevel

    pending = dict(
        OrderLine.objects.filter(
            order__shop_id=shop_id, order__status=OrderStatus.PENDING_PAYMENT, stock_state=LineStock.LOCKED
        )
        .values_list("stock_level_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    )
    problems = []
    for level in StockLevel.objects.filter(sku__shop_id=shop_id):
        if min(level.available, level.locked, level.occupied) < 0:
            problems.append(f"stock level {level.pk}: negative count {level.available}/{level.locked}/{level.occupied}")
        if level.available + level.locked + level.occupied != initial[level.pk]:
            problems.append(
                f"stock level {level.pk} (sku {level.sku_id}): initial {initial[level.pk]} != "
                f"available {level.available} + locked {level.locked} + occupied {level.occupied}"
            )
        if level.occupied:
            problems.append(f"stock level {level.pk}: occupied {level.occupied} but nothing was paid")
        if level.locked != pending.get(level.pk, 0):
            problems.append(f"stock level {level.pk}: locked {level.locked} != pending lines {pending.get(level.pk, 0)}")
    unplaced = OrderLine.objects.filter(order__shop_id=shop_id).exclude(stock_state=LineStock.LOCKED).count()
    if unplaced:
        problems.append(f"{unplaced} lines of unpaid orders are not in the locked state")
    return problems


def floor_prepare() -> tuple[int, int]:
    """The floor's hot stock row (its own shop, plenty of units) and its ledger table; returns (stock level id, units)."""
    from django.db import connection

    from tests.perf.floor import LEDGER_DDL

    units = 10_000_000
    _shop, _wh, skus = shop_with_skus(name="压测地板店", sku_count=1, stock=units, code_prefix="FLOOR")
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_DDL)
    return skus[0].stock_levels.get().pk, units


def floor_check(*, level_id: int, units: int, created: int) -> list[str]:
    """Every unit the floor took is one ledger row and one 201."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT available FROM orders_stocklevel WHERE id = %s", [level_id])
        available = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM perf_floor_ledger WHERE stock_level_id = %s", [level_id])
        ledger = cursor.fetchone()[0]
    if units - available == ledger == created:
        return []
    return [f"floor: {units - available} units taken, {ledger} ledger rows, {created} answers 201"]


def flash_check(*, shop_id: int, level_id: int, units: int, created: int) -> list[str]:
    """A flash sale of `units`: exactly that many orders, each holding one locked unit, nothing left."""
    from orders.models import Order, StockLevel

    level = StockLevel.objects.get(pk=level_id)
    orders = Order.objects.filter(shop_id=shop_id).count()
    problems = []
    if not (orders == created == units):
        problems.append(f"flash sale of {units}: {orders} orders in the database, {created} answers 201")
    if (level.available, level.locked, level.occupied) != (0, units, 0):
        problems.append(f"flash sale stock: available {level.available}, locked {level.locked}, occupied {level.occupied}")
    return problems


def run_summary(runs: list[dict], label: str) -> dict:
    """The best run of a scenario (the machine is shared: other load only ever slows a run down) and totals."""
    figures = dict(max(runs, key=lambda r: r["rps"]))
    figures["label"] = label
    figures["all_rps"] = [r["rps"] for r in runs]
    figures["all_cpu_ms"] = [r["cpu_ms"] for r in runs]
    figures["requests_total"] = sum(r["requests"] for r in runs)
    figures["non_201_total"] = sum(r["non_201"] for r in runs)
    refused: dict[str, int] = {}
    for r in runs:
        for code, n in r["refused"].items():
            refused[code] = refused.get(code, 0) + n
    figures["refused_total"] = refused
    return figures


def benchmark_submit(
    *, env: dict, requests: int, repeat: int, threads: int, workers: int, sku_count: int, buyers, flash_buyers, log_dir: Path
) -> dict:
    """Rounds of: the floor, (a) one hot SKU, (b) many SKUs, (c) a flash sale, (d) refusals once sold out.

    Each round runs every scenario once, so the ratios to the floor compare runs a few seconds apart;
    the figures of each scenario are those of its best run (by requests/s), the ratios are per round.
    """
    from orders.models import Order, StockLevel

    plenty = requests * repeat + workers * 8 + 1000
    hot_shop, _wh, hot_skus = shop_with_skus(name="压测热卖店", sku_count=1, stock=plenty, code_prefix="HOT")
    wide_shop, _wh, wide_skus = shop_with_skus(name="压测百货店", sku_count=sku_count, stock=plenty, code_prefix="WIDE")
    initial = {lv.pk: lv.available for lv in StockLevel.objects.filter(sku__shop__in=[hot_shop, wide_shop])}
    floor_level, floor_units = floor_prepare()
    flash = [
        shop_with_skus(name=f"压测秒杀店{n}", sku_count=1, stock=FLASH_UNITS, code_prefix=f"FLASH{n}")
        for n in range(repeat)
    ]
    tokens = [b.api_token for b in buyers]
    flash_tokens = [b.api_token for b in flash_buyers]
    rng = random.Random(20240611)

    def orders(shop, sku_ids, who=tokens):
        return [(who[n % len(who)], order_body(shop.pk, sku_id)) for n, sku_id in enumerate(sku_ids)]

    floor_body = json.dumps({"stock_level_id": floor_level}).encode()
    scenarios = {
        "floor": ("/perf-floor/take", lambda r: [(None, floor_body)] * requests),
        # The same UPDATE and INSERT from a bare Django + django-ninja app (tests/perf/bare/): no project middleware.
        "bare": ("/perf-floor/take", lambda r: [(None, floor_body)] * requests),
        "a": ("/api/v1/orders", lambda r: orders(hot_shop, [hot_skus[0].pk] * requests)),
        "b": ("/api/v1/orders", lambda r: orders(wide_shop, [rng.choice(wide_skus).pk for _ in range(requests)])),
        # 2,000 different buyers for 100 units: each buyer asks once.
        "c": ("/api/v1/orders", lambda r: orders(flash[r][0], [flash[r][2][0].pk] * len(flash_tokens), flash_tokens)),
        # The same sold-out SKU asked for again: nothing but refusals.
        "d": ("/api/v1/orders", lambda r: orders(flash[r][0], [flash[r][2][0].pk] * requests, flash_tokens)),
    }
    labels = {
        "floor": "floor (one conditional UPDATE of the hot stock row + one INSERT)",
        "bare": "bare floor (the same from a bare Django + django-ninja app)",
        "a": "one hot SKU",
        "b": f"{sku_count} SKUs at random",
        "c": f"flash sale, {len(flash_tokens):,} buyers for {FLASH_UNITS} units",
        "d": "sold out: refusals",
    }
    runs: dict[str, list[dict]] = {key: [] for key in scenarios}
    server = Gunicorn(env={**env, **SERVER_ENV}, workers=workers, log_path=log_dir / "gunicorn.log", app="tests.perf.floor:application")
    bare = Gunicorn(
        env={**env, **SERVER_ENV}, workers=workers, log_path=log_dir / "gunicorn-bare.log", app="tests.perf.bare.wsgi:application",
        ready_path="/perf-floor/ready",
    )
    server_of = {key: bare if key == "bare" else server for key in scenarios}
    warm_created = {"floor": 0, "bare": 0, "a": 0, "b": 0}
    try:
        server.wait_ready()
        bare.wait_ready()
        log(f"gunicorn -w {workers} on 127.0.0.1:{server.port} (log {server.log_file.name}), the bare floor's on {bare.port}")
        # Warm-up outside the timing: each worker imports its views and loads the division tree once.
        for key in ("floor", "bare", "a", "b"):
            path, calls = scenarios[key]
            warm_created[key] = load_run(port=server_of[key].port, path=path, calls=calls(0)[: workers * 8], threads=threads)["created"]
        for round_no in range(repeat):
            for key, (path, calls) in scenarios.items():
                load = os.getloadavg()[0]
                redis_before = redis_connections_received(PERF_REDIS_URL)
                master = server_of[key].process.pid
                cpu_before = server_cpu_snapshot(master)
                run = load_run(
                    port=server_of[key].port, path=path, calls=calls(round_no), threads=FLASH_THREADS if key == "c" else threads
                )
                run["cpu_ms"] = cpu_between(cpu_before, server_cpu_snapshot(master)) * 1000 / run["requests"]
                redis_after = redis_connections_received(PERF_REDIS_URL)
                run["redis_connections"] = None if redis_before is None else redis_after - redis_before - 1
                run["load_before"] = load
                runs[key].append(run)
                answers = ", ".join(f"{k}: {n}" for k, n in sorted(run["answers"].items()))
                log(
                    f"{key} {labels[key]}, round {round_no + 1}/{repeat} (1-min load {load:.2f}): {run['rps']:.1f} req/s, "
                    f"p50 {run['p50_ms']:.0f} ms, p95 {run['p95_ms']:.0f} ms, server CPU {run['cpu_ms']:.2f} ms/request; {answers}"
                )
            floor_rps = runs["floor"][-1]["rps"]
            floor_cpu = runs["floor"][-1]["cpu_ms"]
            bare_rps, bare_cpu = runs["bare"][-1]["rps"], runs["bare"][-1]["cpu_ms"]
            log(
                f"round {round_no + 1}, against the bare floor: submission (a) {runs['a'][-1]['rps'] / bare_rps:.0%}, "
                f"sold-out refusals (d) {runs['d'][-1]['rps'] / bare_rps:.0%}; by server CPU per request, "
                f"(a) {bare_cpu / runs['a'][-1]['cpu_ms']:.0%}, (d) {bare_cpu / runs['d'][-1]['cpu_ms']:.0%}"
            )
            log(
                f"round {round_no + 1}: submission (a) is {runs['a'][-1]['rps'] / floor_rps:.0%} of the floor, "
                f"sold-out refusals (d) {runs['d'][-1]['rps'] / floor_rps:.0%}; by server CPU per request, "
                f"(a) {floor_cpu / runs['a'][-1]['cpu_ms']:.0%}, (b) {floor_cpu / runs['b'][-1]['cpu_ms']:.0%}, "
                f"(d) {floor_cpu / runs['d'][-1]['cpu_ms']:.0%}"
            )
    finally:
        server.stop()
        bare.stop()
        log("gunicorn stopped")

    results = {key: run_summary(r, labels[key]) for key, r in runs.items()}
    for key, shop in (("a", hot_shop), ("b", wide_shop)):
        created = warm_created[key] + sum(r["created"] for r in runs[key])
        in_db = Order.objects.filter(shop=shop).count()
        problems = stock_check(shop_id=shop.pk, initial=initial)
        if in_db != created:
            problems.append(f"{in_db} orders in the database but {created} answers 201")
        results[key]["orders_in_db"] = in_db
        results[key]["problems"] = problems
    # Both floors take units of the same stock row into the same ledger.
    results["floor"]["problems"] = floor_check(
        level_id=floor_level, units=floor_units,
        created=sum(warm_created[key] + sum(r["created"] for r in runs[key]) for key in ("floor", "bare")),
    )
    results["bare"]["problems"] = results["floor"]["problems"]
    flash_problems = []
    for round_no, (shop, _wh, skus) in enumerate(flash):
        created = runs["c"][round_no]["created"] + runs["d"][round_no]["created"]
        flash_problems += flash_check(shop_id=shop.pk, level_id=skus[0].stock_levels.get().pk, units=FLASH_UNITS, created=created)
        if runs["d"][round_no]["answers"] != {"409 out_of_stock": requests}:
            flash_problems.append(f"sold-out round {round_no + 1}: answers {runs['d'][round_no]['answers']}")
    results["c"]["problems"] = flash_problems
    results["c"]["orders_per_sale"] = [r["created"] for r in runs["c"]]
    results["d"]["problems"] = []
    results["ratios"] = {
        key: [run["rps"] / floor["rps"] for run, floor in zip(runs[key], runs["floor"])] for key in ("a", "b", "c", "d")
    }
    # The floor's server CPU per request over the scenario's, per round: the rate each would reach if CPU were all.
    results["cpu_ratios"] = {
        key: [floor["cpu_ms"] / run["cpu_ms"] for run, floor in zip(runs[key], runs["floor"])] for key in ("a", "b", "d")
    }
    results["bare_ratios"] = {
        key: [run["rps"] / floor["rps"] for run, floor in zip(runs[key], runs["bare"])] for key in ("floor", "a", "b", "d")
    }
    results["bare_cpu_ratios"] = {
        key: [floor["cpu_ms"] / run["cpu_ms"] for run, floor in zip(runs[key], runs["bare"])] for key in ("floor", "a", "b", "d")
    }
    for key, figures in results.items():
        for problem in figures.get("problems", [])[:10] if isinstance(figures, dict) else []:
            log(f"  ! {key}: {problem}")
    return results


# --- benchmark B: the deadline sweep over overdue unpaid orders -------------------------------------


def overdue_orders_create(*, count: int, sku_count: int, buyers) -> tuple:
    """`count` pending_payment orders past their pay deadline, one locked line each, with stock books that balance."""
    from decimal import Decimal

    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from orders.constants import LineStock
    from orders.models import Order, OrderLine, StockLevel

    stock_per_sku = (count // sku_count + 1) * 3 + 100
    shop, _wh, skus = shop_with_skus(name="压测超时店", sku_count=sku_count, stock=stock_per_sku, code_prefix="DUE")
    levels = {lv.sku_id: lv for lv in StockLevel.objects.filter(sku__shop=shop)}
    now = timezone.now()
    chunk = 5000
    for start in range(0, count, chunk):
        with transaction.atomic():
            batch = []
            for n in range(start, min(start + chunk, count)):
                quantity = 1 + n % 3
                created = now - dt.timedelta(hours=2, seconds=count - n)
                batch.append(
                    Order(
                        order_no=f"9{n:017d}",
                        shop=shop,
                        buyer=buyers[n % len(buyers)],
                        items_total=Decimal("59.90") * quantity,
                        payable=Decimal("59.90") * quantity,
                        recipient_name=ADDRESS["name"],
                        phone=ADDRESS["phone"],
                        province=ADDRESS["province"],
                        city=ADDRESS["city"],
                        district=ADDRESS["district"],
                        address_detail=ADDRESS["detail"],
                        created_at=created,
                        pay_deadline=created + dt.timedelta(minutes=30),
                    )
                )
            orders = Order.objects.bulk_create(batch, batch_size=1000)
            lines = []
            for order in orders:
                n = int(order.order_no[1:])
                sku = skus[n % sku_count]
                quantity = 1 + n % 3
                lines.append(
                    OrderLine(
                        order=order,
                        sku=sku,
                        stock_level=levels[sku.pk],
                        quantity=quantity,
                        unit_price=sku.price,
                        line_total=sku.price * quantity,
                        sku_code=sku.code,
                        product_name=sku.product.name,
                        spec=sku.spec,
                        product_snapshot={"product_id": sku.product_id, "name": sku.product.name, "price": str(sku.price)},
                        stock_state=LineStock.LOCKED,
                    )
                )
            OrderLine.objects.bulk_create(lines, batch_size=1000)
    locked = dict(
        OrderLine.objects.filter(order__shop=shop).values_list("stock_level_id").annotate(n=Sum("quantity")).order_by()
    )
    for level in levels.values():
        level.locked = locked.get(level.pk, 0)
        level.available = stock_per_sku - level.locked
    StockLevel.objects.bulk_update(list(levels.values()), ["available", "locked"])
    # Planner statistics as autovacuum would have them for a table this size: without them PostgreSQL still
    # believes the table is nearly empty and plans every batch as a bitmap scan plus a sort of all pending rows.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order, orders_orderline, orders_stocklevel, orders_orderevent")
    return shop, stock_per_sku


class QueryCounter:
    """Counts the SQL statements the default connection runs (connection.execute_wrapper)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def sweep_snapshot(shop) -> dict:
    from django.db.models import Count, Max, Sum

    from orders.models import Order, OrderEvent, OrderLine, StockLevel

    stock = StockLevel.objects.filter(sku__shop=shop).aggregate(a=Sum("available"), l=Sum("locked"), o=Sum("occupied"))
    return {
        "orders_updated_max": Order.objects.filter(shop=shop).aggregate(m=Max("updated_at"))["m"],
        "statuses": dict(Order.objects.filter(shop=shop).values_list("status").annotate(n=Count("pk")).order_by()),
        "events": OrderEvent.objects.filter(order__shop=shop).count(),
        "line_states": sorted(OrderLine.objects.filter(order__shop=shop).values_list("stock_state", flat=True).distinct()),
        "stock": stock,
    }


def sweep_timed() -> tuple[dict, float, int, tuple[float, float | None]]:
    """The sweep: what it applied, wall seconds, SQL statements, and CPU seconds (this process, its PostgreSQL backend)."""
    from django.db import connection
    from django.utils import timezone

    from shop_admin.kernel.deadlines import deadlines_sweep
    from tests.perf.procstat import backend_cpu

    counter = QueryCounter()
    server_before = backend_cpu()
    with connection.execute_wrapper(counter):
        client_before = time.process_time()
        started = time.perf_counter()
        applied = deadlines_sweep(now=timezone.now())
        seconds = time.perf_counter() - started
        client = time.process_time() - client_before
    server_after = backend_cpu()
    server = None if server_before is None or server_after is None else server_after - server_before
    return applied, seconds, counter.count, (client, server)


def benchmark_sweep(*, orders: int, sku_count: int, buyers) -> dict:
    from django.conf import settings
    from django.db.models import Count, Q

    from orders.constants import EventKind, LineStock, OrderStatus
    from orders.models import Order, OrderEvent, OrderLine, StockLevel

    started = time.perf_counter()
    shop, stock_per_sku = overdue_orders_create(count=orders, sku_count=sku_count, buyers=buyers)
    setup_seconds = time.perf_counter() - started
    log(f"B: {orders} overdue orders over {sku_count} SKUs created in {setup_seconds:.1f}s; sweeping")

    applied, seconds, queries, (cpu_client, cpu_server) = sweep_timed()
    problems = []
    cancelled = Order.objects.filter(shop=shop, status=OrderStatus.CANCELLED, cancelled_at__isnull=False).count()
    if cancelled != orders:
        problems.append(f"{cancelled} of {orders} orders cancelled")
    if applied.get("order_pay_timeout") != orders:
        problems.append(f"sweep reports {applied} applied, expected order_pay_timeout={orders}")
    for level in StockLevel.objects.filter(sku__shop=shop):
        if level.locked or level.occupied or level.available != stock_per_sku:
            problems.append(
                f"stock level {level.pk}: available {level.available}, locked {level.locked}, occupied {level.occupied} "
                f"(expected {stock_per_sku}/0/0)"
            )
    still_locked = OrderLine.objects.filter(order__shop=shop).exclude(stock_state=LineStock.RELEASED).count()
    if still_locked:
        problems.append(f"{still_locked} lines not released")
    events = OrderEvent.objects.filter(order__shop=shop, kind=EventKind.TRANSITION)
    per_order = events.values("order_id").annotate(n=Count("pk")).order_by()
    wrong = per_order.exclude(n=1).count()
    with_event = per_order.count()
    odd = events.exclude(Q(from_status=OrderStatus.PENDING_PAYMENT) & Q(to_status=OrderStatus.CANCELLED)).count()
    if with_event != orders or wrong or odd:
        problems.append(
            f"transition events: {with_event} orders have some, {wrong} have more than one, {odd} not pending->cancelled"
        )

    before = sweep_snapshot(shop)
    applied_again, seconds_again, queries_again, _cpu = sweep_timed()
    after = sweep_snapshot(shop)
    if any(applied_again.values()):
        problems.append(f"second sweep applied {applied_again}")
    if before != after:
        problems.append(f"second sweep changed the data: {before} -> {after}")
    result = {
        "orders": orders,
        "skus": sku_count,
        "setup_seconds": setup_seconds,
        "seconds": seconds,
        "orders_per_s": orders / seconds,
        "queries": queries,
        "cpu_client": cpu_client,
        "cpu_server": cpu_server,
        "batch_size": settings.SWEEP_BATCH_SIZE,
        "batch_ms": seconds / max(1, -(-orders // settings.SWEEP_BATCH_SIZE)) * 1000,
        "applied": applied,
        "again_applied": applied_again,
        "again_seconds": seconds_again,
        "again_queries": queries_again,
        "events": with_event,
        "problems": problems,
    }
    log(
        f"B: sweep cancelled {applied.get('order_pay_timeout')} in {seconds:.2f}s ({orders / seconds:,.0f} orders/s, "
        f"{queries} queries; CPU s: Python {cpu_client:.2f}, PostgreSQL backend "
        f"{'-' if cpu_server is None else f'{cpu_server:.2f}'}); again: {applied_again} in {seconds_again * 1000:.0f} ms; "
        f"{'consistent' if not problems else 'INCONSISTENT'}"
    )
    for problem in problems[:10]:
        log(f"  ! {problem}")
    return result


# --- the machine and the summary -----------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    memory = next((ln.split()[1] for ln in free if ln.startswith("Mem:")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    if changed:
        commit += f" plus {len(changed)} uncommitted changed or new paths"
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return {
        "date": STARTED_AT,
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": pg,
        "commit": commit or "?",
    }


def summary_rows(a: dict, b: dict, args) -> list[tuple[str, str]]:
    def runs(r):
        return f"{r['rps']:.1f} (runs: {', '.join(f'{x:.1f}' for x in r['all_rps'])})"

    def ratios(key, which="ratios"):
        values = a[which][key]
        return f"{max(values):.0%} (rounds: {', '.join(f'{x:.0%}' for x in values)})"

    def cpu(r):
        return f"{min(r['all_cpu_ms']):.2f} (runs: {', '.join(f'{x:.2f}' for x in r['all_cpu_ms'])})"

    floor = a["floor"]
    rows = [
        ("F floor, one conditional UPDATE of the hot stock row + one INSERT: requests/s (best run)", runs(floor)),
        ("F latency p50 / p95 / p99 (ms), best run", f"{floor['p50_ms']:.0f} / {floor['p95_ms']:.0f} / {floor['p99_ms']:.0f}"),
        ("F server CPU per request (ms; gunicorn + PostgreSQL backends)", cpu(floor)),
        ("F non-201 answers, all runs; units taken = ledger rows = 201s", f"{floor['non_201_total']} of {floor['requests_total']}; "
         + ("consistent" if not floor["problems"] else f"INCONSISTENT ({floor['problems'][0]})")),
    ]
    for key in ("a", "b"):
        r = a[key]
        rows += [
            (f"A{key} submit, {r['label']}: requests/s (best run)", runs(r)),
            (f"A{key} / floor, same round (best round)", ratios(key)),
            (f"A{key} server CPU per request (ms)", cpu(r)),
            (f"A{key}: floor CPU / its CPU, same round", ratios(key, "cpu_ratios")),
            (f"A{key} latency p50 / p95 / p99 (ms), best run", f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} / {r['p99_ms']:.0f}"),
            (
                f"A{key} non-201 answers, all runs",
                f"{r['non_201_total']} of {r['requests_total']}" + (f" ({r['refused_total']})" if r["refused_total"] else ""),
            ),
            (
                f"A{key} new Redis connections, best run",
                "?" if r["redis_connections"] is None else f"{r['redis_connections']:,} for {r['requests']:,} orders",
            ),
            (
                f"A{key} stock afterwards ({r['orders_in_db']:,} orders)",
                "consistent" if not r["problems"] else f"INCONSISTENT ({len(r['problems'])})",
            ),
        ]
    bare = a["bare"]
    rows += [
        ("F0 bare floor, the same from bare Django + django-ninja (no project middleware): requests/s (best run)", runs(bare)),
        ("F0 server CPU per request (ms)", cpu(bare)),
        ("F0 latency p50 / p95 / p99 (ms), best run", f"{bare['p50_ms']:.0f} / {bare['p95_ms']:.0f} / {bare['p99_ms']:.0f}"),
        ("F0 non-201 answers, all runs", f"{bare['non_201_total']} of {bare['requests_total']}"),
        ("F / bare floor, same round (best round); by CPU", f"{ratios('floor', 'bare_ratios')}; {ratios('floor', 'bare_cpu_ratios')}"),
        ("Aa / bare floor, same round (best round); by CPU", f"{ratios('a', 'bare_ratios')}; {ratios('a', 'bare_cpu_ratios')}"),
        ("Ab / bare floor, same round (best round); by CPU", f"{ratios('b', 'bare_ratios')}; {ratios('b', 'bare_cpu_ratios')}"),
        ("D / bare floor, same round (best round); by CPU", f"{ratios('d', 'bare_ratios')}; {ratios('d', 'bare_cpu_ratios')}"),
    ]
    c, d = a["c"], a["d"]
    rows += [
        (f"C {c['label']}: orders per sale", ", ".join(str(n) for n in c["orders_per_sale"])
         + ("; stock consistent" if not c["problems"] else f"; INCONSISTENT ({c['problems'][0]})")),
        ("C flash sale: requests/s (best run), all answers", f"{runs(c)}; {c['answers']}"),
        ("C latency p50 / p95 / p99 (ms), best run", f"{c['p50_ms']:.0f} / {c['p95_ms']:.0f} / {c['p99_ms']:.0f}"),
        ("D sold out, refusals: requests/s (best run)", runs(d)),
        ("D / floor, same round (best round)", ratios("d")),
        ("D server CPU per request (ms)", cpu(d)),
        ("D: floor CPU / its CPU, same round", ratios("d", "cpu_ratios")),
        ("D latency p50 / p95 / p99 (ms), best run", f"{d['p50_ms']:.0f} / {d['p95_ms']:.0f} / {d['p99_ms']:.0f}"),
    ]
    if b is None:
        return rows
    rows += [
        (f"B setup: {b['orders']:,} overdue orders (bulk_create)", f"{b['setup_seconds']:.1f} s"),
        ("B sweep: seconds", f"{b['seconds']:.2f} ({b['batch_ms']:.0f} ms per batch of {b['batch_size']})"),
        (
            "B sweep: CPU seconds, Python / its PostgreSQL backend",
            f"{b['cpu_client']:.2f} / " + ("-" if b["cpu_server"] is None else f"{b['cpu_server']:.2f}"),
        ),
        ("B sweep: orders cancelled per second", f"{b['orders_per_s']:,.0f}"),
        ("B sweep: SQL statements", f"{b['queries']:,} ({b['queries'] / max(1, b['orders'] / b['batch_size']):.1f} per batch)"),
        (
            "B after the sweep (cancelled, events, stock)",
            "consistent" if not b["problems"] else f"INCONSISTENT ({len(b['problems'])})",
        ),
        (
            "B second sweep: applied / time",
            f"{sum(b['again_applied'].values())} / {b['again_seconds'] * 1000:.0f} ms"
            + (", nothing changed" if not b["problems"] else f" ({b['again_applied']})"),
        ),
    ]
    return rows


def table(rows: list[tuple[str, str]], header=("figure", "value")) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def readme_write(*, m: dict, rows: list[tuple[str, str]], args) -> None:
    machine_rows = [
        ("date (`date`)", m["date"]),
        ("CPU (/proc/cpuinfo)", m["cpu"]),
        ("cores (`nproc`)", m["nproc"]),
        ("memory (`free -h`, total)", m["memory"]),
        ("software", f"Python {m['python']}, Django {m['django']}, PostgreSQL {m['postgres']}"),
        ("commit", m["commit"]),
        ("load average at start (1 / 5 / 15 min)", " / ".join(f"{x:.2f}" for x in STARTED_LOAD)),
        ("sizes", f"--requests {args.requests} --repeat {args.repeat} --threads {args.threads} "
                  f"--workers {args.workers} --orders {args.orders}"),
    ]
    section = f"""{README_BEGIN}
## Order submission and the deadline sweep (`run.py`)

`tests/perf/run.py` measures the two hot paths of the order spine on PostgreSQL
and checks that the books still balance afterwards. It asserts nothing about
time (it is not collected by pytest); it exits 1 only if stock or the audit
trail is inconsistent. Run it with `make perf`, which runs
`DATABASE_URL=${{DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}} .venv/bin/python tests/perf/run.py`:
DATABASE_URL only names the server, the runner drops and recreates its own
database `shop_perf` there, migrates it and works in it, and uses Redis database
14 (`PERF_REDIS_URL`), which it empties before and after; `shop_perf` is left
for inspection until the next run drops it. A full run takes about four minutes
on a quiet machine (about fifteen on a busy one); `--requests N`, `--repeat N` and `--orders N` make it
smaller (smaller runs print their figures but leave this file alone unless
`--readme`).

- **F, the floor**: `tests/perf/floor.py` is the WSGI application gunicorn serves in
  this benchmark (never in production): the project itself plus one bare
  django-ninja endpoint, `POST /perf-floor/take`, that in one transaction takes one
  unit of its own hot stock row (`UPDATE ... SET available = available - 1 WHERE
  id = %s AND available >= 1`, refused unless exactly one row matched) and INSERTs
  one ledger row. Same gunicorn, workers, middleware and database as the orders:
  what a submission costs beyond it is the order spine's own. Afterwards units
  taken = ledger rows = answers 201.
- **F0, the bare floor**: the same UPDATE and INSERT from `tests/perf/bare/`, a Django +
  django-ninja app as a team would write it from scratch (no project middleware, apps or
  templates; the same database and persistent connections), served by a second gunicorn with as
  many workers, in the same rounds. Its units go to the same stock row and ledger as F's.
- **A, order submission**: gunicorn (`-w {args.workers}`, sync workers, `DJANGO_ENV=production`
  as deployed: DEBUG off, so no query log, behind a TLS proxy, which the client's
  `X-Forwarded-Proto: https` stands for; the floor runs in the same application under the same
  settings) on a free loopback port; {args.threads} client threads (stdlib
  `http.client`, a new connection per request) send `POST /api/v1/orders` with
  one line of quantity 1, as {BUYERS} buyers in turn. (a) every order takes the
  same SKU (one stock row, plenty of stock); (b) each order takes one of
  {WIDE_SKUS:,} SKUs at random. The runner goes {args.repeat} rounds; each round
  runs F, F0, Aa, Ab, C and D once with {args.requests:,} requests (C: one per flash
  buyer), so a ratio to the floor compares runs seconds apart. The table gives
  each scenario's best run (other load on the machine only ever slows a run
  down), the requests/s of every run and the ratio to the floor per round.
  Latency is measured at the client, queueing included. A warm-up of {args.workers * 8}
  requests of F, Aa and Ab is not timed. Afterwards, for every stock row: initial =
  available + locked, locked = the quantities of the pending orders' lines,
  nothing negative.
  "Server CPU per request" is the user + system CPU of gunicorn (master and workers) and of
  the PostgreSQL backends serving the runner's database over the run (/proc), divided by its
  requests; "floor CPU / its CPU" is the rate the scenario would reach against the floor if CPU
  were all that limited both. On a shared machine it varies far less than requests/s.
  "New Redis connections" is Redis' `total_connections_received` over the run
  (server-wide, so other clients of that Redis count too): each submitted order
  schedules its pay-timeout job, and this shows whether that reuses a connection.
- **C, a flash sale (直播秒杀)**: {FLASH_BUYERS:,} buyers, each asking once for one
  unit of a SKU with {FLASH_UNITS} units, from {FLASH_THREADS} client threads; a fresh
  SKU each round. Exactly {FLASH_UNITS} orders must be created, the rest answered 409
  `out_of_stock`, the stock row left at available 0 / locked {FLASH_UNITS}.
- **D, sold out**: {args.requests:,} more orders for the sold-out SKU of that round's
  sale. Sold out is read from the stock row's committed count without a lock
  (`orders.services.stock.stock_short_lines`), before any write, so a refusal is
  the buyer's token read, the rate-limit script in Redis and one read, and no
  transaction; every answer must be 409 `out_of_stock`.
- **B, the deadline sweep**: {args.orders:,} `pending_payment` orders whose pay deadline
  has passed, one locked line each (quantity 1 to 3) over {DUE_SKUS} SKUs, with stock
  rows whose locked counts match, are bulk-created and `ANALYZE`d (the planner
  statistics autovacuum would have; without them each batch's due query becomes a
  bitmap scan plus an on-disk sort of every pending row and the sweep took 1.7
  times as long); then `shop_admin.kernel.deadlines.deadlines_sweep(now=timezone.now())`
  runs in-process, counting its SQL statements.
  Afterwards every order is cancelled with exactly one pending_payment ->
  cancelled event, every stock row is back to locked 0 and available = its
  initial total; a second sweep applies nothing and changes nothing.

The client, gunicorn and PostgreSQL share the machine below (two cores), and
other work may have been running on it (the load average when the runner
started is in the table), so read the figures as an order of magnitude.

### Machine

{table(machine_rows, ("what", "reading"))}

### Figures

{table(rows)}
{README_END}
"""
    # Only this runner's section is rewritten: other benchmarks keep theirs in the same file.
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if README_BEGIN in text and README_END in text:
        head, rest = text.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")
    log(f"figures recorded in {README.relative_to(ROOT)}")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    positive = positive_int
    parser.add_argument("--requests", type=positive, default=DEFAULT_REQUESTS, help="orders per API run (default %(default)s)")
    parser.add_argument("--orders", type=positive, default=DEFAULT_ORDERS, help="overdue orders to sweep (default %(default)s)")
    parser.add_argument("--repeat", type=positive, default=3, help="timed runs per API scenario (default %(default)s)")
    parser.add_argument("--threads", type=positive, default=16, help="client threads (default %(default)s)")
    parser.add_argument("--workers", type=positive, default=4, help="gunicorn workers (default %(default)s)")
    parser.add_argument(
        "--sweep", action=argparse.BooleanOptionalAction, default=True, help="run benchmark B, the sweep (default: yes)"
    )
    parser.add_argument("--db", default="shop_perf", help="the runner's own database, dropped and recreated (default %(default)s)")
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record the figures in tests/perf/README.md (default: only at the default sizes)",
    )
    args = parser.parse_args()

    perf_url = database_recreate(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), args.db)
    os.environ["DATABASE_URL"] = perf_url
    os.environ["REDIS_URL"] = PERF_REDIS_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop_admin.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # 32 buyers send thousands of orders in seconds: far past the per-buyer submission limit a person never reaches.
    os.environ.setdefault("API_RATE_LIMIT_ORDER_SUBMIT", "1000000/s")
    env = dict(os.environ)
    log(f"database {args.db} recreated; migrating")
    log(f"migrated in {migrate(env):.1f}s")
    redis_flush(PERF_REDIS_URL)
    django_setup()

    log_dir = Path(os.environ.get("PERF_LOG_DIR", "/tmp")) / f"shop_perf_{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        buyers = buyers_create(BUYERS)
        a = benchmark_submit(
            env=env,
            requests=args.requests,
            repeat=args.repeat,
            threads=args.threads,
            workers=args.workers,
            sku_count=WIDE_SKUS,
            buyers=buyers,
            flash_buyers=buyers_create(FLASH_BUYERS, prefix="perf-flash-buyer"),
            log_dir=log_dir,
        )
        b = benchmark_sweep(orders=args.orders, sku_count=DUE_SKUS, buyers=buyers) if args.sweep else None
    finally:
        redis_flush(PERF_REDIS_URL)

    m = machine()
    rows = summary_rows(a, b, args)
    width = max(len(k) for k, _v in rows)
    print()
    print(f"Summary ({m['date']}; {m['cpu']}, {m['nproc']} cores, {m['memory']})")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
    sizes = (args.requests, args.orders, args.repeat, args.threads, args.workers)
    defaults = sizes == (DEFAULT_REQUESTS, DEFAULT_ORDERS, 3, 16, 4) and args.sweep
    if args.readme or (args.readme is None and defaults):
        readme_write(m=m, rows=rows, args=args)
    consistent = not (a["a"]["problems"] or a["b"]["problems"] or a["c"]["problems"] or a["floor"]["problems"] or (b and b["problems"]))
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())
