"""The app on a real PostgreSQL primary and a streaming standby whose replay is paused: what it answers, and from where.

One cluster pair for the module (initdb, pg_basebackup -R, on free ports), migrated by `manage.py migrate` with
DATABASE_REPLICA_URLS set; the app runs in this process with its connections pointed at both. With the standby's
replay paused, whatever the walk writes exists on the primary only, so any answer read from the standby shows it.
"""
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client

from orders.models import Order
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.replicas import PIN_COOKIE
from tests import factories
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.order_walk import order_walk, pay
from tests.pgcluster import ROOT, Servers, connected, database

D = Decimal


def _standby_sql(sql: str):
    with connections["replica0"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def cluster():
    """A primary and one streaming standby of it, migrated the way a deploy migrates, with the replica configured."""
    servers = Servers("replicas-")
    try:
        servers.primary_server = servers.primary()
        servers.standby_server = servers.standby(servers.primary_server)
        env = {**os.environ, "DATABASE_URL": servers.primary_server.url(), "DATABASE_REPLICA_URLS": servers.standby_server.url()}
        servers.migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def app(cluster, django_db_blocker):
    """This process's connections on the cluster (`default` the primary, `replica0` the standby), with the router."""
    assert cluster.migrated.returncode == 0, cluster.migrated.stderr[-3000:]
    databases = {"default": database(cluster.primary_server.url()), "replica0": database(cluster.standby_server.url(), connect_timeout=2)}
    with connected(databases, django_db_blocker, routers=["shop_admin.db_router.PrimaryReplicaRouter"]):
        yield cluster


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


def test_migrate_runs_with_a_replica_configured(cluster):
    assert cluster.migrated.returncode == 0, cluster.migrated.stderr[-3000:]


def test_every_answer_of_the_walk_shows_its_own_writes_while_the_standby_replays_nothing(shop_on_cluster, settings):
    # A paused standby stays "fresh enough" for lag-tolerant reads: anything read there would show as stale here.
    settings.REPLICA_MAX_LAG_S = 3600
    shop, tea, owner = shop_on_cluster["shop"], shop_on_cluster["tea"], shop_on_cluster["owner"]
    order_no = order_walk(
        shop=shop, sku=tea, owner_username="replica-owner", owner_token=owner.api_token.key,
        buyer_token=shop_on_cluster["buyer"].api_token, tracking_no="SF7310000000101",
    )
    assert Order.objects.filter(order_no=order_no).exists()
    assert not Order.objects.using("replica0").filter(order_no=order_no).exists()  # all of it from the primary


def test_the_refund_cap_holds_under_two_concurrent_refunds(shop_on_cluster):
    shop, tea, buyer = shop_on_cluster["shop"], shop_on_cluster["tea"], shop_on_cluster["buyer"]
    buyer_api = ApiClient(buyer.api_token)
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (tea, 2)))
    assert status == 201, placed
    pay(buyer_api, placed["order_no"])
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

    cluster.stop_server(cluster.standby_server)

    # within the second the standby's verdict is kept: the read fails there and runs again on the primary
    page = console.get("/orders/")
    assert page.status_code == 200 and shop_on_cluster["old_order_no"] in page.content.decode()
    assert console.get("/").status_code == 200
    ready = Client().get("/readyz")
    assert ready.status_code == 200 and ready.json()["replicas"] == {"replica0": {"status": "down"}}
    status, body = ApiClient(shop_on_cluster["buyer"].api_token).get(f"/orders/{shop_on_cluster['old_order_no']}")
    assert status == 200 and body["status"] == "pending_payment"
