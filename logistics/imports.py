"""The parcel of an order imported from CSV already shipped: its carrier and tracking number (快递公司, 快递单号).

Orders' import knows no parcels: logistics registers these two functions on its order
part (`OrderPart.import_check`, `import_write`). An imported order that is shipped,
signed or completed and names its parcel gets it, as if shipped here: the carrier by
code or Chinese name, the number in the carrier's format and used by no other parcel
(nor twice in the file). A parcel still on the road starts its stall clock at the
import (the other channel's history is not ours to judge); a signed one is signed at
the order's time. An order without the two columns is imported without a parcel.
"""
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from logistics.constants import ShipmentStatus
from logistics.models import Shipment
from logistics.services import carrier_parse, tracking_validate
from orders.constants import OrderStatus
from orders.parts import ImportedOrder
from shop_admin.kernel.bulk import ids_allocate, rows_copy
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Invalid

SHIPPED = {OrderStatus.SHIPPED: ShipmentStatus.IN_TRANSIT, OrderStatus.DELIVERED: ShipmentStatus.SIGNED, OrderStatus.COMPLETED: ShipmentStatus.SIGNED}
CARRIER, NUMBER = "快递公司", "快递单号"


def _carrier_codes(orders: list[ImportedOrder]) -> dict[str, str]:
    """`carrier_parse` of each distinct carrier cell of the file, once (a file repeats a handful of them)."""
    texts = {order.values.get(CARRIER, "").strip() for order in orders}
    return {text: carrier_parse(text) or "" for text in texts}


def _parcel(order: ImportedOrder, codes: dict[str, str]) -> tuple[str, str, str]:
    """(what the file says of the carrier, its code or '', the number upper-cased)."""
    text = order.values.get(CARRIER, "").strip()
    return text, codes[text], order.values.get(NUMBER, "").strip().upper()


def shipments_import_check(shop_id: int, orders: list[ImportedOrder]) -> list[tuple[int, str, str]]:
    """Bad parcel cells of the new shipped orders, as (line, column, message id[, params]); numbers already used looked up at once."""
    errors: list[tuple] = []
    shipped = [order for order in orders if order.status in SHIPPED]
    codes = _carrier_codes(shipped)
    parsed = [(order, *_parcel(order, codes)) for order in shipped]
    numbers = [number for _o, _t, _c, number in parsed if number]
    used = set(Shipment.objects.filter(tracking_no__in=numbers).values_list("carrier", "tracking_no")) if numbers else set()
    seen: dict[tuple[str, str], int] = {}
    for order, text, code, number in parsed:
        if not text and not number:
            continue  # shipped elsewhere, parcel unknown: imported without one
        if not text:
            errors.append((order.line, CARRIER, gettext_noop("填写了快递单号时必填")))
        elif not code:
            errors.append((order.line, CARRIER, gettext_noop("不支持的快递公司：%(c)s"), {"c": text}))
        if not number:
            errors.append((order.line, NUMBER, gettext_noop("填写了快递公司时必填")))
        if not (code and number):
            continue
        try:
            tracking_validate(carrier=code, tracking_no=number)
        except Invalid as exc:
            errors.append((order.line, NUMBER, str(exc.details["fields"].get("tracking_no", exc.message))))
            continue
        if (code, number) in seen:
            errors.append((order.line, NUMBER, gettext_noop("与第%(line)d行的快递单号重复"), {"line": seen[(code, number)]}))
        elif (code, number) in used:
            errors.append((order.line, NUMBER, gettext_noop("该快递单号已用于其他订单")))
        seen.setdefault((code, number), order.line)
    return errors


def shipments_import_write(orders: list[ImportedOrder]) -> None:
    """The parcels of the new shipped orders, in bulk (inside the import's transaction), their stall clocks set."""
    now = timezone.now()
    rows = []
    shipped = [order for order in orders if order.status in SHIPPED]
    codes = _carrier_codes(shipped)
    for order in shipped:
        _text, code, number = _parcel(order, codes)
        if not (code and number):
            continue
        moving = SHIPPED[order.status] == ShipmentStatus.IN_TRANSIT
        rows.append(
            {
                "order_id": order.order_id,
                "shop_id": order.shop_id,
                "carrier": code,
                "tracking_no": number,
                "status": SHIPPED[order.status],
                "shipped_at": order.created_at,
                "signed_at": None if moving else order.created_at,
                "stall_deadline": now + settings.LOGISTICS_STALL_AFTER if moving else None,
            }
        )
    if not rows:
        return
    for row, pk in zip(rows, ids_allocate(Shipment, len(rows))):
        row["id"] = pk
    rows_copy(Shipment, rows)
    for row in rows:
        if row["stall_deadline"]:
            deadline_schedule(name="shipment_stall_timeout", pk=row["id"], at=row["stall_deadline"])
