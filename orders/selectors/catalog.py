"""Reads of products, SKUs and their stock per warehouse."""

from django.db.models import Prefetch, Sum
from django.utils.translation import gettext as _

from orders.models import (
    Product,
    Sku,
    StockLevel,
)
from shop_admin.kernel.errors import NotFound


def sku_get_for_shops(*, shop_ids: set[int], sku_id: int) -> Sku:
    """A SKU of one of these shops; any other shop's SKU does not exist for the caller."""
    sku = Sku.objects.filter(pk=sku_id, shop_id__in=shop_ids).first()
    if sku is None:
        raise NotFound(_("SKU不存在"), code="sku_not_found")
    return sku


def stock_levels_of_sku(*, sku_id: int) -> list[StockLevel]:
    """The SKU's stock per warehouse, in shipping priority, each with its warehouse."""
    return list(StockLevel.objects.filter(sku_id=sku_id).select_related("warehouse").order_by("warehouse__priority", "warehouse_id"))


def products_with_stock(*, shop_id: int) -> list[Product]:
    """The shop's products, active first, with their SKUs and each SKU's stock per warehouse."""
    levels = StockLevel.objects.select_related("warehouse").order_by("warehouse__priority", "warehouse_id")
    skus = Sku.objects.prefetch_related(Prefetch("stock_levels", queryset=levels)).order_by("pk")
    return list(Product.objects.filter(shop_id=shop_id).prefetch_related(Prefetch("skus", queryset=skus)).order_by("-is_active", "pk"))


def product_get_for_shops(*, shop_ids: set[int], product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, shop_id__in=shop_ids).first()
    if product is None:
        raise NotFound(_("商品不存在"), code="product_not_found")
    return product


def stock_level_get_for_shops(*, shop_ids: set[int], level_id: int) -> StockLevel:
    level = StockLevel.objects.select_related("sku", "warehouse").filter(pk=level_id, sku__shop_id__in=shop_ids).first()
    if level is None:
        raise NotFound(_("库存记录不存在"), code="stock_not_found")
    return level


def stock_totals(levels) -> dict[str, int]:
    """The one way stock is summed over warehouses: free to sell, locked, occupied, and on the shelf (all three)."""
    totals = {"available": 0, "locked": 0, "occupied": 0}
    for level in levels:
        totals["available"] += level.available
        totals["locked"] += level.locked
        totals["occupied"] += level.occupied
    totals["on_hand"] = totals["available"] + totals["locked"] + totals["occupied"]
    return totals


def stock_status(*, is_presale: bool, available: int, low_stock_threshold: int) -> str:
    """`low_stock_threshold` is the shop's (shop_rule "low_stock_threshold"), read once per listing, not per SKU."""
    if available <= 0:
        return "sold_out"
    if is_presale:
        return "presale"
    if available <= low_stock_threshold:
        return "low_stock"
    return "in_stock"


def products_for_shop(*, shop_id: int) -> list[Product]:
    """Active products with active SKUs; each SKU carries `stock_available`, summed over warehouses."""
    skus = Sku.objects.filter(is_active=True).annotate(stock_available=Sum("stock_levels__available")).order_by("pk")
    return list(
        Product.objects.filter(shop_id=shop_id, is_active=True)
        .prefetch_related(Prefetch("skus", queryset=skus))
        .order_by("pk")
    )
