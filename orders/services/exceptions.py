"""The one exception record: any app raises it against an order, the merchant resolves it with a remedy."""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import SHIP_BLOCKING_EXCEPTIONS, ExceptionKind, ExceptionStatus, OrderStatus
from orders.evidence import exception_evidence
from orders.exception_events import (
    exception_escalated_events,
    exception_evidence_event,
    exception_opened_event,
    exceptions_resolved_events,
)
from orders.exception_hooks import exception_resolved_hooks_run
from orders.exception_selectors import exception_counts_changed
from orders.models import Coupon, Order, OrderException
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.text import stored_params

EVIDENCE_MAX = 20  # urls per exception: enough for photos, chat logs and screenshots; a bound on what one row holds


# The exception a remedy is resolving right now: when the remedy ends its order (cancel_refund closes it), the
# order's end leaves this one to the remedy, whose record says how it was settled.
_remedy_resolving: ContextVar[frozenset[int]] = ContextVar("exception_remedy_resolving", default=frozenset())


@contextmanager
def exception_remedy_resolving(exception_id: int) -> Iterator[None]:
    token = _remedy_resolving.set(_remedy_resolving.get() | {exception_id})
    try:
        yield
    finally:
        _remedy_resolving.reset(token)


def exceptions_remedy_resolving() -> frozenset[int]:
    return _remedy_resolving.get()


def _set_on_hold(order: Order, on_hold: bool) -> None:
    # A column update, not save(): the caller may hold an instance from before a transition in the same transaction.
    Order.objects.filter(pk=order.pk).update(on_hold=on_hold, updated_at=timezone.now())
    order.on_hold = on_hold


def exception_deadline(*, order: Order, kind: str, now: datetime) -> datetime | None:
    """By when the merchant should have settled an exception of this kind, where a rule says so."""
    if kind == ExceptionKind.PAID_NOT_SHIPPED:
        return order.created_at + settings.PAID_NOT_SHIPPED_REMEDY_WINDOW
    if kind == ExceptionKind.NOT_RECEIVED:
        return (order.delivered_at or now) + settings.LOGISTICS_LOSS_APPEAL_WINDOW
    if kind in (ExceptionKind.OVERSELL, ExceptionKind.MERCHANT_REPORTED, ExceptionKind.RISK_REVIEW, ExceptionKind.ADDRESS_ANOMALY):
        # A held order still has to ship on time: its ship-by is the exception's deadline.
        return order.ship_deadline or now + settings.EXCEPTION_DEFAULT_WINDOW
    if kind == ExceptionKind.PAYMENT_ANOMALY:
        return now + settings.EXCEPTION_DEFAULT_WINDOW
    return None


def evidence_clean(evidence: list[str] | None, *, field: str = "evidence") -> list[str]:
    """Evidence as http(s) urls, stripped and without repeats; anything else is refused naming the field."""
    cleaned: list[str] = []
    for index, url in enumerate(evidence or []):
        url = str(url).strip()
        if not url:
            continue
        if not url.startswith(("http://", "https://")) or len(url) > 500 or any(ch.isspace() for ch in url):
            raise Invalid(
                _("证据须为 http(s) 链接"), code="invalid_evidence", details={"fields": {f"{field}.{index}": _("不是有效的链接")}}
            )
        if url not in cleaned:
            cleaned.append(url)
    if len(cleaned) > EVIDENCE_MAX:
        raise Invalid(
            _("证据最多%(n)d条") % {"n": EVIDENCE_MAX}, code="invalid_evidence", details={"fields": {field: _("太多")}}
        )
    return cleaned


def exception_open(
    *,
    order: Order,
    kind: str,
    actor: Actor,
    detail: str = "",
    detail_params: dict | None = None,
    data: dict | None = None,
    evidence: list[str] | None = None,
    deadline: datetime | None = None,
) -> OrderException:
    """Raise an exception on the order (a no-op returning the open one if it is already raised).

    A detail the system writes is a message id with `detail_params` (read through `stored_text`); a person's is their words.
    """
    evidence = evidence_clean(evidence)
    with transaction.atomic():
        existing = OrderException.objects.filter(order=order, kind=kind, status=ExceptionStatus.OPEN).first()
        if existing:
            return existing
        now = timezone.now()
        exception = OrderException.objects.create(
            order=order,
            shop_id=order.shop_id,
            kind=kind,
            detail=detail,
            data=stored_params(data, "detail_params", detail_params),
            evidence=evidence,
            deadline=deadline or exception_deadline(order=order, kind=kind, now=now),
        )
        if kind in SHIP_BLOCKING_EXCEPTIONS and not order.on_hold:
            _set_on_hold(order, True)
        if exception.deadline is not None:
            deadline_schedule(name="exception_deadline_passed", pk=exception.pk, at=exception.deadline)
        exception_opened_event(order=order, actor=actor, exception=exception)
        exception_counts_changed(shop_id=order.shop_id)
        return exception


