"""The floor of the order-submission benchmark: the least a write to the hot stock row can cost here.

gunicorn serves `tests.perf.floor:application` in the benchmark runner (never in
production): the project itself, plus one bare django-ninja endpoint,
`POST /perf-floor/take`, that in one transaction takes one unit of a stock row
with the same conditional UPDATE the order spine uses
(`available = available - 1 WHERE id = %s AND available >= 1`, refusing unless
exactly one row matched) and INSERTs one row into `perf_floor_ledger`. Same
gunicorn, same workers, same middleware, same database: what order submission
costs beyond this is ours to cut.
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after the app is set up)
from django.db import connection, transaction  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI, Schema, Status  # noqa: E402

LEDGER_DDL = (
    "CREATE TABLE IF NOT EXISTS perf_floor_ledger "
    "(id bigserial PRIMARY KEY, stock_level_id bigint NOT NULL, taken_at timestamptz NOT NULL DEFAULT now())"
)

floor_api = NinjaAPI(urls_namespace="perf_floor", docs_url=None, openapi_url=None)


class TakeIn(Schema):
    stock_level_id: int


@floor_api.post("/take", response={201: dict, 409: dict})
def take(request, payload: TakeIn):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_stocklevel SET available = available - 1 WHERE id = %s AND available >= 1",
            [payload.stock_level_id],
        )
        if cursor.rowcount != 1:
            # The floor must really take the row; a miss would make it look cheaper than it is.
            return Status(409, {"error": {"code": "floor_missed", "message": f"rowcount {cursor.rowcount}"}})
        cursor.execute("INSERT INTO perf_floor_ledger (stock_level_id) VALUES (%s) RETURNING id", [payload.stock_level_id])
        ledger_id = cursor.fetchone()[0]
    return Status(201, {"ledger_id": ledger_id})


urlpatterns = [path("perf-floor/", floor_api.urls)]
# The project's own URLs after the floor's: every product page and API answers as it does in production.
urlpatterns += __import__(settings.ROOT_URLCONF, fromlist=["urlpatterns"]).urlpatterns
settings.ROOT_URLCONF = __name__
