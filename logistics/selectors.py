"""Reads of logistics: parcels per order, orders by tracking number."""
from collections import defaultdict

from logistics.models import Shipment


def shipments_by_order(order_ids: list[int]) -> dict[int, list[Shipment]]:
    """The parcels of these orders, oldest first, in one query."""
    by_order: dict[int, list[Shipment]] = defaultdict(list)
    for shipment in Shipment.objects.filter(order_id__in=order_ids).order_by("shipped_at", "pk"):
        by_order[shipment.order_id].append(shipment)
    return by_order


def looks_like_tracking_no(q: str) -> bool:
    upper = q.strip().upper()
    return upper.isascii() and upper.replace("-", "").isalnum() and any(ch.isdigit() for ch in upper)


def order_ids_by_tracking_no(shop_id: int, q: str) -> list[int] | None:
    """Orders of the shop shipped with this tracking number (one index lookup); None if q is not a tracking number."""
    if not looks_like_tracking_no(q):
        return None
    tracking_no = q.strip().upper()
    return list(Shipment.objects.filter(shop_id=shop_id, tracking_no=tracking_no).values_list("order_id", flat=True)[:100])