def order_not_received_report(*, order: Order, actor: Actor, description: str) -> OrderException:
    """The buyer says a signed parcel never arrived: only a signed (or completed) order can say so."""
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise Conflict(
            _("订单状态为「%(status)s」，签收后才能反馈未收到") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    # The tracking facts (last events, signed time and place) come from whoever registered them: logistics.
    evidence = exception_evidence(order=order, kind=ExceptionKind.NOT_RECEIVED)
    return exception_open(order=order, kind=ExceptionKind.NOT_RECEIVED, actor=actor, detail=description, data=evidence)


def order_merchant_report(*, order: Order, actor: Actor, description: str, evidence: list[str] | None = None) -> OrderException:
    """The merchant found the goods damaged or missing before dispatch: the order is held until it is resolved."""
    description = (description or "").strip()
    if not description:
        raise Invalid(_("请说明异常情况"), code="invalid_input", details={"fields": {"description": _("不能为空")}})
    if order.status not in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID):
        raise Conflict(
            _("订单状态为「%(status)s」，只有待发货的订单可以报告缺货/破损") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    with transaction.atomic():
        if OrderException.objects.filter(order=order, kind=ExceptionKind.MERCHANT_REPORTED, status=ExceptionStatus.OPEN).exists():
            raise Conflict(_("该订单已有未处理的商家报告异常"), code="exception_already_open")
        return exception_open(
            order=order, kind=ExceptionKind.MERCHANT_REPORTED, actor=actor, detail=description[:2000], evidence=evidence
        )


def exception_lock(exception_id: int) -> OrderException:
    """The exception row, locked, refused if it is no longer open: two clerks cannot both resolve it."""
    exception = OrderException.objects.select_for_update().select_related("order").get(pk=exception_id)
    if exception.status != ExceptionStatus.OPEN:
        raise Conflict(_("该异常已处理"), code="exception_resolved")
    return exception


def exception_evidence_add(*, exception: OrderException, actor: Actor, evidence: list[str]) -> OrderException:
    """Attach evidence to an open exception; the timeline records what was added."""
    added = evidence_clean(evidence)
    if not added:
        raise Invalid(_("请提供证据链接"), code="invalid_evidence", details={"fields": {"evidence": _("不能为空")}})
    with transaction.atomic():
        exception = exception_lock(exception.pk)
        new = [url for url in added if url not in exception.evidence]
        exception.evidence = evidence_clean(exception.evidence + new)
        exception.save(update_fields=["evidence"])
        exception_evidence_event(order=exception.order, actor=actor, exception=exception, urls=new)
    return exception


def exception_resolve(
    *,
    exception: OrderException,
    actor: Actor,
    resolution: str,
    resolution_params: dict | None = None,
    remedy: str = "",
    note: str = "",
    evidence: list[str] | None = None,
    coupon: Coupon | None = None,
) -> OrderException:
    """Close the exception: who, how (remedy, note), its evidence and any compensation coupon; release the hold if it was the last."""
    evidence = evidence_clean(evidence)
    with transaction.atomic():
        exception = exception_lock(exception.pk)
        exception.status = ExceptionStatus.RESOLVED
        exception.resolved_at = timezone.now()
        exception.resolution = resolution
        exception.data = stored_params(exception.data, "resolution_params", resolution_params)
        exception.remedy = remedy
        exception.note = note
        exception.resolved_by = actor.user
        exception.resolved_by_label = actor.label[:64]
        exception.evidence = evidence_clean(exception.evidence + [url for url in evidence if url not in exception.evidence])
        if coupon is not None:
            exception.coupon = coupon
        exception.save(
            update_fields=[
                "status", "resolved_at", "resolution", "data", "remedy", "note", "resolved_by", "resolved_by_label", "evidence", "coupon"
            ]
        )
        exceptions_resolved_effects([exception], actor=actor)
        return exception


def exceptions_resolved_effects(exceptions: list[OrderException], *, actor: Actor) -> None:
    """What resolving means beyond the rows, for one exception or a batch (their rows already say resolved, in this transaction).

    The hold goes with the order's last blocking exception, a frozen order's payment anomaly
    settled is the review that lifts the freeze, the kinds' hooks run, and each gets its event.
    """
    now = timezone.now()
    order_ids = {e.order_id for e in exceptions}
    blocked = set(
        OrderException.objects.filter(order_id__in=order_ids, status=ExceptionStatus.OPEN, kind__in=SHIP_BLOCKING_EXCEPTIONS)
        .values_list("order_id", flat=True)
    )
    # Column updates, not save(): callers hold instances from before a transition in the same transaction.
    Order.objects.filter(pk__in=order_ids - blocked, on_hold=True).update(on_hold=False, updated_at=now)
    Order.objects.filter(pk__in=blocked, on_hold=False).update(on_hold=True, updated_at=now)
    unfreeze = {e.order_id for e in exceptions if e.kind == ExceptionKind.PAYMENT_ANOMALY}
    Order.objects.filter(pk__in=unfreeze, is_frozen=True).update(is_frozen=False, updated_at=now)
    for exception in exceptions:
        exception_resolved_hooks_run(exception=exception, actor=actor)
    exceptions_resolved_events(exceptions=exceptions, actor=actor)
    for shop_id in {e.shop_id for e in exceptions}:
        exception_counts_changed(shop_id=shop_id)


def exception_escalation_due(now: datetime) -> QuerySet:
    """Open exceptions past their deadline and not yet escalated."""
    return OrderException.objects.filter(status=ExceptionStatus.OPEN, escalated_at__isnull=True, deadline__lte=now)


def exception_deadline_passed(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: an exception still open past its deadline is escalated to the platform, once.

    The platform's arbitrators find it in the admin (filter 升级平台), the merchant's bell
    and exception centre show it as escalated, and the order's timeline records it. The
    exception stays open for the merchant to settle; escalating again changes nothing.
    """
    with transaction.atomic():
        due = exception_escalation_due(now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        batch = list(due.select_for_update(skip_locked=True).order_by("deadline", "pk")[: settings.SWEEP_BATCH_SIZE])
        if not batch:
            return 0
        OrderException.objects.filter(pk__in=[e.pk for e in batch]).update(escalated_at=now)
        for exception in batch:
            exception.escalated_at = now
        exception_escalated_events(exceptions=batch, actor=Actor.system("exception_deadline_passed"))
        for shop_id in {e.shop_id for e in batch}:
            exception_counts_changed(shop_id=shop_id)
        return len(batch)
