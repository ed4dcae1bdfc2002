"""Benchmark of the CSV import and export, side by side with django-import-export's own resources, same file, same database.

Run from the project root (not collected by pytest):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python tests/perf/csv_bench.py [--import-lines N] [--export-lines N]

DATABASE_URL only names the server: the runner drops and recreates its own database
`shop_perf_csv` there and migrates it. Each measurement runs in a fresh subprocess, so
its peak memory (VmHWM, its own address space) is its own. Scenarios:

- import, ours: `orders_import_apply` (every row checked, stock occupied, one event per
  order, all in one transaction) of a file of N lines, one order per line, 50 SKUs;
- import, django-import-export tuned bulk: a ModelResource of Order over the same file
  with `use_bulk`, `skip_diff`, `force_init_instance` (it validates nothing, writes
  neither lines nor stock nor events);
- the COPY floor, twice (each in its own copy of the database as it was before the imports): the very rows
  import_ours wrote (the import buyer, orders, lines, payments, ledger entries, events), dumped with COPY TO and
  written back with COPY FROM in one transaction, no Python per row. `copy_floor` with the foreign keys
  checked as they are in production; `copy_floor_no_fk` with `session_replication_role = replica` (superuser
  only: what dropping the constraints would buy). The issue names COPY as the ceiling to aim at: this is it;
- export, ours: `order_export_write` to a file (what the job and the command do: PostgreSQL's COPY of the
  contract's cells computed in SQL, streamed);
- export, django-import-export default: `modelresource_factory(OrderLine)().export()`
  then `.csv`, written to a file.

It prints the figures; with --readme it writes them into tests/perf/README.md.
"""
import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
README = Path(__file__).resolve().parent / "README.md"
DB_NAME = "shop_perf_csv"
FLOOR_DBS = {"copy_floor": f"{DB_NAME}_floor", "copy_floor_no_fk": f"{DB_NAME}_floor_nofk"}
# What the import writes, parents first, and which of each table's rows are the import's.
FLOOR_TABLES = {
    "orders_buyer": "name LIKE 'csv-import-%%'",
    "orders_order": "true",
    "orders_orderline": "true",
    "orders_payment": "true",
    "orders_ledgerentry": "true",
    "orders_orderevent": "true",
}
BEGIN = "<!-- tests/perf/csv_bench.py: begin -->"
END = "<!-- tests/perf/csv_bench.py: end -->"
SKUS = 50
sys.path.insert(0, str(ROOT))
from tests.perf.procstat import backend_cpu  # noqa: E402


def database_url() -> str:
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parsed = urlparse(server)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit("csv_bench: DATABASE_URL must point at PostgreSQL")
    return urlunparse(parsed._replace(path=f"/{DB_NAME}"))


def database_recreate(url: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True)


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    import django

    django.setup()


def floor_databases_create(url: str) -> None:
    """The database as it is before any import, copied once per floor scenario (the source must have no session)."""
    import psycopg
    from django.db import connections

    connections.close_all()
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in FLOOR_DBS.values():
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {DB_NAME}")


def floor_path(table: str) -> Path:
    return Path(f"/tmp/csv_bench_floor_{table}.copy")


def floor_rows_dump(url: str) -> None:
    """The rows import_ours wrote, each table to a file in COPY's text format (before django-import-export's run)."""
    import psycopg

    with psycopg.connect(url) as conn:
        for table, which in FLOOR_TABLES.items():
            with floor_path(table).open("wb") as out, conn.cursor().copy(f"COPY (SELECT * FROM {table} WHERE {which}) TO STDOUT") as copy:
                for chunk in copy:
                    out.write(chunk)


