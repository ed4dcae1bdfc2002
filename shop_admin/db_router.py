"""Sends reads to a PostgreSQL replica and writes to the primary when replicas are configured."""
import random

from django.conf import settings


class PrimaryReplicaRouter:
    """Reads that tolerate replica lag go to a replica; everything else to the primary.

    Reads inside a transaction stay on the primary (Django routes them with
    `using` from the atomic block), so a service that locks and re-reads never
    sees stale rows.
    """

    def _replicas(self) -> list[str]:
        return [alias for alias in settings.DATABASES if alias.startswith("replica")]

    def db_for_read(self, model, **hints):
        replicas = self._replicas()
        return random.choice(replicas) if replicas else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
