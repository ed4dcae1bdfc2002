"""Product settings the merchant edits: presale terms and the regions a product is not delivered to."""
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from orders.models import Product
from shop_admin.kernel.errors import Invalid


def presale_deposit_ratio_refusal(ratio: Decimal) -> str | None:
    """Why a presale deposit ratio is outside the platform's bounds (settings), or None."""
    low, high = settings.PRESALE_DEPOSIT_RATIO_MIN, settings.PRESALE_DEPOSIT_RATIO_MAX
    if low <= ratio <= high:
        return None
    return _("定金比例须在%(low)s到%(high)s之间（即订单金额的%(low_pct)d%%-%(high_pct)d%%）") % {
        "low": low, "high": high, "low_pct": low * 100, "high_pct": high * 100,
    }


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
    if is_presale and presale_deposit_ratio is not None:
        refusal = presale_deposit_ratio_refusal(presale_deposit_ratio)
        if refusal:
            raise Invalid(refusal, code="invalid_deposit_ratio", details={"fields": {"presale_deposit_ratio": refusal}})
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        product.is_presale = is_presale
        product.presale_deposit_ratio = presale_deposit_ratio if is_presale else None
        product.presale_balance_due = presale_balance_due if is_presale else None
        product.presale_ship_days = presale_ship_days if is_presale else None
        product.excluded_regions = sorted(set(excluded_regions))
        product.save()
    return product


def product_rating_count(*, product_id: int, rating: int, counted: bool) -> None:
    """A review enters (`counted`) or leaves the product's score; the caller's transaction holds the review's change.

    One UPDATE with F(): concurrent reviews of one product add up without a lost update.
    """
    sign = 1 if counted else -1
    Product.objects.filter(pk=product_id).update(
        review_count=F("review_count") + sign, rating_total=F("rating_total") + sign * rating
    )
