"""A real `rqworker` killed with SIGKILL in the middle of an import or a bulk job: nothing stuck, nothing half-applied, nothing twice."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import django_rq
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rq import SimpleWorker

from logistics.models import Shipment
from orders.imports.service import orders_import_confirm, orders_import_start
from orders.models import Order, OrderEvent, OrderLine
from shop_admin.kernel.background import background_job_revive, background_job_start
from shop_admin.kernel.models import BackgroundJob
from tests.factories import make_member, make_shop, make_sku, stock_of
from tests.orders.csv_files import csv_file, row

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(redis_conn, media_root):
    """Start `manage.py rqworker default` on the test database; yields a function that kills it with SIGKILL."""
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    env = {
        **os.environ,
        "DATABASE_URL": urlunparse(url._replace(path="/" + connection.settings_dict["NAME"])),
        "MEDIA_ROOT": str(media_root),
        "REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def kill() -> None:
        # The work horse RQ forks runs in a session of its own: kill it first, then the worker, both mid-job.
        for pid in children(process.pid):
            os.kill(pid, signal.SIGKILL)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    yield kill
    if process.poll() is None:
        kill()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(job: BackgroundJob, ready, *, timeout: float = 120) -> BackgroundJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if ready(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} never got there: {job.status} {job.done}/{job.total}")


def revived_once_the_database_notices() -> int:
    """The sweep, run until PostgreSQL has ended the dead worker's session (a statement it was running ends first)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        count = background_job_revive(now=timezone.now())
        if count:
            return count
        time.sleep(0.2)
    return 0


def stock_rows_held(sku) -> psycopg.Connection:
    """A second session on the test database holding the SKU's stock rows until it rolls back."""
    db = connection.settings_dict
    holder = psycopg.connect(
        dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None, host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    holder.execute("SELECT id FROM orders_stocklevel WHERE sku_id = %s FOR UPDATE", [sku.pk])
    return holder


def wait_until_a_session_waits_on_a_lock(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the import never reached the held stock rows")


def run_queued_jobs() -> None:
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)


def test_an_import_killed_mid_write_leaves_nothing_then_runs_again_once(worker):
    shop = make_shop()
    owner = make_member(shop)
    tea = make_sku(shop, code="TEA-1", stock=100_000)
    rows = [row(订单号=str(8_000_000 + i), 数量="1", 应付金额="59.90") for i in range(4000)]
    check = orders_import_start(shop=shop, user=owner, filename="big.csv", content=csv_file(rows))
    run_queued_jobs()  # the preview, in-process
    check.refresh_from_db()
    assert check.summary["created"] == 4000
    # when the worker is killed while it writes: another session holds the SKU's stock row, so the import's
    # transaction is open and waiting on it (however fast the machine) when the kill comes
    holder = stock_rows_held(tea)
    job = orders_import_confirm(shop=shop, user=owner, check_job_id=check.pk)
    wait_for(job, lambda j: j.status == "running")
    wait_until_a_session_waits_on_a_lock()
    worker()
    holder.rollback()
    holder.close()
    job.refresh_from_db()
    assert job.status == "running"
    # then nothing of it was kept
    assert not Order.objects.filter(shop=shop).exists() and not OrderEvent.objects.exists()
    assert stock_of(tea)["occupied"] == 0
    # when the sweep finds it (its worker's lock died with the worker) and a worker runs it again
    assert revived_once_the_database_notices() == 1
    job.refresh_from_db()
    assert job.status == "queued"
    run_queued_jobs()
    # then every order is there exactly once, and the job says so
    job.refresh_from_db()
    assert (job.status, job.summary["created"], job.attempts) == ("done", 4000, 2)
    assert Order.objects.filter(shop=shop).count() == 4000 and OrderLine.objects.count() == 4000
    assert stock_of(tea) == {"available": 96_000, "locked": 0, "occupied": 4000}
    # and nothing is left for the sweep
    assert background_job_revive(now=timezone.now()) == 0


def test_a_bulk_ship_killed_half_way_resumes_after_the_last_row_it_committed(worker, sku, place_order, pay, owner):
    order_nos = []
    for _ in range(40):
        order = place_order((sku, 1))
        pay(order["order_no"])
        order_nos.append(order["order_no"])
    rows = [{"order_no": no, "carrier": "ZTO", "tracking_no": f"731000000{i:05d}"} for i, no in enumerate(order_nos)]
    job = background_job_start(shop=sku.shop, user=owner, kind="logistics_bulk_ship", total=len(rows), params={"rows": rows})
    wait_for(job, lambda j: j.done >= 3)
    worker()
    job.refresh_from_db()
    assert job.status == "running" and job.done < len(rows), "the job finished before the kill"
    shipped_before = Shipment.objects.count()
    assert shipped_before == job.done  # each row committed with the step that counts it
    assert revived_once_the_database_notices() == 1
    run_queued_jobs()
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("done", 40, 0)
    assert Shipment.objects.count() == 40 and Order.objects.filter(status="shipped").count() == 40
    assert sorted(Shipment.objects.values_list("tracking_no", flat=True)) == sorted(r["tracking_no"] for r in rows)


def test_a_job_killed_too_often_fails_visibly_with_what_was_done(owner, shop):
    job = background_job_start(shop=shop, user=owner, kind="orders_export", total=0, params={"filters": {}})
    BackgroundJob.objects.filter(pk=job.pk).update(status="running", attempts=settings.BACKGROUND_JOB_MAX_ATTEMPTS, done=7)
    assert background_job_revive(now=timezone.now()) == 1
    job.refresh_from_db()
    assert job.status == "failed" and "已完成 7" in job.errors[-1]
