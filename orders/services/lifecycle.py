"""Order lifecycle after submission: cancel, expire, ship, deliver, confirm receipt, settle, change address, risk review."""
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.addresses import address_validate, is_remote
from orders.constants import (
    ExceptionKind,
    ExceptionStatus,
    LedgerKind,
    OrderKind,
    OrderStatus,
)
from orders.events import (
    address_changed_event,
    auto_confirm_paused_event,
    auto_confirm_resumed_events,
    order_settled_event,
    remark_set_event,
    risk_approved_event,
)
from orders.models import (
    CouponRedemption,
    LedgerEntry,
    Order,
    OrderException,
    Settlement,
)
from orders.services.common import order_lock, order_transition, orders_transition_many, transition_refusal
from orders.services.exceptions import exception_resolve
from orders.services.refundable import order_refundable_total, order_refunds_total
from orders.services.refunds import refund_create
from orders.services.stock import (
    stock_deduct_lines,
    stock_release_orders,
    stock_unoccupy_lines,
)
from orders.sql import orders_auto_confirm_resume_rows
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.shoprules import shop_rule

CENT = Decimal("0.01")


# --- cancellation: one path for a buyer's cancel, the pay-window job and the sweep ---


def _orders_cancel(order_ids: list[int], *, actor: Actor, reason: str, now: datetime) -> None:
    """Cancel locked orders (one, or a sweep's batch): release their stock and coupons, forfeit presale deposits, one event each."""
    fields = {"cancelled_at": now, "cancelled_by": actor.kind}
    # The FSM's two ways in: an unpaid order is cancelled, a presale deposit forfeited.
    forfeited = orders_transition_many(order_ids=order_ids, name="forfeit_deposit", actor=actor, reason=reason, **fields)
    orders_transition_many(order_ids=order_ids, name="cancel", actor=actor, reason=reason, **fields)
    stock_release_orders(order_ids)
    CouponRedemption.objects.filter(order_id__any_of=list(order_ids), released_at__isnull=True).update(released_at=now)
    if forfeited:
        LedgerEntry.objects.bulk_create(
            LedgerEntry(order_id=pk, kind=LedgerKind.DEPOSIT_FORFEIT, amount=paid)
            for pk, paid in Order.objects.filter(pk__any_of=[m.order_id for m in forfeited], paid_amount__gt=0).values_list("pk", "paid_amount")
        )


def order_cancel(*, order: Order, actor: Actor, reason: str) -> Order:
    """Cancel before payment (buyer or merchant)."""
    with transaction.atomic():
        order = order_lock(order.pk)
        refusal = transition_refusal(order, "cancel")
        if refusal:
            raise Conflict(refusal, code="invalid_transition", details={"status": order.status})
        _orders_cancel([order.pk], actor=actor, reason=reason or gettext_noop("买家取消"), now=timezone.now())
        order.refresh_from_db()
    return order


def orders_due(*, status: str, deadline: str, now: datetime) -> QuerySet:
    """Orders in `status` whose `deadline` column has passed: what the kind locks and what the sweep walks."""
    return Order.objects.filter(status=status, **{f"{deadline}__lte": now})


def order_pay_due(now: datetime) -> QuerySet:
    return orders_due(status=OrderStatus.PENDING_PAYMENT, deadline="pay_deadline", now=now)


def presale_balance_due(now: datetime) -> QuerySet:
    return orders_due(status=OrderStatus.DEPOSIT_PAID, deadline="balance_deadline", now=now)


def order_auto_confirm_due(now: datetime) -> QuerySet:
    return orders_due(status=OrderStatus.DELIVERED, deadline="auto_confirm_at", now=now)


def orders_due_lock(*, due: QuerySet, deadline: str, ids: list[int] | None) -> list[int]:
    """The ids of the `due` orders, nearest `deadline` first, locked, at most a sweep batch; rows another process holds are skipped."""
    queryset = due.order_by(deadline)
    if ids is not None:
        queryset = queryset.filter(pk__any_of=list(ids))
    return list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[: settings.SWEEP_BATCH_SIZE])


def order_pay_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: cancel orders whose pay window has closed; returns how many."""
    with transaction.atomic():
        due = orders_due_lock(due=order_pay_due(now), deadline="pay_deadline", ids=ids)
        if due:
            _orders_cancel(due, actor=Actor.system("order_pay_timeout"), reason=gettext_noop("超时未支付，自动取消"), now=now)
        return len(due)


def presale_balance_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: a balance not paid by its date cancels the order and forfeits the deposit."""
    with transaction.atomic():
        due = orders_due_lock(due=presale_balance_due(now), deadline="balance_deadline", ids=ids)
        if due:
            _orders_cancel(due, actor=Actor.system("presale_balance_timeout"), reason=gettext_noop("尾款超时未付，订单取消，定金不退"), now=now)
        return len(due)


# --- fulfilment ---


