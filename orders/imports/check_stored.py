"""What an order import checks against what is stored: numbers already taken, the parts' columns, stock on today's counts.

Called by `check.orders_import_plan` once the file's rows are grouped into orders and checked on their own.
"""
from collections import defaultdict

from django.utils.translation import gettext_noop

from orders.constants import OrderStatus
from orders.imports.plan import ImportPlan, OrderDraft, OrderUpdate, RowError
from orders.models import Order, OrderLine, StockLevel
from orders.parts import ImportedOrder, order_parts
from orders.sql import orders_numbered_rows


def check_existing(shop_id: int, drafts: dict[str, OrderDraft], plan: ImportPlan) -> None:
    """Numbers already taken: the same order again is skipped (or updated as far as the state machine allows); anything else is refused."""
    existing = {values[1]: values for values in orders_numbered_rows(numbers=list(drafts))}
    if not existing:
        return
    signatures: dict[int, set] = defaultdict(set)
    ours = [values[0] for values in existing.values() if values[2] == shop_id]
    for start in range(0, len(ours), 5000):
        for order_id, code, quantity, price in OrderLine.objects.filter(order_id__in=ours[start : start + 5000]).values_list(
            "order_id", "sku_code", "quantity", "unit_price"
        ):
            signatures[order_id].add((code, quantity, price))
    for order_no, (pk, _no, order_shop_id, status, payable, merchant_remark) in existing.items():
        draft = drafts.pop(order_no)
        same = (
            order_shop_id == shop_id
            and payable == draft.payable
            and signatures[pk] == {(ln.sku.code, ln.quantity, ln.unit_price) for ln in draft.lines}
        )
        if not same:
            plan.errors.append(RowError(draft.line, "订单号", gettext_noop("订单号%(no)s已存在，且不是这一笔订单"), {"no": order_no}))
            continue
        remark = draft.values.get("商家备注", "")
        remark_changed = bool(remark) and remark != merchant_remark
        if draft.status == status:
            if remark_changed:
                plan.updates.append(OrderUpdate(pk, order_no, draft.line, cancel=False, remark=remark))
            else:
                plan.skipped += 1
            continue
        if status == OrderStatus.PENDING_PAYMENT and draft.status == OrderStatus.CANCELLED:
            plan.updates.append(OrderUpdate(pk, order_no, draft.line, cancel=True, remark=remark if remark_changed else None))
            continue
        targets = {t.target for t in Order(status=status).get_all_status_transitions() if t.source in (status, "*")}
        statuses = {"status_from": status, "status_to": draft.status}
        if draft.status in targets:
            reason = gettext_noop("订单已是“%(status_from)s”；变为“%(status_to)s”须在订单页操作（需要快递、签收或退款的记录）")
        else:
            reason = gettext_noop("状态机不允许订单从“%(status_from)s”变为“%(status_to)s”")
        plan.errors.append(RowError(draft.line, "订单状态", reason, statuses))


def imported_orders(shop_id: int, drafts, ids=None) -> list[ImportedOrder]:
    """The new orders as the parts see them (with their ids once allocated)."""
    ids = ids or [0] * len(drafts)
    return [
        ImportedOrder(order_id=pk, order_no=d.order_no, shop_id=shop_id, line=d.line, status=d.status, created_at=d.created_at, values=d.values)
        for d, pk in zip(drafts, ids)
    ]


def check_parts(shop_id: int, drafts: dict[str, OrderDraft], errors: list[RowError]) -> None:
    """The columns an upper app reads (the parcel's carrier and number), checked by that app for all new orders at once."""
    checks = [part.import_check for part in order_parts() if part.import_check]
    if not checks or not drafts:
        return
    orders = imported_orders(shop_id, list(drafts.values()))
    for check in checks:
        errors.extend(RowError(*error) for error in check(shop_id, orders))


def stock_simulate(drafts: dict[str, OrderDraft], *, lock: bool) -> None:
    """Which warehouse each line of a new unpaid or paid order takes its units from, on today's counts.

    The nearest warehouse with stock ships (same province first, then the shop's priority),
    as for an API order. An unpaid order short of stock is refused like the API refuses it;
    a paid one is imported and flagged oversold (it was already sold elsewhere).
    """
    needing = [d for d in drafts.values() if d.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)]
    sku_ids = {ln.sku.id for d in needing for ln in d.lines}
    if not sku_ids:
        return
    levels = StockLevel.objects.filter(sku_id__in=sku_ids).select_related("warehouse").order_by("pk")
    if lock:
        levels = levels.select_for_update(of=("self",))
    by_sku: dict[int, list[StockLevel]] = defaultdict(list)
    for level in levels:
        by_sku[level.sku_id].append(level)
    ordered: dict[tuple[int, str], list[StockLevel]] = {}  # the warehouses in shipping order, per SKU and province
    # Paid orders first: they are sold already; unpaid ones only lock what is left.
    for draft in sorted(needing, key=lambda d: (d.status != OrderStatus.PAID, d.created_at, d.order_no)):
        province = draft.values["省"]
        for ln in draft.lines:
            key = (ln.sku.id, province)
            candidates = ordered.get(key)
            if candidates is None:
                candidates = ordered[key] = sorted(
                    by_sku[ln.sku.id], key=lambda s: (s.warehouse.province != province, s.warehouse.priority, s.warehouse_id)
                )
            level = next((s for s in candidates if s.available >= ln.quantity), None)
            if level is None:
                ln.short = True
                continue
            level.available -= ln.quantity
            ln.stock_level_id = level.id


def unpaid_short(plan_drafts) -> list[RowError]:
    """Unpaid orders that could not lock their stock: refused, as the API refuses them."""
    errors = []
    for draft in plan_drafts:
        if draft.status == OrderStatus.PENDING_PAYMENT:
            for ln in draft.lines:
                if ln.short:
                    errors.append(RowError(ln.line, "数量", gettext_noop("库存不足，待支付订单无法锁定库存（可售不足%(n)d件）"), {"n": ln.quantity}))
    return errors
