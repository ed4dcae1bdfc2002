"""`POST /perf-floor/take`: one unit of a stock row and one ledger row in one transaction, as tests/perf/floor.py."""
from django.db import connection, transaction
from django.urls import path
from ninja import NinjaAPI, Schema, Status

api = NinjaAPI(urls_namespace="perf_bare", docs_url=None, openapi_url=None)


class TakeIn(Schema):
    stock_level_id: int


@api.post("/take", response={201: dict, 409: dict})
def take(request, payload: TakeIn):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_stocklevel SET available = available - 1 WHERE id = %s AND available >= 1",
            [payload.stock_level_id],
        )
        if cursor.rowcount != 1:
            return Status(409, {"error": {"code": "floor_missed", "message": f"rowcount {cursor.rowcount}"}})
        cursor.execute("INSERT INTO perf_floor_ledger (stock_level_id) VALUES (%s) RETURNING id", [payload.stock_level_id])
        ledger_id = cursor.fetchone()[0]
    return Status(201, {"ledger_id": ledger_id})


@api.get("/ready")
def ready(request):
    return {"ok": True}


urlpatterns = [path("perf-floor/", api.urls)]
