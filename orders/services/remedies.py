"""Resolving an exception with a remedy, and the remedies orders offers itself.

`exception_remedy_apply` is the one way the console and the API resolve an exception:
it reads the remedy's form values, locks the order and the exception, runs the remedy,
issues the compensation coupon if one was asked for and closes the exception with who,
how, the note and the evidence, all in one transaction: a refused remedy leaves nothing
half-done.
"""
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from orders.constants import ExceptionKind, LineStock, OrderStatus
from orders.events import line_substituted_event, stock_transferred_event
from orders.models import Order, OrderException, OrderLine, Sku
from orders.remedies import FIELD_TYPES, Remedy, RemedyField, coupon_field, remedies_for_kind, remedy_get, remedy_register
from orders.services.common import order_lock
from orders.services.coupons import compensation_coupon_issue, coupon_amount_clean
from orders.services.exceptions import evidence_clean, exception_lock, exception_remedy_resolving, exception_resolve
from orders.services.lifecycle import order_cancel, order_refund_close
from orders.services.refundable import order_refundable_total
from orders.services.refunds import refund_create
from orders.services.stock import stock_occupy_elsewhere
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.models import Warehouse
from shop_admin.kernel.permissions import Perm, require_perm
from shop_admin.kernel.text import join_list


def _field_error(field: str, message: str, *, code: str = "invalid_input") -> Invalid:
    return Invalid(message, code=code, details={"fields": {field: message}})


