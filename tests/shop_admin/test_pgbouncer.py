"""The app behind PgBouncer in transaction mode (Debian's, in front of a throw-away primary): the order's whole walk.

In transaction mode a client holds a server connection only for one transaction, so anything kept in a server session
between transactions (a PREPAREd statement) may be missing on the next one; the app runs with DB_PREPARED_STATEMENTS=0
as the README says to. PgBouncer 1.18 (Debian 12) keeps no prepared statement in this mode, and 1.21+'s
`max_prepared_statements` keeps only protocol-level ones, never SQL PREPARE, which is what kernel/rawsql uses.
"""
import os
import subprocess
import sys
from decimal import Decimal

import psycopg
import pytest

from orders.models import Order
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError
from tests import factories
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.order_walk import order_walk, pay
from tests.pgcluster import DATABASE, ROOT, Servers, connected, database


@pytest.fixture(scope="module")
def pooled(django_db_blocker):
    """A primary and a PgBouncer in front of it, migrated through the pooler; this process's `default` is the pooler."""
    servers = Servers("pgbouncer-")
    try:
        servers.primary_server = servers.primary()
        servers.pooler_url = f"postgres://postgres@127.0.0.1:{servers.pgbouncer(servers.primary_server)}/{DATABASE}"
        env = {**os.environ, "DATABASE_URL": servers.pooler_url, "DB_PREPARED_STATEMENTS": "0"}
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        with connected({"default": database(servers.pooler_url)}, django_db_blocker):
            yield servers
    finally:
        servers.stop()


@pytest.fixture
def unprepared(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False


@pytest.fixture(scope="module")
def shop_behind_pooler(pooled):
    shop = factories.make_shop("连接池店")
    return {"shop": shop, "tea": factories.make_sku(shop, price="59.90", stock=50), "owner": factories.make_member(shop, username="pooled-owner"),
            "buyer": factories.make_buyer("pooled-buyer")}


def test_the_walk_answers_every_step_through_pgbouncer_in_transaction_mode(pooled, shop_behind_pooler, unprepared):
    seen = shop_behind_pooler
    order_no = order_walk(
        shop=seen["shop"], sku=seen["tea"], owner_username="pooled-owner", owner_token=seen["owner"].api_token.key,
        buyer_token=seen["buyer"].api_token, tracking_no="SF7310000000202",
    )
    # what the walk wrote through the pooler is on the primary
    with psycopg.connect(pooled.primary_server.url()) as direct:
        status, refunded = direct.execute(
            "SELECT o.status, SUM(r.amount) FROM orders_order o JOIN orders_refund r ON r.order_id = o.id WHERE o.order_no = %s GROUP BY o.status",
            [order_no],
        ).fetchone()
    assert status == "delivered" and refunded == Decimal("59.90")


def test_the_refund_cap_holds_under_two_concurrent_refunds_through_the_pooler(pooled, shop_behind_pooler, unprepared):
    # Row locks live in a transaction, which transaction mode keeps on one server connection: the cap holds.
    buyer_api = ApiClient(shop_behind_pooler["buyer"].api_token)
    status, placed = buyer_api.post("/orders", factories.order_payload(shop_behind_pooler["shop"], (shop_behind_pooler["tea"], 2)))
    assert status == 201, placed
    pay(buyer_api, placed["order_no"])
    order = Order.objects.get(order_no=placed["order_no"])

    def refund(index: int):
        try:
            return refund_create(order=order, amount=Decimal("70.00"), actor=Actor.system("test"), reason=f"补差{index}")
        except DomainError as refused:
            return refused

    results = run_concurrently(2, refund)  # 2 x 70.00 is more than the 119.80 paid
    assert len([r for r in results if not isinstance(r, DomainError)]) == 1
    assert sum(r.amount for r in order.refunds.all()) == Decimal("70.00")
