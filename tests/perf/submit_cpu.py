"""CPU per order submission, in-process: the WSGI application called directly, as gunicorn would, many times.

Not a rate benchmark (that is `run.py`): this measures what one request costs the server, the CPU of
this process (`time.process_time`, which other work on the machine does not inflate) plus that of
its PostgreSQL backend (/proc), for (a) a submission of one hot SKU, (d) a sold-out refusal and
(F) the floor endpoint of `floor.py`, in the same settings the benchmark serves with
(DJANGO_ENV=production, DEBUG off, persistent connections). Rounds alternate the scenarios so
that a neighbour's load spreads over all of them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test PERF_REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python tests/perf/submit_cpu.py --db shop_cpu --requests 500 --rounds 5

`--reuse` keeps the database of an earlier run (skips recreate and migrate), so two checkouts can be
compared against one database by running this script from each in turn. `--profile a` runs
scenario (a) under pyinstrument instead of measuring.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.procstat import backend_cpu  # noqa: E402  after the path that makes `tests` importable
from tests.perf.run import ADDRESS, SERVER_ENV, database_recreate, migrate, redis_flush  # noqa: E402


def fixtures() -> dict:
    from orders.models import Buyer, StockLevel
    from tests.perf.run import buyers_create, floor_prepare, shop_with_skus

    if Buyer.objects.filter(name__startswith="cpu-buyer").exists():
        hot = (
            StockLevel.objects.filter(sku__code="CPUHOT-00000")
            .select_related("sku")
            .get()
        )
        sold = (
            StockLevel.objects.filter(sku__code="CPUSOLD-00000")
            .select_related("sku")
            .get()
        )
        buyers = list(Buyer.objects.filter(name__startswith="cpu-buyer").order_by("pk"))
        floor_level = (
            StockLevel.objects.filter(sku__code="FLOOR-00000")
            .values_list("pk", flat=True)
            .first()
        )
    else:
        _shop, _wh, hot_skus = shop_with_skus(
            name="CPU热卖店", sku_count=1, stock=10_000_000, code_prefix="CPUHOT"
        )
        _shop, _wh, sold_skus = shop_with_skus(
            name="CPU售罄店", sku_count=1, stock=0, code_prefix="CPUSOLD"
        )
        hot = StockLevel.objects.select_related("sku").get(sku=hot_skus[0])
        sold = StockLevel.objects.select_related("sku").get(sku=sold_skus[0])
        buyers = buyers_create(32, prefix="cpu-buyer")
        floor_level = None
    if floor_level is None:
        floor_level, _units = floor_prepare()
    StockLevel.objects.filter(pk=floor_level).update(available=10_000_000)
    return {
        "hot": hot,
        "sold": sold,
        "tokens": [b.api_token for b in buyers],
        "floor_level": floor_level,
    }


def environ_for(path: str, token: str | None, body: bytes) -> dict:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def call(application, path: str, token: str | None, body: bytes) -> str:
    status = []
    result = application(
        environ_for(path, token, body), lambda s, h, exc_info=None: status.append(s)
    )
    try:
        for _chunk in result:
            pass
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0].split()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="shop_cpu")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--profile", choices=["a", "d", "floor"])
    parser.add_argument("--cprofile", choices=["a", "d", "floor"])
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if args.reuse:
        url = urlunparse(urlparse(server)._replace(path=f"/{args.db}"))
    else:
        url = database_recreate(server, args.db)
    os.environ.update(SERVER_ENV)
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = os.environ.get(
        "PERF_REDIS_URL", "redis://127.0.0.1:6379/14"
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["API_RATE_LIMIT_ORDER_SUBMIT"] = "1000000/s"
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop_admin.settings"
    if not args.reuse:
        migrate(dict(os.environ))
        redis_flush(os.environ["REDIS_URL"])

    from tests.perf.floor import application  # sets Django up, production settings

    f = fixtures()
    hot, sold = f["hot"], f["sold"]

    def body(level) -> bytes:
        return json.dumps(
            {
                "shop_id": level.sku.shop_id,
                "items": [{"sku_id": level.sku_id, "quantity": 1}],
                "address": ADDRESS,
            }
        ).encode()

    floor_body = json.dumps({"stock_level_id": f["floor_level"]}).encode()
    scenarios = {
        "floor": ("/perf-floor/take", None, floor_body, "201"),
        "a": ("/api/v1/orders", "tokens", body(hot), "201"),
        "d": ("/api/v1/orders", "tokens", body(sold), "409"),
    }
    tokens = f["tokens"]

    def run(key: str, n: int) -> None:
        path, who, payload, expect = scenarios[key]
        for i in range(n):
            got = call(
                application, path, tokens[i % len(tokens)] if who else None, payload
            )
            if got != expect:
                raise SystemExit(f"{key}: answered {got}, expected {expect}")

    for key in scenarios:  # warm-up: imports, first connection, caches
        run(key, 50)
    if args.profile or args.cprofile:
        key = args.profile or args.cprofile
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            run(key, args.requests)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        else:
            import cProfile
            import pstats

            profile = cProfile.Profile(time.process_time)
            profile.enable()
            run(key, args.requests)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats(os.environ.get("SORT", "tottime")).print_stats(
                int(os.environ.get("TOP", "45"))
            )
        return 0

    figures: dict[str, list[tuple[float, float]]] = {key: [] for key in scenarios}
    for _round in range(args.rounds):
        for key in scenarios:
            pg = backend_cpu() or 0.0
            cpu = time.process_time()
            run(key, args.requests)
            cpu = time.process_time() - cpu
            pg = (backend_cpu() or 0.0) - pg
            figures[key].append((cpu * 1000 / args.requests, pg * 1000 / args.requests))
    print(
        f"{args.requests} requests x {args.rounds} rounds; load {os.getloadavg()[0]:.2f}; ms CPU per request (median of rounds)"
    )
    floor_total = statistics.median(p + b for p, b in figures["floor"])
    for key, runs in figures.items():
        python = statistics.median(p for p, _b in runs)
        postgres = statistics.median(b for _p, b in runs)
        total = statistics.median(p + b for p, b in runs)
        print(
            f"  {key:5s} python {python:.3f}  postgres {postgres:.3f}  total {total:.3f}  "
            f"(floor/total {floor_total / total:.0%}; rounds {' '.join(f'{p + b:.2f}' for p, b in runs)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
