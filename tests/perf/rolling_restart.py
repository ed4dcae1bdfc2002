"""A rolling restart under load loses nothing: gunicorn gets SIGHUP and an RQ worker SIGTERM mid-job while buyers submit
orders and the channel calls back their payments (each callback sent twice).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python tests/perf/rolling_restart.py [--orders N]

DATABASE_URL names the server only: the runner drops and recreates its own database `shop_rolling` there and migrates
it; Redis is PERF_REDIS_URL (default db 13), emptied before and after. The fleet is what `make fleet` starts: gunicorn
with `shop_admin/gunicorn.conf.py` (2 workers) and `manage.py rqworker default deadlines --with-scheduler`. While the
load runs, at a third of it gunicorn gets SIGHUP; meanwhile a batch of unpaid orders falls due (their pay deadline is
moved into the past and their wake-up jobs queued, as RQ's scheduler would at the deadline), a second worker starts and
the first gets SIGTERM while it runs one of those jobs; at two thirds gunicorn gets SIGHUP again. Then the books are
checked: every request answered (no reset, no 5xx), every job finished (none failed, none left), every paid order paid
once (one payment, one escrow entry, one pending_payment -> paid event), every due order cancelled once, stock adds up,
and the day reconciles. It prints its figures and exits 1 on any problem; tests/shop_admin/test_rolling_restart.py runs
a short version in the suite.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
PERF_REDIS_URL = os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/13")
PAYMENT_SECRET = "rolling-payment-secret"
# The fleet runs as deployed (DEBUG off) behind a proxy that terminates TLS, which X-Forwarded-Proto stands for.
SERVER_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "rolling-" + "x" * 60,
    "ALLOWED_HOSTS": "127.0.0.1",
    "PAYMENT_CALLBACK_SECRET": PAYMENT_SECRET,
    "LOGISTICS_CALLBACK_SECRET": "rolling-logistics-secret",
    "API_RATE_LIMITS_ENABLED": "0",  # a few buyers play many; the limits are not what this measures
    "LOG_LEVEL": "WARNING",
}
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "文三路478号华星时代广场A座1201"}

sys.path.insert(0, str(ROOT))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the fleet ---------------------------------------------------------------------------------------------------------


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


def gunicorn_start(env: dict, port: int, log: Path) -> subprocess.Popen:
    return _start([str(VENV_BIN / "gunicorn"), "-c", "shop_admin/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"], env, log)


def rqworker_start(env: dict, log: Path) -> subprocess.Popen:
    return _start([str(PYTHON), "manage.py", "rqworker", "default", "deadlines", "--with-scheduler"], env, log)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


# --- the load ----------------------------------------------------------------------------------------------------------


@dataclass
class Call:
    kind: str
    started: float
    seconds: float
    status: int  # 0: no answer (reset, refused, timeout)
    error: str = ""


@dataclass
class Load:
    port: int
    shop_id: int
    sku_id: int
    tokens: list[str]
    calls: list[Call] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)
    unpaid: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, kind: str, path: str, body: bytes, headers: dict) -> tuple[int, dict | None]:
        started = time.monotonic()
        status, payload, error = 0, None, ""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **PROXY_HEADERS, **headers})
            response = conn.getresponse()
            raw = response.read()
            conn.close()
            status = response.status
            try:
                payload = json.loads(raw)
            except ValueError:
                error = raw[:80].decode(errors="replace")
        except OSError as exc:
            error = type(exc).__name__
        with self.lock:
            self.calls.append(Call(kind, started, time.monotonic() - started, status, error))
        return status, payload

    def order_life(self, n: int, *, leave_unpaid: bool) -> None:
        """One buyer's order: submitted, then (unless left unpaid) paid through the channel, whose callback comes twice."""
        from tests.factories import callback_body, signed_headers

        token = {"Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}"}
        body = json.dumps({"shop_id": self.shop_id, "items": [{"sku_id": self.sku_id, "quantity": 1}], "address": ADDRESS})
        status, order = self.request("submit", "/api/v1/orders", body.encode(), token)
        if status != 201:
            return
        if leave_unpaid:
            with self.lock:
                self.unpaid.append(order["order_no"])
            return
        status, payment = self.request("payment", f"/api/v1/orders/{order['order_no']}/payments",
                                       b'{"channel": "douyin_pay"}', token)
        if status != 201:
            return
        callback = callback_body(payment, txn=f"ROLL-{payment['payment_id']}")
        for _ in range(2):  # the channel repeats itself: the second must change nothing
            self.request("callback", "/api/v1/callbacks/payment", callback, signed_headers(callback, PAYMENT_SECRET))
        with self.lock:
            self.paid.append(order["order_no"])


