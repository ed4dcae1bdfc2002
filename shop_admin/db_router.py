"""Routes ORM reads and writes between the PostgreSQL primary and its replicas (the rule: shop_admin/kernel/replicas.py)."""
from django.db import DEFAULT_DB_ALIAS

from shop_admin.kernel import replicas


class PrimaryReplicaRouter:
    """Writes and every read to the primary; a read to a replica only inside `replicas.lag_tolerant`.

    Django asks `db_for_write` before every ORM write (save, update, delete, bulk_create, select_for_update,
    a session saved): that is where a request or job learns it wrote and stops reading replicas.
    """

    def db_for_read(self, model, **hints):
        return replicas.read_alias()

    def db_for_write(self, model, **hints):
        replicas.writes_noted()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