def floor_url(url: str, scenario: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{FLOOR_DBS[scenario]}"))


def csv_path(lines: int) -> Path:
    return Path(f"/tmp/csv_bench_{lines}.csv")


def prepare(lines: int) -> dict:
    """A shop with stock and the file to import: one order per line, over SKUS SKUs."""
    setup()
    from tests.factories import make_shop, make_sku
    from tests.orders.csv_files import csv_file, row

    shop = make_shop("CSV基准店")
    for i in range(SKUS):
        make_sku(shop, code=f"BENCH-{i}", price="10.00", stock=10**8)
    rows = [row(订单号=str(10**11 + i), SKU编码=f"BENCH-{i % SKUS}", 数量="1", 单价="10.00", 应付金额="10.00") for i in range(lines)]
    csv_path(lines).write_bytes(csv_file(rows, encoding="utf-8-sig"))
    return {"shop_id": shop.pk}


def peak_rss_mb() -> int:
    """The peak resident memory of this process's own image (VmHWM). Not ru_maxrss: Linux carries the parent's peak into
    a child it forks, so a scenario started by this runner reported the runner's size (212 MB for an export of 91 MB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure(scenario: str, shop_id: int, lines: int) -> dict:
    setup()
    from django.db import connection

    server_before = backend_cpu()
    cpu_before = time.process_time()
    started = time.perf_counter()
    if scenario == "import_ours":
        from orders.imports.apply import orders_import_apply
        from shop_admin.kernel.actors import Actor
        from shop_admin.kernel.csvio import csv_read

        plan = orders_import_apply(shop_id=shop_id, actor=Actor.system("bench"), table=csv_read(csv_path(lines).read_bytes()), source="bench")
        assert not plan.errors, plan.errors[:3]
        rows = plan.summary()["rows"]
    elif scenario == "import_die":
        import tablib
        from import_export import fields, resources

        from orders.models import Buyer, Order

        buyer = Buyer.objects.get_or_create(name="bench-die")[0]

        class OrderResource(resources.ModelResource):
            order_no = fields.Field(attribute="order_no", column_name="订单号")
            created_at = fields.Field(attribute="created_at", column_name="下单时间")
            payable = fields.Field(attribute="payable", column_name="应付金额")
            recipient_name = fields.Field(attribute="recipient_name", column_name="收件人")
            phone = fields.Field(attribute="phone", column_name="手机号")
            province = fields.Field(attribute="province", column_name="省")
            city = fields.Field(attribute="city", column_name="市")
            district = fields.Field(attribute="district", column_name="区")
            address_detail = fields.Field(attribute="address_detail", column_name="详细地址")

            class Meta:
                model = Order
                fields = ("order_no", "created_at", "payable", "recipient_name", "phone", "province", "city", "district", "address_detail")
                import_id_fields = ("order_no",)
                use_bulk = True
                skip_diff = True
                force_init_instance = True
                batch_size = 2000

            def before_save_instance(self, instance, row, **kwargs):
                instance.shop_id, instance.buyer_id, instance.items_total = shop_id, buyer.pk, instance.payable

        data = csv_path(lines).read_bytes().decode("utf-8-sig")
        # Its own numbers, so the two imports do not collide on the unique order number.
        data = data.replace("\n1000", "\n9000")
        dataset = tablib.Dataset().load(data, format="csv")
        result = OrderResource().import_data(dataset, dry_run=False, raise_errors=True)
        rows = lines
        assert not result.has_errors()
    elif scenario in FLOOR_DBS:
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            if scenario == "copy_floor_no_fk":
                cursor.execute("SET LOCAL session_replication_role = replica")
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as the import checks them: as the rows stream
            for table in FLOOR_TABLES:
                with floor_path(table).open("rb") as data, cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    while chunk := data.read(1 << 20):
                        copy.write(chunk)
            cursor.execute("SELECT count(*) FROM orders_orderline")
            rows = cursor.fetchone()[0]
    elif scenario == "export_ours":
        from orders.exports import order_export_lines, order_export_write

        with open("/tmp/csv_bench_export_ours.csv", "wb") as out:
            rows = order_export_write(order_export_lines(shop_id=shop_id), out, shop_id=shop_id)
    elif scenario == "export_die":
        from import_export.resources import modelresource_factory

        from orders.models import OrderLine

        dataset = modelresource_factory(OrderLine)().export(queryset=OrderLine.objects.filter(order__shop_id=shop_id))
        Path("/tmp/csv_bench_export_die.csv").write_text(dataset.csv, encoding="utf-8")
        rows = len(dataset)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    seconds = time.perf_counter() - started
    # CPU seconds, ours and the server's: what the work costs, whatever else the machine runs meanwhile.
    cpu = time.process_time() - cpu_before
    server_after = backend_cpu()
    if server_before is not None and server_after is not None:
        cpu += server_after - server_before
    connection.close()
    return {
        "scenario": scenario,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "cpu_s": round(cpu, 2),
        "rows_per_cpu_s": round(rows / cpu) if cpu else 0,
        "peak_mb": peak_rss_mb(),
    }


def run(scenario: str, shop_id: int, lines: int, url: str) -> dict:
    if scenario in FLOOR_DBS:
        url = floor_url(url, scenario)
    out = subprocess.run(
        [sys.executable, __file__, "--measure", scenario, "--shop", str(shop_id), "--lines", str(lines)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def grow_for_export(url: str, shop_id: int, lines: int) -> None:
    """More lines for the export: the imported lines copied in SQL until there are `lines` of them."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM orders_orderline").fetchone()[0]
        step = 0
        while have < lines:
            step += 1
            conn.execute(
                """WITH src AS (SELECT * FROM orders_order WHERE shop_id = %s AND order_no ~ '^1000' LIMIT %s),
                   new AS (INSERT INTO orders_order (order_no, shop_id, buyer_id, kind, status, items_total, coupon_discount, full_reduction,
                           freight, subsidy, payable, paid_amount, freight_insurance, recipient_name, phone, province, city, district,
                           address_detail, is_remote, buyer_message, merchant_remark, remark_flag, payment_attempts, is_frozen,
                           needs_risk_review, on_hold, created_at, updated_at, paid_at, ship_deadline)
                           SELECT %s || order_no, shop_id, buyer_id, kind, status, items_total, coupon_discount, full_reduction, freight, subsidy,
                           payable, paid_amount, freight_insurance, recipient_name, phone, province, city, district, address_detail, is_remote,
                           buyer_message, merchant_remark, remark_flag, payment_attempts, is_frozen, needs_risk_review, on_hold, created_at,
                           updated_at, paid_at, ship_deadline FROM src RETURNING id, substr(order_no, %s) AS old_no)
                   INSERT INTO orders_orderline (order_id, sku_id, stock_level_id, quantity, unit_price, line_total, sku_code, product_name,
                           spec, product_snapshot, stock_state, returned_quantity)
                   SELECT new.id, l.sku_id, l.stock_level_id, l.quantity, l.unit_price, l.line_total, l.sku_code, l.product_name, l.spec,
                          l.product_snapshot, l.stock_state, l.returned_quantity
                   FROM new JOIN orders_order o ON o.order_no = new.old_no JOIN orders_orderline l ON l.order_id = o.id""",
                [shop_id, lines - have, f"{step}", len(str(step)) + 1],
            )
            have = conn.execute("SELECT count(*) FROM orders_orderline").fetchone()[0]
        conn.execute("VACUUM ANALYZE")
        # The growth's dirty pages written out and the tables read once, so the export measured first does not pay
        # for the checkpoint and the cold cache that the one measured second would find done.
        conn.execute("CHECKPOINT")
        conn.execute("SELECT count(*), sum(length(o.recipient_name)), sum(length(l.product_name)) FROM orders_orderline l "
                     "JOIN orders_order o ON o.id = l.order_id")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--import-lines", type=int, default=100_000)
    parser.add_argument("--export-lines", type=int, default=1_000_000)
    parser.add_argument("--readme", action="store_true")
    parser.add_argument("--measure")
    parser.add_argument("--shop", type=int)
    parser.add_argument("--lines", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.shop, args.lines)))
        return
    url = database_url()
    started_at = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    database_recreate(url)
    os.environ["DATABASE_URL"] = url
    shop_id = prepare(args.import_lines)["shop_id"]
    floor_databases_create(url)
    results = [run("import_ours", shop_id, args.import_lines, url)]
    floor_rows_dump(url)
    results += [run("import_die", shop_id, args.import_lines, url)]
    results += [run(scenario, shop_id, args.import_lines, url) for scenario in FLOOR_DBS]
    grow_for_export(url, shop_id, args.export_lines)
    results += [run("export_ours", shop_id, args.export_lines, url), run("export_die", shop_id, args.export_lines, url)]
    for r in results:
        print(
            f"{r['scenario']:16s} {r['rows']:>9,} rows {r['seconds']:>8.2f} s {r['rows_per_s']:>8,} rows/s"
            f"  cpu {r['cpu_s']:>7.2f} s {r['rows_per_cpu_s']:>8,} rows/cpu-s  peak {r['peak_mb']:>6,} MB"
        )
    by = {r["scenario"]: r for r in results}
    die = by["import_die"]["rows_per_s"]
    print(f"COPY floor / die-tuned = {by['copy_floor']['rows_per_s'] / die:.1f}x with the foreign keys checked, "
          f"{by['copy_floor_no_fk']['rows_per_s'] / die:.1f}x without: the most any import writing these rows can reach")
    print(f"import: ours / die-tuned = {by['import_ours']['rows_per_s'] / by['import_die']['rows_per_s']:.1f}x "
          f"(CPU: {by['import_ours']['rows_per_cpu_s'] / by['import_die']['rows_per_cpu_s']:.1f}x); "
          f"export: ours / die-default = {by['export_ours']['rows_per_s'] / by['export_die']['rows_per_s']:.1f}x "
          f"(CPU: {by['export_ours']['rows_per_cpu_s'] / by['export_die']['rows_per_cpu_s']:.1f}x)")
    if args.readme:
        write_readme(results, started_at, load, args)


