"""Order submissions and console order-list views straight to PostgreSQL and through PgBouncer (transaction mode), with
the hot paths' prepared statements on and off: which setting to run behind the pooler, measured.

    PERF_REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python tests/perf/pgbouncer.py --requests 300 --threads 4

A throw-away primary and a PgBouncer in front of it (tests/pgcluster.py), migrated once; each configuration runs in
a process of its own (settings are read at start), `--threads` threads each with its own connection kept, calling
the WSGI application in-process (Django's test client) so the figures are the database path's, not a web server's.
Each thread alternates a submission (POST /api/v1/orders) and a console order list (GET /orders/, whose session, user
and membership reads are the prepared statements). The figures go to tests/perf/README.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CONFIGURATIONS = (
    ("direct", "1"),
    ("direct", "0"),
    ("pgbouncer", "0"),
    ("pgbouncer", "1"),  # expected to fail on PgBouncer < 1.21 and on any version with SQL PREPARE: shown, not advised
)


def child(requests: int, threads: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    django.setup()
    from django.db import connection
    from django.test import Client

    from tests import factories
    from tests.concurrency import close_thread_connections

    run = os.getpid()  # each configuration's process writes its own rows into the one database
    shop = factories.make_shop(f"池测{run}")
    sku = factories.make_sku(shop, stock=1_000_000, code=f"POOL-{run}")
    owner = factories.make_member(shop, username=f"pool-owner-{run}")
    buyers = [factories.make_buyer(f"pool-buyer-{run}-{n}") for n in range(threads)]
    connection.close()

    def one_thread(index: int) -> tuple[list[float], list[float], list[str]]:
        api, console = Client(), Client()
        console.force_login(owner)
        headers = {"Authorization": f"Bearer {buyers[index].api_token}"}
        payload = json.dumps(factories.order_payload(shop, (sku, 1)))
        submits, lists, errors = [], [], []
        for _ in range(requests // threads // 2):
            started = time.perf_counter()
            try:
                answer = api.post("/api/v1/orders", data=payload, content_type="application/json", headers=headers)
                ok = answer.status_code == 201
            except Exception as exc:  # a lost prepared statement raises; count it as an error
                ok, answer = False, exc
            submits.append(time.perf_counter() - started)
            if not ok:
                errors.append(str(getattr(answer, "content", answer))[:200])
            started = time.perf_counter()
            try:
                ok = console.get("/orders/").status_code == 200
            except Exception as exc:
                ok, answer = False, exc
                errors.append(str(exc)[:200])
            lists.append(time.perf_counter() - started)
        return submits, lists, errors

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        results = list(pool.map(one_thread, range(threads)))
        elapsed = time.perf_counter() - started
        close_thread_connections(pool, threads)
    submits = [s for r in results for s in r[0]]
    lists = [s for r in results for s in r[1]]
    errors = [e for r in results for e in r[2]]
    ms = lambda values, q: round(statistics.quantiles(values, n=20)[q] * 1000, 1)  # noqa: E731
    return {
        "requests": len(submits) + len(lists), "per_s": round((len(submits) + len(lists)) / elapsed, 1),
        "submit_p50": ms(submits, 9), "submit_p95": ms(submits, 18), "list_p50": ms(lists, 9), "list_p95": ms(lists, 18),
        "errors": len(errors), "first_error": errors[0] if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per configuration")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="each configuration this many times, interleaved")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.requests, args.threads)))
        return

    from tests.pgcluster import Servers

    servers = Servers("perf-pgbouncer-")
    try:
        primary = servers.primary()
        pooler = f"postgres://postgres@127.0.0.1:{servers.pgbouncer(primary)}/shop"
        base_env = {**os.environ, "REDIS_URL": os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/13"),
                    "DJANGO_ENV": "development", "DB_CONN_MAX_AGE": "600"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True,
                       env={**base_env, "DATABASE_URL": primary.url()})
        version = subprocess.run(["/usr/sbin/pgbouncer", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"{version}; PostgreSQL {primary.url()}; {args.requests} requests x {args.threads} threads per run")
        figures: dict[tuple, list[dict]] = {}
        for _round in range(args.rounds):
            for route, prepared in CONFIGURATIONS:
                env = {**base_env, "DATABASE_URL": pooler if route == "pgbouncer" else primary.url(), "DB_PREPARED_STATEMENTS": prepared}
                done = subprocess.run([sys.executable, __file__, "--child", "--requests", str(args.requests), "--threads", str(args.threads)],
                                      cwd=ROOT, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    figures.setdefault((route, prepared), []).append({"errors": "run failed", "first_error": done.stderr[-300:]})
                    continue
                figures.setdefault((route, prepared), []).append(json.loads(done.stdout.strip().splitlines()[-1]))
        print("| route | prepared | requests/s | submit p50 / p95 (ms) | list p50 / p95 (ms) | errors |")
        print("| --- | --- | --- | --- | --- | --- |")
        for (route, prepared), runs in figures.items():
            good = [r for r in runs if "per_s" in r]
            if not good:
                print(f"| {route} | {prepared} | - | - | - | {runs[0]['first_error']!r} |")
                continue
            med = lambda key, good=good: statistics.median(r[key] for r in good)  # noqa: E731
            errors = sum(r["errors"] for r in good)
            first = next((r["first_error"] for r in good if r["first_error"]), "")
            print(f"| {route} | {prepared} | {med('per_s')} | {med('submit_p50')} / {med('submit_p95')} | "
                  f"{med('list_p50')} / {med('list_p95')} | {errors} {first[:120]!r} |")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
