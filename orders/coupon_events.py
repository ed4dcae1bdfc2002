"""The coupon campaigns' own trail: a campaign belongs to no order, so its events are not on a timeline."""
from orders.models import Coupon, CouponEvent
from shop_admin.kernel.actors import Actor


def _coupon_event(*, coupon: Coupon, kind: str, actor: Actor, data: dict) -> CouponEvent:
    return CouponEvent.objects.create(
        coupon=coupon, kind=kind, actor_kind=actor.kind, actor_user=actor.user, actor_label=actor.label[:64], data=data
    )


def coupon_created_event(*, coupon: Coupon, actor: Actor) -> CouponEvent:
    """A campaign created. data: code, scope, sku_ids, threshold, amount (a rate coupon's cap), discount_rate, valid_from, valid_to, total_quantity, per_buyer_limit."""
    return _coupon_event(
        coupon=coupon,
        kind="created",
        actor=actor,
        data={
            "code": coupon.code,
            "scope": coupon.scope,
            "sku_ids": sorted(s.pk for s in coupon.skus.all()),
            "threshold": str(coupon.threshold),
            "amount": str(coupon.discount),
            "discount_rate": None if coupon.discount_rate is None else str(coupon.discount_rate),
            "valid_from": coupon.valid_from.isoformat(),
            "valid_to": coupon.valid_to.isoformat(),
            "total_quantity": coupon.total_quantity,
            "per_buyer_limit": coupon.per_buyer_limit,
        },
    )


def coupon_ended_event(*, coupon: Coupon, actor: Actor) -> CouponEvent:
    """A campaign ended by the merchant. data: issued (claims so far, which stay usable)."""
    return _coupon_event(coupon=coupon, kind="ended", actor=actor, data={"issued": coupon.issued})