def remedy_values_clean(remedy: Remedy, raw: dict) -> dict:
    """The remedy's form values, typed; a missing required one or a malformed one is refused naming the field."""
    values: dict = {}
    for field in remedy.fields:
        value = raw.get(field.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                raise _field_error(field.name, _("%(label)s必填") % {"label": field.label}, code="missing_field")
            continue
        kind = FIELD_TYPES[field.name]
        if kind == "money":
            values[field.name] = coupon_amount_clean(value, field=field.name)
        elif kind == "int":
            try:
                values[field.name] = int(str(value).strip())
            except ValueError:
                raise _field_error(field.name, _("%(label)s须为整数") % {"label": field.label}) from None
        else:
            values[field.name] = str(value).strip()[:100]
    return values


def remedy_choose(*, exception: OrderException, name: str) -> Remedy:
    """The named remedy, if it fits this exception's kind; otherwise a 422 naming `remedy` and what fits."""
    remedy = remedy_get(name or "")
    fitting = remedies_for_kind(exception.kind)
    if remedy is None or not remedy.fits(exception.kind):
        raise Invalid(
            _("该异常不能用“%(name)s”处理，可选：%(all)s") % {"name": name, "all": join_list(r.name for r in fitting)},
            code="invalid_remedy",
            details={"fields": {"remedy": _("可选：%(all)s") % {"all": join_list(r.name for r in fitting)}}},
        )
    return remedy


def exception_remedy_apply(
    *,
    exception: OrderException,
    actor: Actor,
    remedy: str,
    note: str = "",
    evidence: list[str] | None = None,
    values: dict | None = None,
) -> OrderException:
    """Resolve the exception with `remedy`: its effect, the optional coupon and the record, or nothing at all."""
    chosen = remedy_choose(exception=exception, name=remedy)
    cleaned = remedy_values_clean(chosen, values or {})
    note = (note or "").strip()[:2000]
    if chosen.note_required and not note:
        raise _field_error("note", _("请填写处理说明"), code="missing_field")
    evidence = evidence_clean(evidence)
    with transaction.atomic():
        # Order first, then exception: the lock order of every order service, so two actions cannot deadlock.
        order = order_lock(exception.order_id)
        exception = exception_lock(exception.pk)
        if order.is_frozen and exception.kind == ExceptionKind.PAYMENT_ANOMALY and actor.user is not None:
            # Settling it lifts the freeze for too many payment attempts: that is a risk reviewer's call.
            require_perm(user=actor.user, shop_id=order.shop_id, perm=Perm.RISK_REVIEW)
        with exception_remedy_resolving(exception.pk):
            resolution = chosen.apply(exception=exception, actor=actor, values=cleaned, note=note)
        coupon = None
        if "coupon_amount" in cleaned:
            coupon = compensation_coupon_issue(exception=exception, actor=actor, amount=cleaned["coupon_amount"])
            resolution = f"{resolution}；" + _("补偿券%(code)s（%(amount)s元）") % {"code": coupon.code, "amount": coupon.discount}
        return exception_resolve(
            exception=exception,
            actor=actor,
            resolution=resolution,
            remedy=chosen.name,
            note=note,
            evidence=evidence,
            coupon=coupon,
        )


# --- the remedies orders offers ---


def _paid_order(exception: OrderException) -> Order:
    order = Order.objects.get(pk=exception.order_id)
    if order.status != OrderStatus.PAID:
        raise Conflict(
            _("订单状态为「%(status)s」，只有待发货的订单可以这样处理") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    return order


def _lines_to_fill(order: Order) -> list[OrderLine]:
    """The lines a stock remedy works on: the short ones; with none short (goods damaged in the warehouse), every line."""
    lines = list(order.lines.select_for_update().order_by("pk"))
    short = [ln for ln in lines if ln.stock_state == LineStock.SHORT]
    return short or [ln for ln in lines if ln.stock_state == LineStock.OCCUPIED]


def _out_of_stock(lines: list[OrderLine], field: str) -> Conflict:
    return Conflict(
        _("库存不足：%(names)s") % {"names": join_list(f"{ln.product_name} {ln.spec}".strip() for ln in lines)},
        code="out_of_stock",
        details={
            "lines": [{"sku_id": ln.sku_id, "sku_code": ln.sku_code, "name": ln.product_name, "requested": ln.quantity} for ln in lines],
            "fields": {field: _("库存不足")},
        },
    )


def remedy_transfer_stock(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    """Fill the order's lines from another warehouse of the shop."""
    order = _paid_order(exception)
    warehouse = Warehouse.objects.filter(pk=values["warehouse_id"], shop_id=order.shop_id).first()
    if warehouse is None:
        raise _field_error("warehouse_id", _("本店没有这个仓库"))
    lines = [ln for ln in _lines_to_fill(order) if ln.stock_state == LineStock.SHORT or ln.stock_level.warehouse_id != warehouse.pk]
    if not lines:
        raise _field_error("warehouse_id", _("订单商品已在该仓库占用库存，无需调拨"))
    short = [ln for ln in lines if stock_occupy_elsewhere(line=ln, sku_id=ln.sku_id, province=order.province, warehouse_id=warehouse.pk) is None]
    if short:
        raise _out_of_stock(short, "warehouse_id")
    stock_transferred_event(
        order=order, actor=actor, warehouse_id=warehouse.pk, lines=[{"sku_id": ln.sku_id, "quantity": ln.quantity} for ln in lines]
    )
    return _("从%(warehouse)s调拨库存：%(names)s") % {"warehouse": warehouse.name, "names": join_list(ln.product_name for ln in lines)}


def remedy_similar_sku(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    """Ship a similar SKU of the shop instead, and refund the price difference if it costs less."""
    order = _paid_order(exception)
    sku = Sku.objects.filter(pk=values["sku_id"], shop_id=order.shop_id, is_active=True).select_related("product").first()
    if sku is None:
        raise _field_error("sku_id", _("本店没有这个在售SKU"))
    lines = [ln for ln in _lines_to_fill(order) if ln.sku_id != sku.pk]
    if not lines:
        raise _field_error("sku_id", _("请选择与原商品不同的SKU"))
    short = []
    refund = Decimal("0.00")
    for line in lines:
        old = {"sku_id": line.sku_id, "sku_code": line.sku_code, "name": line.product_name, "unit_price": str(line.unit_price)}
        if stock_occupy_elsewhere(line=line, sku_id=sku.pk, province=order.province) is None:
            short.append(line)
            continue
        # The buyer paid for the original: a cheaper substitute refunds the difference, a dearer one is the merchant's cost.
        difference = max((line.unit_price - sku.price) * line.quantity, Decimal("0.00"))
        line.sku, line.sku_code, line.product_name, line.spec = sku, sku.code, sku.product.name, sku.spec
        line.save(update_fields=["sku", "sku_code", "product_name", "spec"])
        new = {"sku_id": sku.pk, "sku_code": sku.code, "name": sku.product.name, "unit_price": str(sku.price)}
        line_substituted_event(order=order, actor=actor, old=old, new=new, refund=difference)
        refund += difference
    if short:
        raise _out_of_stock(short, "sku_id")
    if refund:
        refund_create(order=order, amount=refund, actor=actor, reason=gettext_noop("改发相似商品，退差价"), source=f"exception:{exception.pk}")
    return _("改发%(name)s，退差价%(refund)s元") % {"name": f"{sku.product.name} {sku.spec}".strip(), "refund": refund}


def remedy_cancel_refund(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    """Cancel and refund: a paid order is refunded in full and closed; money that reached a cancelled order goes back."""
    order = Order.objects.get(pk=exception.order_id)
    reason = note or _("异常处理：取消并退款")
    if order.status == OrderStatus.PENDING_PAYMENT:
        order_cancel(order=order, actor=actor, reason=reason)
        order.refresh_from_db()
    if order.status == OrderStatus.CANCELLED:
        # A payment that arrived after cancellation (or with a wrong amount) sits in escrow: it goes back.
        amount = Decimal(exception.data.get("amount") or "0")
        if amount <= 0:
            raise Conflict(_("订单已取消，没有需要退回的款项"), code="nothing_to_refund")
        refund_create(order=order, amount=amount, actor=actor, reason=reason, source=f"exception:{exception.pk}")
        return _("订单已取消，退回%(amount)s元") % {"amount": amount}
    if order.status == OrderStatus.DEPOSIT_PAID or not any(
        t.name == "close" for t in order.get_available_status_transitions()
    ):
        raise Conflict(
            _("订单状态为「%(status)s」，不能取消退款") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    refunded = order_refundable_total(order=order)
    if refunded > 0:
        refund_create(order=order, amount=refunded, actor=actor, reason=reason, source=f"exception:{exception.pk}")
    else:
        order_refund_close(order=order, actor=actor, reason=reason)
    return _("已取消订单并全额退款%(amount)s元") % {"amount": refunded}


def remedy_compensate(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    return _("补偿买家")


def remedy_no_action(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    return _("无需处理：%(note)s") % {"note": note}


def orders_remedies_register() -> None:
    """The remedies orders offers itself (called from OrdersConfig.ready)."""
    coupon = coupon_field()
    stock_kinds = {ExceptionKind.OVERSELL, ExceptionKind.MERCHANT_REPORTED}
    remedy_register(
        "transfer_stock",
        gettext_lazy("跨仓调拨"),
        stock_kinds,
        (RemedyField("warehouse_id", gettext_lazy("调出仓库"), required=True), coupon),
        apply=remedy_transfer_stock,
        perm=Perm.STOCK_EDIT,
        position=10,
        help=gettext_lazy("从本店另一个仓库占用库存发货"),
    )
    remedy_register(
        "similar_sku",
        gettext_lazy("推荐相似商品并退差价"),
        stock_kinds,
        (RemedyField("sku_id", gettext_lazy("改发SKU"), required=True), coupon),
        apply=remedy_similar_sku,
        perm=Perm.ORDER_MONEY,
        position=20,
        help=gettext_lazy("与买家确认后改发相似SKU；更便宜则自动退差价"),
    )
    remedy_register(
        "cancel_refund",
        gettext_lazy("取消订单并退款"),
        stock_kinds
        | {ExceptionKind.PAYMENT_ANOMALY, ExceptionKind.ADDRESS_ANOMALY, ExceptionKind.PAID_NOT_SHIPPED, ExceptionKind.RISK_REVIEW},
        (coupon_field(initial="5.00"),),
        apply=remedy_cancel_refund,
        perm=Perm.ORDER_MONEY,
        position=60,
        note_required=True,
        help=gettext_lazy("全额退款并关闭订单，可附补偿券"),
    )
    every_kind_but_review = set(ExceptionKind.values) - {ExceptionKind.RISK_REVIEW}
    remedy_register(
        "compensate",
        gettext_lazy("发放补偿券"),
        every_kind_but_review,
        (coupon_field(required=True, initial="5.00"),),
        apply=remedy_compensate,
        perm=Perm.ORDER_MONEY,
        position=70,
        help=gettext_lazy("无门槛，仅限该买家在本店使用，到期自动失效"),
    )
    remedy_register(
        "no_action",
        gettext_lazy("无需处理"),
        every_kind_but_review,
        (),
        apply=remedy_no_action,
        position=90,
        note_required=True,
        help=gettext_lazy("核实后无需处理，写明原因"),
    )
