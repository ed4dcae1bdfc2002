"""The console's session engine (SESSION_ENGINE): Django's database sessions, read by one prepared statement.

Every console request reads its session row first. Through the ORM that read (building the
queryset, compiling it, a model instance) cost more CPU than the database spent on it, on every
click. Here the same row of the same table is read by SQL written once and prepared per
PostgreSQL connection (kernel rawsql); writing, expiry, `clearsessions` and every other
behaviour are Django's `db` backend's.
"""
from functools import lru_cache

from django.contrib.sessions.backends import db
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from shop_admin.kernel import rawsql


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # The primary, always: a replica may not have the session a sign-in just wrote, and would sign the user out.
        rows = rawsql.prepared_rows(DEFAULT_DB_ALIAS, lambda: _session_sql(self.model), [self.session_key, timezone.now()])
        if not rows:  # unknown or expired, as the ORM's DoesNotExist
            self._session_key = None
            return None
        return rawsql.instance(self.model, rows[0])


@lru_cache(maxsize=1)
def _session_sql(model) -> str:
    q = connections["default"].ops.quote_name
    key, expires = (q(model._meta.get_field(name).column) for name in ("session_key", "expire_date"))
    return f"SELECT {rawsql.columns(model, 's')} FROM {q(model._meta.db_table)} s WHERE s.{key} = %s AND s.{expires} > %s"
