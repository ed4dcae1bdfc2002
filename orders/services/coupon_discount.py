"""The one rule for what a coupon takes off an amount: amount coupons (满减) and rate coupons (折扣券)."""
from decimal import ROUND_HALF_UP, Decimal

from orders.models import Coupon

FEN = Decimal("0.01")


def coupon_discount_on(*, coupon: Coupon, base: Decimal) -> Decimal:
    """What `coupon` takes off `base` (the yuan it applies to, its threshold already met), in fen.

    An amount coupon takes its face value, never more than the base. A rate coupon takes (1 - rate) of the base,
    rounded to the fen half up (四舍五入, what a merchant computes by hand: 9折 on 10.05 takes 1.01 off), never more
    than its cap (`discount`) nor the base. Submission, recovery and the reports all read the result of this.
    """
    if coupon.discount_rate is None:
        return min(coupon.discount, base)
    off = (base * (Decimal(1) - coupon.discount_rate)).quantize(FEN, rounding=ROUND_HALF_UP)
    return min(off, coupon.discount, base)
