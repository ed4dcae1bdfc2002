"""The point-in-time restore drill: a base backup, orders, a noted moment, more orders, then a restore to that moment
into a fresh cluster, where the day reconciles and the later orders are absent."""
import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shop_admin.kernel.backups import archive_command
from tests import factories
from tests.conftest import ApiClient
from tests.order_walk import pay
from tests.pgcluster import ROOT, Server, Servers, connected, database, free_port


@pytest.fixture(scope="module")
def archiving(django_db_blocker):
    """A primary that archives its WAL into a backup folder, migrated; this process's `default` is that primary."""
    servers = Servers("pitr-")
    try:
        servers.folder = servers.base / "backups"
        (servers.folder / "wal").mkdir(parents=True)
        servers.own(servers.folder)  # the server's archive_command writes there
        servers.primary_server = servers.primary(
            extra_conf=f"wal_level = replica\narchive_mode = on\narchive_command = '{_quoted(archive_command(servers.folder))}'\n"
        )
        env = {**os.environ, "DATABASE_URL": servers.primary_server.url()}
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], check=False, cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        with connected({"default": database(servers.primary_server.url())}, django_db_blocker):
            yield servers
    finally:
        servers.stop()


def _quoted(value: str) -> str:
    return value.replace("'", "''")


def _paid_orders(shop, sku, buyer, count: int) -> list[str]:
    buyer_api = ApiClient(buyer.api_token)
    numbers = []
    for _ in range(count):
        status, placed = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)))
        assert status == 201, placed
        pay(buyer_api, placed["order_no"])
        numbers.append(placed["order_no"])
    return numbers


def _wal_archived(primary: Server) -> None:
    """Close the current WAL segment and wait until the server has archived it (the restore reads only the archive)."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + 30
        while (conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0] or "") < segment:
            assert time.monotonic() < deadline, f"{segment} was not archived"
            time.sleep(0.1)


def test_a_restore_to_a_moment_has_the_orders_before_it_only_and_the_day_reconciles(archiving):
    shop = factories.make_shop("回档店")
    sku = factories.make_sku(shop, stock=100)
    buyer = factories.make_buyer("pitr-buyer")
    # given a base backup, then two paid orders
    call_command("backup", "--base", "--folder", str(archiving.folder))
    kept = _paid_orders(shop, sku, buyer, 2)
    # a moment noted on the server's clock, which stamps the commits the restore compares with it
    time.sleep(0.2)
    with psycopg.connect(archiving.primary_server.url()) as conn:
        moment = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    time.sleep(0.2)
    later = _paid_orders(shop, sku, buyer, 1)
    _wal_archived(archiving.primary_server)

    # when the backup is restored to that moment into a fresh cluster
    restored = Server(archiving.base / "restored", free_port())
    call_command("restore", "--to-time", moment.isoformat(), "--from", str(archiving.folder), "--data", str(restored.data),
                 "--port", str(restored.port))
    archiving.own(restored.data)
    archiving.start(restored)
    with psycopg.connect(restored.url(), autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            assert time.monotonic() < deadline, "the restored server did not finish recovery"
            time.sleep(0.1)
        numbers = {row[0] for row in conn.execute("SELECT order_no FROM orders_order")}

    # then it holds the orders before the moment only, and the day reconciles there
    assert numbers == set(kept) and not numbers & set(later)
    env = {**os.environ, "DATABASE_URL": restored.url()}
    done = subprocess.run([sys.executable, "manage.py", "reconcile", "--date", timezone.localdate().isoformat()], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 payments, 2 orders checked, 0 mismatches" in done.stdout


def test_a_base_backup_is_refused_when_the_server_does_not_archive_into_the_folder(archiving):
    with pytest.raises(CommandError, match="does not archive its WAL into"):
        call_command("backup", "--base", "--folder", str(archiving.base / "elsewhere"))


def test_a_restore_to_a_moment_before_any_base_backup_names_it(archiving):
    with pytest.raises(CommandError, match="no base backup in .* finished before"):
        call_command("restore", "--to-time", "2001-01-01T00:00:00+08:00", "--from", str(archiving.folder),
                     "--data", str(archiving.base / "never"))


def test_restore_names_a_time_that_is_not_one(archiving):
    with pytest.raises(CommandError, match="is not an ISO time"):
        call_command("restore", "--to-time", "yesterday", "--data", str(archiving.base / "never"))
