"""The restore drill: back up, write more orders, restore into a fresh database, and the day reconciles there."""
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from psycopg import sql

from orders.models import Order
from shop_admin.kernel.backups import target_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def restored_name():
    """A fresh database name on the test server, dropped after the test."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    yield name
    maintenance = target_of(connection.settings_dict).other_database("postgres")
    with psycopg.connect(maintenance.conninfo, password=maintenance.password or None, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _url_of(dbname: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="shop_admin.settings")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_restored_backup_has_the_orders_it_was_taken_with_and_reconciles(sku, place_order, pay, tmp_path,
                                                                          restored_name):
    # given two paid orders and one unpaid, backed up
    kept = [place_order((sku, 1))["order_no"] for _ in range(3)]
    for order_no in kept[:2]:
        pay(order_no)
    dump = tmp_path / "shop.dump"
    call_command("backup", "--output", str(dump))
    # and more orders written after the backup
    later = place_order((sku, 2))["order_no"]
    pay(later)

    # when the backup is restored into a fresh database
    call_command("restore", str(dump), "--into", restored_name)

    # then it holds the orders of the backup and not the later one, and the day reconciles there
    restored_url = _url_of(restored_name)
    with psycopg.connect(target_of(connection.settings_dict).other_database(restored_name).conninfo) as conn:
        numbers = {row[0] for row in conn.execute("SELECT order_no FROM orders_order")}
    assert numbers == set(kept)
    assert Order.objects.filter(order_no=later).exists()  # the live database keeps it
    done = _manage("reconcile", "--date", timezone.localdate().isoformat(), database_url=restored_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 payments, 2 orders checked, 0 mismatches" in done.stdout


def test_restore_refuses_a_database_that_exists(tmp_path):
    dump = tmp_path / "shop.dump"
    call_command("backup", "--output", str(dump))
    with pytest.raises(CommandError, match="restore into a fresh one|already exists"):
        call_command("restore", str(dump), "--into", connection.settings_dict["NAME"])
    with pytest.raises(CommandError, match="already exists"):
        call_command("restore", str(dump), "--into", "postgres")


def test_restore_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no backup file at"):
        call_command("restore", str(tmp_path / "nothing.dump"), "--into", "never_created")
