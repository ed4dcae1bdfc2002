"""Product settings the merchant edits: presale terms and the regions a product is not delivered to."""
from decimal import Decimal

from django.db import transaction

from orders.models import Product


def product_settings_update(
    *,
    product: Product,
    is_presale: bool,
    presale_deposit_ratio: Decimal | None,
    presale_balance_due,
    presale_ship_days: int | None,
    excluded_regions: list[str],
) -> Product:
    """Orders already placed keep their snapshot; the new terms apply to the next order."""
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        product.is_presale = is_presale
        product.presale_deposit_ratio = presale_deposit_ratio if is_presale else None
        product.presale_balance_due = presale_balance_due if is_presale else None
        product.presale_ship_days = presale_ship_days if is_presale else None
        product.excluded_regions = sorted(set(excluded_regions))
        product.save()
    return product
