"""The console's authentication backend: Django's ModelBackend, the signed-in user read by one prepared statement.

Every console request reads its user after its session. Through the ORM that read (a queryset built, compiled,
`get()`'s limit and length check) cost more CPU than the database spent on it; here the same row is read by SQL
written once and prepared per PostgreSQL connection (kernel rawsql). Passwords, permissions and every other
behaviour are ModelBackend's.

Django's own ModelBackend stays after this one in AUTHENTICATION_BACKENDS for one reason: a session remembers the
backend that signed it in, and sessions opened before this backend existed name Django's. So that a wrong password
is not checked twice (once here, once there), a failed sign-in here ends the attempt (PermissionDenied, which
`django.contrib.auth.authenticate` treats exactly as every backend refusing: no user, one `user_login_failed`).
"""
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections

from shop_admin.kernel import rawsql


class ConsoleModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        model = get_user_model()
        # The primary, always: a deactivated user or a changed password must take effect on the next request.
        rows = rawsql.prepared_rows(DEFAULT_DB_ALIAS, lambda: _user_sql(model), [user_id])
        if not rows:
            return None
        user = rawsql.instance(model, rows[0])
        return user if self.user_can_authenticate(user) else None


@lru_cache(maxsize=1)
def _user_sql(model) -> str:
    q = connections["default"].ops.quote_name
    return f"SELECT {rawsql.columns(model, 'u')} FROM {q(model._meta.db_table)} u WHERE u.{q(model._meta.pk.column)} = %s"