def shop_prepare(*, buyers: int, stock: int) -> tuple[int, int, list[str]]:
    """A shop with one SKU of `stock` units and `buyers` buyers; returns (shop id, SKU id, buyer tokens)."""
    from tests import factories

    shop = factories.make_shop("滚动重启测试店")
    sku = factories.make_sku(shop, price="59.90", stock=stock, name="蜂蜜柚子茶")
    return shop.pk, sku.pk, [factories.make_buyer(f"rolling{shop.pk}-{i}").api_token for i in range(buyers)]


def orders_fall_due(order_nos: list[str]) -> int:
    """Move these orders' pay deadline into the past and queue their wake-ups, as RQ's scheduler does at the deadline."""
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order
    from shop_admin.kernel.deadlines import QUEUE_NAME, deadline_run
    from shop_admin.kernel.queues import rq_queue

    ids = list(Order.objects.filter(order_no__in=order_nos).values_list("pk", flat=True))
    Order.objects.filter(pk__in=ids).update(pay_deadline=timezone.now() - timedelta(seconds=1))
    queue = rq_queue(QUEUE_NAME)
    for pk in ids:
        queue.enqueue(deadline_run, "order_pay_timeout", pk, job_id=f"rolling-pay-timeout-{pk}")
    return len(ids)


def _queue_state() -> dict[str, int]:
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from shop_admin.kernel.deadlines import QUEUE_NAME
    from shop_admin.kernel.queues import rq_queue

    queue = rq_queue(QUEUE_NAME)
    return {"queued": queue.count, "started": len(StartedJobRegistry(queue=queue)),
            "failed": len(FailedJobRegistry(queue=queue))}


