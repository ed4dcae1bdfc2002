"""The replica router's defaults: a read not marked lag-tolerant, and every read inside a transaction, goes to the primary.

What a marked read does with a real, lagging standby is in tests/shop_admin/test_replicas.py.
"""
import pytest
from django.db import transaction

from orders.models import Order
from shop_admin.db_router import PrimaryReplicaRouter


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # only the router reads the aliases here
def test_reads_stay_on_the_primary_unless_marked_lag_tolerant(transactional_db, settings):
    # given one replica configured (the router reads the aliases from settings, as DATABASE_REPLICA_URLS makes them)
    settings.DATABASES = {**settings.DATABASES, "replica0": {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}}
    router = PrimaryReplicaRouter()
    # then a plain read (a service's, a page's) goes to the primary: only reads marked lag-tolerant may lag
    assert router.db_for_read(Order) == "default"
    # and so does a read inside a transaction (a service that locked a row and reads it again), and every write
    with transaction.atomic():
        assert router.db_for_read(Order) == "default"
    assert router.db_for_write(Order) == "default"
