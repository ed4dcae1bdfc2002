"""Sends reads to a PostgreSQL replica and writes to the primary when replicas are configured."""
import random

from django.conf import settings
from django.db import connections


class PrimaryReplicaRouter:
    """Reads that tolerate replica lag go to a replica; everything else to the primary.

    Reads inside a transaction on the primary stay on the primary, so a service
    that locks and re-reads never sees stale rows. (A request or job that wrote
    and then reads outside a transaction may still read a lagging replica.)
    """

    def _replicas(self) -> list[str]:
        return [alias for alias in settings.DATABASES if alias.startswith("replica")]

    def db_for_read(self, model, **hints):
        replicas = self._replicas()
        if not replicas or connections["default"].in_atomic_block:
            # Django does not route a read by the transaction it is in: the ORM would ask a replica, which has
            # neither this transaction's writes nor the rows it locked.
            return "default"
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