def order_ship(*, order: Order, actor: Actor, carrier: str, tracking_no: str) -> Order:
    """Hand the parcel to the carrier: occupied stock is deducted. The shipment row is logistics' to write."""
    with transaction.atomic():
        order = order_lock(order.pk)
        order.shipped_at = timezone.now()  # saved with the transition; discarded if it is refused
        order_transition(order, "ship", actor, data={"carrier": carrier, "tracking_no": tracking_no})
        stock_deduct_lines(list(order.lines.all()))
        # Shipped late is still shipped: the paid-not-shipped exception the ship deadline raised is answered.
        for exception in OrderException.objects.filter(order=order, kind=ExceptionKind.PAID_NOT_SHIPPED, status=ExceptionStatus.OPEN):
            exception_resolve(
                exception=exception, actor=actor, resolution=gettext_noop("已发货：%(no)s"), resolution_params={"no": tracking_no}
            )
    return order


def auto_confirm_window(order: Order):
    """The shop's auto-confirm days for this order's category (fresh, presale, remote, normal)."""
    if order.kind == OrderKind.FRESH:
        return shop_rule(order.shop_id, "auto_confirm_fresh")
    if order.kind == OrderKind.PRESALE:
        return shop_rule(order.shop_id, "auto_confirm_presale")
    if order.is_remote:
        return shop_rule(order.shop_id, "auto_confirm_remote")
    return shop_rule(order.shop_id, "auto_confirm")


def order_mark_delivered(*, order: Order, actor: Actor, at: datetime | None = None) -> Order:
    """The carrier reports the parcel signed: start the auto-confirm clock."""
    with transaction.atomic():
        order = order_lock(order.pk)
        order.delivered_at = at or timezone.now()
        if order.auto_confirm_paused_at:  # an after-sale case is open: the clock starts when it resumes
            order.auto_confirm_remaining = auto_confirm_window(order)
        else:
            order.auto_confirm_at = order.delivered_at + auto_confirm_window(order)
        order_transition(order, "deliver", actor)
        if order.auto_confirm_at:
            deadline_schedule(name="order_auto_confirm", pk=order.pk, at=order.auto_confirm_at)
    return order


def order_auto_confirm_pause(*, order: Order, actor: Actor, reason: str) -> Order:
    """Stop the auto-confirm clock, keeping the time it had left (an after-sale case opened); a no-op if stopped."""
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.auto_confirm_paused_at or order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            return order
        now = timezone.now()
        order.auto_confirm_paused_at = now
        if order.auto_confirm_at:
            order.auto_confirm_remaining = max(order.auto_confirm_at - now, timedelta(0))
            order.auto_confirm_at = None
        order.save(update_fields=["auto_confirm_paused_at", "auto_confirm_remaining", "auto_confirm_at", "updated_at"])
        auto_confirm_paused_event(order=order, actor=actor, reason=reason)
    return order


def order_auto_confirm_resume(*, order: Order, actor: Actor, reason: str) -> Order:
    """Start the auto-confirm clock again with the time it had left when it was paused; a no-op if it runs."""
    with transaction.atomic():
        order = order_lock(order.pk)
        orders_auto_confirm_resume_many(order_ids=[order.pk], actor=actor, reason=reason, now=timezone.now())
        order.refresh_from_db(fields=["auto_confirm_paused_at", "auto_confirm_remaining", "auto_confirm_at", "updated_at"])
    return order


def orders_auto_confirm_resume_many(*, order_ids: list[int], actor: Actor, reason: str, now: datetime) -> None:
    """Start the auto-confirm clock of locked orders (one, or a sweep's batch) again with the time each had left when it
    was paused; an order whose clock runs is left alone. One UPDATE, one COPY of events."""
    if not order_ids:
        return
    # A delivered order's clock runs again with the time it had left; any other keeps its auto_confirm_at.
    resumed = orders_auto_confirm_resume_rows(order_ids=order_ids, now=now)
    auto_confirm_resumed_events(resumed={pk: at for pk, at, _scheduled in resumed}, actor=actor, reason=reason)
    for pk, at, scheduled in resumed:
        if scheduled:
            deadline_schedule(name="order_auto_confirm", pk=pk, at=at)


def _escrow_held(order: Order) -> Decimal:
    """What the merchant is owed for the order: paid minus every refund, a pending or failed one included."""
    return order.paid_amount - order_refunds_total(order=order)


def _order_settle(order: Order, actor: Actor) -> Settlement:
    gross = _escrow_held(order)
    commission = (gross * settings.PLATFORM_COMMISSION_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    settlement = Settlement.objects.create(
        order=order, shop_id=order.shop_id, gross=gross, commission=commission, net=gross - commission
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(order=order, kind=LedgerKind.COMMISSION, amount=commission),
            LedgerEntry(order=order, kind=LedgerKind.SETTLEMENT, amount=settlement.net),
        ]
    )
    order_settled_event(order=order, actor=actor, settlement=settlement)
    return settlement


