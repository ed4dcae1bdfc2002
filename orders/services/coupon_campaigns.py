"""Shop coupon campaigns (店铺券 / 商品券): the merchant creates and ends them, buyers claim them up to the total."""
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.coupon_events import coupon_created_event, coupon_ended_event
from orders.models import Buyer, Coupon, CouponClaim, Sku
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid, NotFound
from shop_admin.kernel.models import Shop

CODE_ATTEMPTS = 5
TOTAL_QUANTITY_MAX = 1_000_000
PER_BUYER_LIMIT_MAX = 100
RATE_ZHE_MIN, RATE_ZHE_MAX = Decimal("0.1"), Decimal("9.9")  # 折: what 抖店's 折扣券 lets a merchant type


def _money(value, field: str, errors: dict) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = _("须为金额，如 10.00")
        return None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        errors[field] = _("须为不小于0、最多两位小数的金额")
        return None
    return amount


def _count(value, field: str, errors: dict, *, most: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = _("须为整数")
        return None
    if not 1 <= number <= most:
        errors[field] = _("须在1到%(max)d之间") % {"max": most}
        return None
    return number


def _blank(value) -> bool:
    return value is None or str(value).strip() == ""


def _rate(value, errors: dict) -> Decimal | None:
    """折 as a Chinese merchant writes it, 0.1 to 9.9 with at most one decimal (8.5 = pay 85 %), as the part paid."""
    try:
        zhe = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        zhe = None
    if zhe is None or not zhe.is_finite() or not RATE_ZHE_MIN <= zhe <= RATE_ZHE_MAX or zhe != zhe.quantize(Decimal("0.1")):
        errors["rate"] = _("折扣须在0.1到9.9折之间，最多一位小数，如 8.5 折即按原价的0.85付款")
        return None
    return (zhe / 10).quantize(Decimal("0.01"))


def _discount_terms(*, discount_type, threshold, amount, rate, max_discount, errors: dict) -> tuple[Decimal | None, Decimal | None]:
    """(discount, discount_rate): an amount coupon's face value, or a rate coupon's cap and rate; bad fields named."""
    cap = settings.COUPON_AMOUNT_MAX
    if discount_type == "rate":
        if not _blank(amount):
            errors["amount"] = _("折扣券不填面额")
        discount_rate = _rate(rate, errors)
        if _blank(max_discount):
            return cap, discount_rate  # no cap of the merchant's: the platform's cap is the most it takes off
        most = _money(max_discount, "max_discount", errors)
        if most is not None and most <= 0:
            errors["max_discount"] = _("最多减的金额须大于0")
        elif most is not None and most > cap:
            errors["max_discount"] = _("最多减的金额不能超过平台上限%(max)s元") % {"max": cap}
        return most, discount_rate
    if discount_type != "amount":
        errors["discount_type"] = _("须为 amount（满减）或 rate（折扣）")
        return None, None
    for field, value in (("rate", rate), ("max_discount", max_discount)):
        if not _blank(value):
            errors[field] = _("满减券不填此项")
    if _blank(amount):
        errors["amount"] = _("请填写面额")
        return None, None
    amount = _money(amount, "amount", errors)
    if amount is not None:
        if amount <= 0:
            errors["amount"] = _("面额须大于0")
        elif amount > cap:
            errors["amount"] = _("面额不能超过平台上限%(max)s元") % {"max": cap}
        elif threshold is not None and amount >= threshold:
            errors["amount"] = _("面额须小于使用门槛%(threshold)s元") % {"threshold": threshold}
    return amount, None


def coupon_terms_clean(
    *, shop: Shop, name, scope, sku_ids, threshold, valid_from, valid_to, total_quantity, per_buyer_limit, now: datetime,
    amount=None, discount_type="amount", rate=None, max_discount=None,
) -> dict:
    """The campaign's terms checked against the platform's rules; every bad field named at once (422 `invalid_coupon`)."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 60:
        errors["name"] = _("请填写1到60个字的名称")
    if scope not in (Coupon.Scope.SHOP, Coupon.Scope.SKUS):
        errors["scope"] = _("须为 shop（全店）或 skus（指定SKU）")
    skus: list[Sku] = []
    if scope == Coupon.Scope.SKUS:
        raw = list(sku_ids or [])
        wanted = {int(pk) for pk in raw if str(pk).isdigit()}
        if not wanted or len(wanted) != len({str(pk) for pk in raw}):
            errors["sku_ids"] = _("请选择至少一个SKU")
        else:
            # Another shop's SKU is named as unknown: its existence is none of this merchant's business.
            skus = list(Sku.objects.filter(shop=shop, pk__in=wanted))
            missing = sorted(wanted - {s.pk for s in skus})
            if missing:
                errors["sku_ids"] = _("本店没有这些SKU：%(ids)s") % {"ids": ", ".join(map(str, missing))}
    threshold = _money(threshold, "threshold", errors)
    discount, discount_rate = _discount_terms(
        discount_type=discount_type, threshold=threshold, amount=amount, rate=rate, max_discount=max_discount, errors=errors
    )
    for field, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if not isinstance(value, datetime):
            errors[field] = _("请填写时间")
    if isinstance(valid_from, datetime) and isinstance(valid_to, datetime):
        if valid_to <= valid_from:
            errors["valid_to"] = _("结束时间须晚于开始时间")
        elif valid_to <= now:
            errors["valid_to"] = _("结束时间已过")
    total_quantity = _count(total_quantity, "total_quantity", errors, most=TOTAL_QUANTITY_MAX)
    per_buyer_limit = _count(per_buyer_limit, "per_buyer_limit", errors, most=PER_BUYER_LIMIT_MAX)
    if errors:
        raise Invalid(
            _("优惠券设置有误：%(fields)s") % {"fields": ", ".join(errors)}, code="invalid_coupon", details={"fields": errors}
        )
    return {
        "name": name,
        "scope": scope,
        "skus": skus,
        "threshold": threshold,
        "discount": discount,
        "discount_rate": discount_rate,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "total_quantity": total_quantity,
        "per_buyer_limit": per_buyer_limit,
    }


def coupon_create(*, shop: Shop, actor: Actor, **terms) -> Coupon:
    """A new campaign of the shop, claimable by code from `valid_from` until `valid_to` or until it is ended."""
    cleaned = coupon_terms_clean(shop=shop, now=timezone.now(), **terms)
    skus = cleaned.pop("skus")
    with transaction.atomic():
        coupon = Coupon(shop=shop, kind=Coupon.Kind.SHOP, created_by=actor.user, **cleaned)
        for _attempt in range(CODE_ATTEMPTS):
            code = f"SC{secrets.token_hex(5).upper()}"
            if not Coupon.objects.filter(code=code).exists():
                break
        coupon.code = code
        coupon.save()
        coupon.skus.set(skus)
        coupon_created_event(coupon=coupon, actor=actor)
    return coupon


def coupon_end(*, coupon: Coupon, actor: Actor) -> Coupon:
    """End the campaign: no more claims. Coupons already claimed stay usable until their `valid_to`."""
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        if coupon.state == Coupon.State.ENDED:
            raise Conflict(_("该优惠券活动已结束"), code="coupon_already_ended")
        coupon.end()
        coupon.ended_at = timezone.now()
        coupon.save()
        coupon_ended_event(coupon=coupon, actor=actor)
    return coupon


def coupon_claim(*, code: str, buyer: Buyer) -> CouponClaim:
    """The buyer claims one coupon of a campaign (领券): never past the total, however many claim at once.

    The total is held like stock: a conditional UPDATE ... SET issued = issued + 1 WHERE issued < total_quantity,
    so concurrent claims queue on the coupon row only from that statement to the commit, and the last unit goes once.
    """
    now = timezone.now()
    coupon = Coupon.objects.filter(code=code, kind=Coupon.Kind.SHOP).first()
    if coupon is None:
        raise NotFound(_("优惠券不存在"), code="coupon_not_found")
    if not coupon.needs_claim:
        raise Conflict(_("该券无需领取，下单时直接使用"), code="coupon_not_claimable")
    if coupon.state == Coupon.State.ENDED:
        raise Conflict(_("该优惠券活动已结束"), code="coupon_ended")
    if now < coupon.valid_from:
        raise Conflict(_("优惠券尚未开始领取"), code="coupon_not_started")
    if now >= coupon.valid_to:
        raise Conflict(_("优惠券已过期"), code="coupon_expired")
    with transaction.atomic():
        # One buyer's concurrent claims (and checkouts) queue here, so the per-buyer limit cannot be passed twice at once.
        list(Buyer.objects.select_for_update().filter(pk=buyer.pk).values_list("pk", flat=True))
        held = CouponClaim.objects.filter(coupon=coupon, buyer=buyer).count()
        if held >= coupon.per_buyer_limit:
            raise Conflict(
                _("每人限领%(n)d张，您已领取") % {"n": coupon.per_buyer_limit},
                code="claim_limit_reached",
                details={"per_buyer_limit": coupon.per_buyer_limit, "claimed": held},
            )
        taken = Coupon.objects.filter(
            pk=coupon.pk, state=Coupon.State.ACTIVE, issued__lt=F("total_quantity")
        ).update(issued=F("issued") + 1)
        if not taken:
            raise Conflict(_("优惠券已被领完"), code="coupon_exhausted", details={"total_quantity": coupon.total_quantity})
        claim = CouponClaim.objects.create(coupon=coupon, buyer=buyer)
    claim.coupon = coupon
    return claim