def write_readme(results: list[dict], started_at: str, load, args) -> None:
    import django

    rows = "\n".join(
        f"| {r['scenario']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_s']:,} | {r['cpu_s']} | {r['rows_per_cpu_s']:,} | {r['peak_mb']:,} |"
        for r in results
    )
    by = {r["scenario"]: r for r in results}
    section = f"""{BEGIN}
## CSV import and export (`csv_bench.py`)

`DATABASE_URL=... .venv/bin/python tests/perf/csv_bench.py --import-lines {args.import_lines} --export-lines {args.export_lines} --readme`:
its own database `{DB_NAME}`, each scenario in a fresh process (peak = its own VmHWM: ru_maxrss would carry the runner's peak into the child). See the
module docstring for what each scenario does. Import: ours checks every row, occupies stock
and writes lines, payments, escrow entries and events; django-import-export's tuned bulk configuration writes bare
orders and checks nothing; the COPY floors write back exactly the rows ours wrote, with COPY only. Export: the same {args.export_lines:,} order lines, ours in the
contract's columns to a file, django-import-export's default OrderLine resource to a file.

| scenario | rows | seconds | rows/s | CPU s (client + server) | rows/CPU s | peak MB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{rows}

Import ours / tuned django-import-export: **{by['import_ours']['rows_per_s'] / by['import_die']['rows_per_s']:.1f}x** (target 5x;
by CPU time {by['import_ours']['rows_per_cpu_s'] / by['import_die']['rows_per_cpu_s']:.1f}x). The COPY floor, the same rows
written back by COPY alone with no Python per row, is {by['copy_floor']['rows_per_s'] / by['import_die']['rows_per_s']:.1f}x
the tuned django-import-export with the foreign keys checked ({by['copy_floor_no_fk']['rows_per_s'] / by['import_die']['rows_per_s']:.1f}x
without them): that is the most any import writing these rows could reach; ours runs at
{100 * by['import_ours']['rows_per_s'] / by['copy_floor']['rows_per_s']:.0f} % of it.
export ours / default django-import-export: **{by['export_ours']['rows_per_s'] / by['export_die']['rows_per_s']:.1f}x** (target 10x;
by CPU time {by['export_ours']['rows_per_cpu_s'] / by['export_die']['rows_per_cpu_s']:.1f}x). CPU time is the
measuring process's plus its PostgreSQL backend's (read from /proc: the server runs on the same machine).

| machine | |
| --- | --- |
| date | {started_at} |
| CPU / cores | {platform.processor() or platform.machine()} / {os.cpu_count()} |
| load average at start | {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (a shared machine: other work ran alongside) |
| software | Python {platform.python_version()}, Django {django.get_version()} |
{END}
"""
    text = README.read_text(encoding="utf-8")
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1 :]
    else:
        text = text.rstrip() + "\n\n" + section
    README.write_text(text, encoding="utf-8")
    print(f"recorded in {README} ({dt.date.today()})")


if __name__ == "__main__":
    main()
