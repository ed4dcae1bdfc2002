"""The replica router: plain reads may go to a replica, reads inside a transaction on the primary stay there."""
import pytest
from django.db import transaction

from orders.models import Order
from shop_admin.db_router import PrimaryReplicaRouter


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # only the router reads the aliases here
def test_a_read_inside_a_transaction_stays_on_the_primary(transactional_db, settings):
    # given one replica configured (the router reads the aliases from settings, as DATABASE_REPLICA_URLS makes them)
    settings.DATABASES = {**settings.DATABASES, "replica0": {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}}
    router = PrimaryReplicaRouter()
    # then a plain read may lag, so it goes to the replica
    assert router.db_for_read(Order) == "replica0"
    # and a read inside a transaction (a service that locked a row and reads it again) goes to the primary
    with transaction.atomic():
        assert router.db_for_read(Order) == "default"
    assert router.db_for_write(Order) == "default"