def _order_complete(order: Order, actor: Actor, reason: str, now: datetime) -> None:
    order.completed_at = now
    order_transition(order, "complete", actor, reason=reason)
    _order_settle(order, actor)


def order_confirm_receipt(*, order: Order, actor: Actor) -> Order:
    """The buyer confirms receipt: the order completes and escrow settles to the merchant."""
    with transaction.atomic():
        order = order_lock(order.pk)
        _order_complete(order, actor, gettext_noop("买家确认收货"), timezone.now())
    return order


def order_auto_confirm(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: signed orders the buyer did not confirm complete on their own."""
    with transaction.atomic():
        due = orders_due_lock(due=order_auto_confirm_due(now), deadline="auto_confirm_at", ids=ids)
        for order in Order.objects.filter(pk__any_of=due).order_by("auto_confirm_at"):
            _order_complete(order, Actor.system("order_auto_confirm"), gettext_noop("签收后超时未确认，系统自动确认收货"), now)
        return len(due)


# --- changes before shipment ---


def order_change_address(*, order: Order, actor: Actor, address: dict) -> Order:
    clean = address_validate(address)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.DEPOSIT_PAID, OrderStatus.PAID):
            raise Conflict(
                _("订单状态为「%(status)s」，发货后不能修改地址") % {"status": order.get_status_display()},
                code="invalid_transition",
                details={"status": order.status},
            )
        blocked = [
            {"sku_id": ln.sku_id, "product": ln.product_name}
            for ln in order.lines.select_related("sku__product")
            if clean.province in (ln.sku.product.excluded_regions or [])
        ]
        if blocked:
            raise Invalid(
                _("以下商品不配送到%(region)s") % {"region": clean.province},
                code="undeliverable_area",
                details={"lines": blocked},
            )
        old = order.address_dict()
        order.recipient_name, order.phone = clean.name, clean.phone
        order.province, order.city, order.district, order.address_detail = clean.province, clean.city, clean.district, clean.detail
        order.is_remote = is_remote(clean)
        order.save(
            update_fields=["recipient_name", "phone", "province", "city", "district", "address_detail", "is_remote", "updated_at"]
        )
        address_changed_event(order=order, actor=actor, old=old)
    return order


def order_risk_approve(*, order: Order, actor: Actor, note: str = "") -> Order:
    """A reviewer clears a large or frozen order for shipping."""
    with transaction.atomic():
        order = order_lock(order.pk)
        if not (order.needs_risk_review or order.is_frozen):
            raise Conflict(_("该订单不需要风控审核"), code="no_review_needed")
        # A freeze for too many payment attempts is recorded as a payment anomaly; approving settles it too.
        reviewed = [ExceptionKind.RISK_REVIEW] + ([ExceptionKind.PAYMENT_ANOMALY] if order.is_frozen else [])
        order.needs_risk_review = False
        order.is_frozen = False
        order.save(update_fields=["needs_risk_review", "is_frozen", "updated_at"])
        for exception in OrderException.objects.filter(order=order, kind__in=reviewed, status=ExceptionStatus.OPEN):
            exception_resolve(exception=exception, actor=actor, resolution=note or gettext_noop("风控审核通过"))
        risk_approved_event(order=order, actor=actor, note=note)
        order.refresh_from_db()
    return order



def order_mark_rejected(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """The buyer refused the parcel at the door; the goods go back and after-sale takes over."""
    with transaction.atomic():
        order = order_lock(order.pk)
        order_transition(order, "reject", actor, reason=reason or _("买家拒收"))
    return order


def order_refund_close(*, order: Order, actor: Actor, reason: str) -> Order:
    """Refund everything still held through the refund service, which closes the order and releases unshipped stock."""
    with transaction.atomic():
        order = order_lock(order.pk)
        refusal = transition_refusal(order, "close")
        if refusal:
            raise Conflict(refusal, code="invalid_transition", details={"status": order.status, "action": "close"})
        left = order_refundable_total(order=order)
        if left > 0:
            refund_create(order=order, amount=left, actor=actor, reason=reason, source="order")
        else:  # nothing left to give back (refunded before): the close alone
            order_transition(order, "close", actor, reason=reason)
            stock_unoccupy_lines(list(order.lines.all()))
        order.refresh_from_db()
    return order


def order_remark_set(*, order: Order, actor: Actor, remark: str, flag: int) -> Order:
    """The merchant's own note and colour flag (0 none, 1-5 as 抖店 has); not a state change, but audited."""
    if not 0 <= flag <= 5:
        raise Invalid(_("旗帜须为0到5"), code="invalid_flag", details={"fields": {"flag": _("须为0到5")}})
    with transaction.atomic():
        order = order_lock(order.pk)
        old = {"remark": order.merchant_remark, "flag": order.remark_flag}
        order.merchant_remark, order.remark_flag = remark[:500], flag
        order.save(update_fields=["merchant_remark", "remark_flag", "updated_at"])
        remark_set_event(order=order, actor=actor, old=old)
    return order
