"""Benchmark B of `run.py` alone: the deadline sweep over N overdue unpaid orders, optionally profiled.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python tests/perf/sweep.py --orders 20000
    ... tests/perf/sweep.py --orders 100000 --reuse --profile /tmp/sweep.html

The same setup, sweep and checks as `run.py` (`benchmark_sweep`), in the runner's own database
(`shop_perf_sweep` unless `--db`), dropped and recreated. With `--reuse` the overdue orders are made
once into a template database (`<db>_tpl_<orders>`) and each run clones it, so a run costs the sweep,
not the 30 s of setup; `--fresh` rebuilds the template (after a migration, say). `--profile FILE` runs
the sweep under pyinstrument (in requirements.txt) and writes
its HTML there. Exits 1 if the books do not balance afterwards.
"""
import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.perf import run  # noqa: E402


def _admin(server_url: str):
    import psycopg

    parsed = urlparse(server_url)
    return psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True), parsed


def _exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=run.positive_int, default=20_000, help="overdue orders to sweep (default %(default)s)")
    parser.add_argument("--db", default="shop_perf_sweep", help="the runner's own database, dropped and recreated")
    parser.add_argument("--reuse", action="store_true", help="clone the overdue orders from a template database made once")
    parser.add_argument("--fresh", action="store_true", help="with --reuse: rebuild the template database")
    parser.add_argument("--batch", type=run.positive_int, help="SWEEP_BATCH_SIZE for this run (default: the setting)")
    parser.add_argument("--profile", metavar="HTML", help="profile the sweep with pyinstrument, write the report here")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", run.DEFAULT_DATABASE_URL)
    template = f"{args.db}_tpl_{args.orders}"
    conn, parsed = _admin(server)
    cloned = False
    with conn:
        if args.reuse and not args.fresh and _exists(conn, template):
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.db}" TEMPLATE "{template}"')
            cloned = True
    perf_url = urlunparse(parsed._replace(path=f"/{args.db}")) if cloned else run.database_recreate(server, args.db)
    os.environ["DATABASE_URL"] = perf_url
    os.environ["REDIS_URL"] = run.PERF_REDIS_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop_admin.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not cloned:
        run.log(f"database {args.db} recreated; migrated in {run.migrate(dict(os.environ)):.1f}s")
    run.redis_flush(run.PERF_REDIS_URL)
    run.django_setup()
    if args.batch:
        from django.conf import settings

        settings.SWEEP_BATCH_SIZE = args.batch

    from django.db import connection

    from orders.models import Order

    if cloned:
        run.log(f"database {args.db} cloned from {template}")
        shop = Order.objects.order_by().values_list("shop", flat=True).first()
        _profile_first_sweep(args.profile)
        result = _sweep_checked(shop_id=shop, orders=args.orders)
    else:
        buyers = run.buyers_create(run.BUYERS)
        if args.reuse:
            started = time.perf_counter()
            shop, _stock = run.overdue_orders_create(count=args.orders, sku_count=run.DUE_SKUS, buyers=buyers)
            run.log(f"B: {args.orders} overdue orders created in {time.perf_counter() - started:.1f}s; saving {template}")
            connection.close()
            with _admin(server)[0] as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
                admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{args.db}"')
            _profile_first_sweep(args.profile)
            result = _sweep_checked(shop_id=shop.pk, orders=args.orders)
        else:
            _profile_first_sweep(args.profile)
            result = run.benchmark_sweep(orders=args.orders, sku_count=run.DUE_SKUS, buyers=buyers)
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in run.STARTED_LOAD)}; now: {os.getloadavg()[0]:.2f}")
    return 1 if result["problems"] else 0


def _profile_first_sweep(path: str | None) -> None:
    """Run the first sweep of benchmark_sweep (the timed one, not the checks or the second sweep) under pyinstrument."""
    if not path:
        return
    from pyinstrument import Profiler

    timed = run.sweep_timed

    def profiled():
        run.sweep_timed = timed  # the second sweep runs bare
        profiler = Profiler(interval=0.002)
        profiler.start()
        try:
            return timed()
        finally:
            profiler.stop()
            Path(path).write_text(profiler.output_html())
            print(profiler.output_text(unicode=True, color=False)[:15000])

    run.sweep_timed = profiled


def _sweep_checked(*, shop_id: int, orders: int) -> dict:
    """The sweep of an existing database (cloned), with benchmark_sweep's checks: its own setup is skipped."""
    from shop_admin.kernel.models import Shop

    shop = Shop.objects.get(pk=shop_id)
    original = run.overdue_orders_create
    try:
        # benchmark_sweep creates its orders first; here they exist already, so hand it the shop and its stock per SKU.
        run.overdue_orders_create = lambda **_kw: (shop, (orders // run.DUE_SKUS + 1) * 3 + 100)
        return run.benchmark_sweep(orders=orders, sku_count=run.DUE_SKUS, buyers=None)
    finally:
        run.overdue_orders_create = original


if __name__ == "__main__":
    sys.exit(main())
