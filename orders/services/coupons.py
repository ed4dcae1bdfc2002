"""Compensation coupons: one per exception, for the order's buyer in the order's shop, within the platform limit."""
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.exception_events import compensation_issued_event
from orders.models import Coupon, OrderException
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid


def coupon_amount_clean(value, *, field: str = "coupon_amount") -> Decimal:
    """A face value in yuan, more than 0 and at most the platform limit; anything else names the field."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(_("补偿券金额须为数字"), code="invalid_coupon_amount", details={"fields": {field: _("须为数字")}}) from None
    limit = settings.COMPENSATION_COUPON_MAX
    if not amount.is_finite() or amount <= 0 or amount > limit or amount != amount.quantize(Decimal("0.01")):
        raise Invalid(
            _("补偿券金额须在0.01到%(max)s元之间") % {"max": limit},
            code="invalid_coupon_amount",
            details={"fields": {field: _("须在0.01到%(max)s元之间") % {"max": limit}}},
        )
    return amount


def compensation_coupon_issue(*, exception: OrderException, actor: Actor, amount) -> Coupon:
    """Issue the exception's compensation coupon: no threshold, this buyer and shop only, expiring on its own.

    Runs inside the caller's transaction when there is one (a remedy resolving the exception);
    the one-to-one column on the exception refuses a second coupon even from a concurrent request.
    """
    amount = coupon_amount_clean(amount)
    with transaction.atomic():
        exception = OrderException.objects.select_for_update().select_related("order").get(pk=exception.pk)
        if exception.coupon_id:
            raise Conflict(_("该异常已发放过补偿券"), code="coupon_already_issued", details={"fields": {"coupon_amount": _("每个异常只能补偿一张券")}})
        now = timezone.now()
        order = exception.order
        coupon = Coupon.objects.create(
            shop_id=order.shop_id,
            code=f"CP{secrets.token_hex(6).upper()}",
            name=_("补偿券"),
            kind=Coupon.Kind.COMPENSATION,
            discount=amount,
            threshold=Decimal("0.00"),
            valid_from=now,
            valid_to=now + timedelta(days=settings.COMPENSATION_COUPON_VALID_DAYS),
            per_buyer_limit=1,
            buyer_id=order.buyer_id,
            compensation_for=order,
        )
        exception.coupon = coupon
        exception.save(update_fields=["coupon"])
        compensation_issued_event(order=order, actor=actor, coupon=coupon, exception=exception)
    return coupon