def _wait(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


# --- the run -----------------------------------------------------------------------------------------------------------


def rolling_restart_run(*, env: dict, orders: int, threads: int, unpaid_every: int, log_dir: Path,
                        say=lambda message: None) -> tuple[dict, list[str]]:
    """Run the load against a fleet on the database and Redis `env` names, restarting it on the way; (figures, problems)."""
    from django.utils import timezone

    stock = orders * 2
    shop_id, sku_id, tokens = shop_prepare(buyers=16, stock=stock)
    port = free_port()
    env = {**env, **SERVER_ENV}
    web = gunicorn_start(env, port, log_dir / "gunicorn.log")
    first_worker = rqworker_start(env, log_dir / "rqworker-1.log")
    second_worker = None
    events: dict[str, float] = {}
    problems: list[str] = []
    try:
        wait_ready(port, web)
        say(f"gunicorn (2 workers) on 127.0.0.1:{port}, RQ worker pid {first_worker.pid}")
        load = Load(port=port, shop_id=shop_id, sku_id=sku_id, tokens=tokens)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(load.order_life, n, leave_unpaid=(n % unpaid_every == 0)) for n in range(orders)]

            _wait(lambda: sum(f.done() for f in futures) >= orders // 3, timeout=600)
            events["first SIGHUP"] = time.monotonic() - started
            os.kill(web.pid, signal.SIGHUP)
            # A batch of unpaid orders falls due; the first worker gets SIGTERM while it runs one of their jobs.
            with load.lock:
                due_first = list(load.unpaid)
            queued = orders_fall_due(due_first)
            busy = _wait(lambda: _queue_state()["started"] > 0, timeout=60, step=0.005)
            second_worker = rqworker_start(env, log_dir / "rqworker-2.log")
            events["worker SIGTERM"] = time.monotonic() - started
            os.killpg(first_worker.pid, signal.SIGTERM)
            say(f"SIGHUP to gunicorn; {queued} orders fell due, SIGTERM to the worker {'mid-job' if busy else '(idle)'}")
            if not busy:
                problems.append("the first worker ran no job when it got SIGTERM: the restart proved nothing about jobs")
            first_worker.wait(timeout=120)
            events["worker exited"] = time.monotonic() - started

            _wait(lambda: sum(f.done() for f in futures) >= 2 * orders // 3, timeout=600)
            events["second SIGHUP"] = time.monotonic() - started
            os.kill(web.pid, signal.SIGHUP)
            for future in futures:
                future.result()
        wall = time.monotonic() - started
        with load.lock:
            due_rest = sorted(set(load.unpaid) - set(due_first))
        orders_fall_due(due_rest)
        drained = _wait(lambda: _queue_state()["queued"] == 0 and _queue_state()["started"] == 0, timeout=300, step=0.2)
        state = _queue_state()
        if not drained or state["failed"]:
            problems.append(f"jobs left after the load: {state}")
        if first_worker.returncode != 0:
            problems.append(f"the first worker exited with {first_worker.returncode} on SIGTERM (not a warm shutdown)")
    finally:
        for process in (web, first_worker, second_worker):
            if process is not None:
                stop(process)

    problems += books_check(load=load, sku_id=sku_id, stock=stock)
    figures = figures_of(load=load, wall=wall, events=events, due=len(due_first) + len(due_rest),
                         state=state, shutdown_s=events["worker exited"] - events["worker SIGTERM"])
    from orders.reconcile import reconcile_day

    run = reconcile_day(day=timezone.localdate())
    if run.found:
        problems.append(f"reconciliation: {[m.line() for m in run.found][:5]}")
    figures["reconciliation of the day"] = f"{run.checked_payments} payments, {run.checked_orders} orders, {len(run.found)} mismatches"
    return figures, problems


def books_check(*, load: Load, sku_id: int, stock: int) -> list[str]:
    """What was applied twice or not at all."""
    from django.db.models import Count, Q, Sum

    from orders.constants import LedgerKind, OrderStatus, PaymentStatus
    from orders.models import Order, StockLevel

    problems = []
    unanswered = [c for c in load.calls if c.status == 0 or c.status >= 500]
    if unanswered:
        problems.append(f"{len(unanswered)} requests without a proper answer, e.g. {unanswered[:3]}")
    unexpected = [c for c in load.calls if c.status not in (200, 201)]
    if unexpected:
        problems.append(f"{len(unexpected)} requests refused, e.g. {unexpected[:3]}")
    paid = Order.objects.filter(order_no__in=load.paid).annotate(
        n_payments=Count("payments", filter=Q(payments__status=PaymentStatus.SUCCEEDED), distinct=True),
        n_escrow=Count("ledger", filter=Q(ledger__kind=LedgerKind.ESCROW_IN), distinct=True),
        n_paid_events=Count("events", filter=Q(events__to_status=OrderStatus.PAID), distinct=True),
    )
    for order in paid:
        if (order.status, order.n_payments, order.n_escrow, order.n_paid_events) != (OrderStatus.PAID, 1, 1, 1):
            problems.append(f"{order.order_no}: {order.status}, {order.n_payments} payments, {order.n_escrow} escrow entries, "
                            f"{order.n_paid_events} paid events")
    if paid.count() != len(load.paid):
        problems.append(f"{len(load.paid)} orders paid by the load, {paid.count()} found")
    cancelled = Order.objects.filter(order_no__in=load.unpaid).annotate(
        n_cancels=Count("events", filter=Q(events__to_status=OrderStatus.CANCELLED)))
    for order in cancelled:
        if order.status != OrderStatus.CANCELLED or order.n_cancels != 1:
            problems.append(f"{order.order_no}: {order.status} with {order.n_cancels} cancel events (due, should be cancelled once)")
    levels = StockLevel.objects.filter(sku_id=sku_id).aggregate(a=Sum("available"), l=Sum("locked"), o=Sum("occupied"))
    if (levels["a"] + levels["l"] + levels["o"], levels["l"], levels["o"]) != (stock, 0, len(load.paid)):
        problems.append(f"stock {levels} for {len(load.paid)} paid orders of {stock} units")
    return problems


def figures_of(*, load: Load, wall: float, events: dict, due: int, state: dict, shutdown_s: float) -> dict:
    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000 if ordered else 0

    def window(t: float) -> list[Call]:  # requests in flight at some moment of the 5 s after a signal
        return [c for c in load.calls if c.started <= t + 5 and c.started + c.seconds >= t]

    first = min(c.started for c in load.calls)
    answers: dict[str, int] = {}
    for call in load.calls:
        key = f"{call.kind} {call.status}{' ' + call.error if call.error else ''}"
        answers[key] = answers.get(key, 0) + 1
    latencies = [c.seconds for c in load.calls]
    around = [c.seconds for t in (events["first SIGHUP"], events["second SIGHUP"]) for c in window(first + t)]
    submits = sum(1 for c in load.calls if c.kind == "submit" and c.status == 201)
    return {
        "requests (submissions, payments, callbacks twice)": f"{len(load.calls):,} in {wall:.1f} s: {len(load.calls) / wall:.1f}/s",
        "orders submitted per second (with their payments)": f"{submits / wall:.1f}",
        "answers": ", ".join(f"{k}: {n}" for k, n in sorted(answers.items())),
        "no answer or 5xx": sum(1 for c in load.calls if c.status == 0 or c.status >= 500),
        "latency p50 / p95 / p99 / max (ms), whole run": " / ".join(f"{pct(latencies, q):.0f}" for q in (0.5, 0.95, 0.99, 1)),
        "latency p50 / p95 / max (ms), within 5 s of each SIGHUP": " / ".join(f"{pct(around, q):.0f}" for q in (0.5, 0.95, 1)),
        "orders paid (each callback sent twice) / left unpaid and fallen due": f"{len(load.paid)} / {due}",
        "RQ worker: SIGTERM mid-job to exit (s, warm shutdown)": f"{shutdown_s:.2f}",
        "jobs afterwards (queued / started / failed)": f"{state['queued']} / {state['started']} / {state['failed']}",
    }


# --- the runner --------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--unpaid-every", type=int, default=4, help="one order in N is left unpaid and falls due")
    parser.add_argument("--db", default="shop_rolling")
    args = parser.parse_args()

    from tests.perf.run import database_recreate, log, redis_flush

    database_url = database_recreate(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"), args.db)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": PERF_REDIS_URL, "DJANGO_SETTINGS_MODULE": "shop_admin.settings"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")})
    os.environ.update(SERVER_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    log(f"migrating {args.db}")
    call_command("migrate", verbosity=0)
    redis_flush(PERF_REDIS_URL)
    log_dir = ROOT / "tests" / "perf" / "out" / "rolling_restart"
    log_dir.mkdir(parents=True, exist_ok=True)
    figures, problems = rolling_restart_run(env=env, orders=args.orders, threads=args.threads,
                                            unpaid_every=args.unpaid_every, log_dir=log_dir, say=log)
    redis_flush(PERF_REDIS_URL)
    print(f"\nRolling restart, --orders {args.orders} --threads {args.threads} --unpaid-every {args.unpaid_every}, "
          f"load average at the end {' / '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| figure | value |\n| --- | --- |")
    for name, value in figures.items():
        print(f"| {name} | {value} |")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
