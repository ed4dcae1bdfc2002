"""Writing a checked order import: all of it in one transaction, or nothing.

The file is checked again inside the transaction with the stock rows locked, so what
is written is exactly what the check found, whatever changed since the preview. New
orders are written in bulk with COPY (orders, lines, one event each; for paid ones a
payment and its escrow entry, for completed ones their settlement; the parcels of
shipped ones through the part logistics registers), foreign keys checked as the rows
stream, and stock moves in one UPDATE from arrays; what is rare (an oversold paid
order, a risk review, a cancellation) goes through the same services the API uses.
Orders already imported are skipped, so the same file applied twice creates nothing twice.
"""
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import (
    ExceptionKind,
    LedgerKind,
    LineStock,
    OrderKind,
    OrderStatus,
    PaymentChannel,
    PaymentPurpose,
    PaymentStatus,
)
from orders.events import orders_imported_events, stock_short_event
from orders.imports.check import orders_import_plan
from orders.imports.check_stored import imported_orders
from orders.imports.plan import ImportPlan, OrderDraft
from orders.models import Buyer, LedgerEntry, Order, OrderLine, Payment, Settlement
from orders.parts import order_parts
from orders.services.common import order_counts_changed, order_lock
from orders.services.exceptions import exception_open
from orders.services.lifecycle import order_cancel, order_remark_set
from orders.services.stock import stock_levels_move
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import (
    constraints_checked_as_written,
    gc_paused,
    ids_allocate,
    rows_copy,
)
from shop_admin.kernel.csvio import CsvTable
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.shoprules import shop_rule

CENT = Decimal("0.01")

# Where an imported order's units stand, by its status: to ship, taken from stock now; otherwise gone or never taken.
_LINE_STOCK = {
    OrderStatus.PENDING_PAYMENT: LineStock.LOCKED,
    OrderStatus.PAID: LineStock.OCCUPIED,
    OrderStatus.SHIPPED: LineStock.DEDUCTED,
    OrderStatus.DELIVERED: LineStock.DEDUCTED,
    OrderStatus.COMPLETED: LineStock.DEDUCTED,
    OrderStatus.CANCELLED: LineStock.RELEASED,
    OrderStatus.CLOSED: LineStock.RELEASED,
}


def import_buyer(shop_id: int) -> Buyer:
    """Orders from other channels have no buyer of the app: they hang on one buyer per shop standing for them."""
    buyer, _created = Buyer.objects.get_or_create(name=f"csv-import-{shop_id}")
    return buyer


def _kind(draft: OrderDraft, kinds: dict[int, str]) -> str:
    if len(draft.lines) == 1:  # most orders: the kind of its one product, worked out once per product (kinds)
        product = draft.lines[0].sku.product
        kind = kinds.get(product.id)
        if kind is None:
            kind = kinds[product.id] = _kind_of([product])
        return kind
    return _kind_of([ln.sku.product for ln in draft.lines])


def _kind_of(products: list) -> str:
    if any(p.is_presale for p in products):
        return OrderKind.PRESALE
    if any(p.is_fresh for p in products):
        return OrderKind.FRESH
    if all(p.is_virtual for p in products):
        return OrderKind.VIRTUAL
    return OrderKind.NORMAL


def _order_row(
    draft: OrderDraft, *, order_id: int, shop_id: int, buyer_id: int, now, kinds: dict[int, str], ship_promise: timedelta
) -> dict:
    """The order's columns; a new row's state machine starts at the file's status."""
    values, status, at = draft.values, draft.status, draft.created_at
    kind = _kind(draft, kinds)
    fields = dict(
        id=order_id,
        order_no=draft.order_no,
        shop_id=shop_id,
        buyer_id=buyer_id,
        kind=kind,
        status=status,
        items_total=draft.items_total,
        coupon_discount=draft.discount,
        freight=draft.freight,
        payable=draft.payable,
        recipient_name=values["收件人"],
        phone=values["手机号"],
        province=values["省"],
        city=values["市"],
        district=values["区"],
        address_detail=values["详细地址"],
        is_remote=values["省"] in settings.REMOTE_PROVINCES,
        buyer_message=values.get("买家留言", "")[:200],
        merchant_remark=values.get("商家备注", "")[:500],
        created_at=at,
        updated_at=now,
    )
    if status == OrderStatus.PENDING_PAYMENT:
        # The pay window runs from the import, not from the other channel's order time.
        fields["pay_deadline"] = now + (settings.ORDER_PAY_WINDOW_VIRTUAL if kind == OrderKind.VIRTUAL else settings.ORDER_PAY_WINDOW)
    elif status != OrderStatus.CANCELLED:
        fields.update(paid_at=at, paid_amount=draft.payable)
    if status == OrderStatus.PAID:
        fields["ship_deadline"] = at + (settings.FRESH_SHIP_DEADLINE if kind == OrderKind.FRESH else ship_promise)
        fields["needs_risk_review"] = draft.payable >= settings.PAYMENT_RISK_REVIEW_AMOUNT
    if status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        fields["shipped_at"] = at
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        fields["delivered_at"] = at
    if status == OrderStatus.COMPLETED:
        fields["completed_at"] = at
    if status == OrderStatus.CANCELLED:
        fields["cancelled_at"] = at
    return fields


def _line_rows(draft: OrderDraft, order_id: int, snapshots: dict) -> list[dict]:
    state = _LINE_STOCK[draft.status]
    rows = []
    for ln in draft.lines:
        key = (ln.sku.id, ln.unit_price)
        if key not in snapshots:  # the same SKU at the same price: one snapshot for all its lines
            product = ln.sku.product
            snapshots[key] = {
                "product_id": product.pk,
                "name": product.name,
                "category": product.category,
                "spec": ln.sku.spec,
                "price": str(ln.unit_price),
                "is_presale": product.is_presale,
                "is_fresh": product.is_fresh,
                "is_virtual": product.is_virtual,
                "presale_ship_days": product.presale_ship_days,
            }
        rows.append(
            {
                "order_id": order_id,
                "sku_id": ln.sku.id,
                "stock_level_id": ln.stock_level_id if state in (LineStock.LOCKED, LineStock.OCCUPIED) else None,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "line_total": ln.unit_price * ln.quantity,
                "sku_code": ln.sku.code,
                "product_name": ln.product_name[:120],
                "spec": ln.spec[:120],
                "product_snapshot": snapshots[key],
                "stock_state": LineStock.SHORT if ln.short and state == LineStock.OCCUPIED else state,
            }
        )
    return rows


# What the buyer paid went through escrow, as for an API order: paid, shipped, signed and completed orders.
_PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def _money_booked(drafts: list[OrderDraft], order_rows: list[dict]) -> None:
    """The money of the new orders as the API books it, in bulk, so reconciliation finds what it finds for API orders:
    a succeeded payment and its escrow entry for each paid order (the channel's transaction id names the import,
    so it is booked once), and for a completed one its settlement with the commission and settlement entries."""
    paid = [(d, row) for d, row in zip(drafts, order_rows) if d.status in _PAID]
    if not paid:
        return
    payment_ids = ids_allocate(Payment, len(paid))
    payments, ledger, settlements = [], [], []
    for (draft, row), payment_id in zip(paid, payment_ids):
        txn = f"csv-import-{draft.order_no}"
        payments.append(
            {
                "id": payment_id,
                "order_id": row["id"],
                "channel": PaymentChannel.DOUYIN_PAY,  # what 抖店 orders are paid with; the transaction id says "imported"
                "purpose": PaymentPurpose.FULL,
                "amount": row["paid_amount"],
                "status": PaymentStatus.SUCCEEDED,
                "channel_txn_id": txn,
                "settled_at": row["paid_at"],
            }
        )
        ledger.append(
            {"order_id": row["id"], "kind": LedgerKind.ESCROW_IN, "amount": row["paid_amount"], "payment_id": payment_id, "channel_txn_id": txn}
        )
        if draft.status == OrderStatus.COMPLETED:
            gross = row["paid_amount"]
            commission = (gross * settings.PLATFORM_COMMISSION_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
            settlements.append({"order_id": row["id"], "shop_id": row["shop_id"], "gross": gross, "commission": commission, "net": gross - commission})
            ledger.append({"order_id": row["id"], "kind": LedgerKind.COMMISSION, "amount": commission, "channel_txn_id": None})
            ledger.append({"order_id": row["id"], "kind": LedgerKind.SETTLEMENT, "amount": gross - commission, "channel_txn_id": None})
    rows_copy(Payment, payments)
    rows_copy(LedgerEntry, ledger)
    rows_copy(Settlement, settlements)


def _stock_moves(drafts: list[OrderDraft]) -> dict[int, dict[str, int]]:
    moves: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for draft in drafts:
        into = {OrderStatus.PENDING_PAYMENT: "locked", OrderStatus.PAID: "occupied"}.get(draft.status)
        if into is None:
            continue
        for ln in draft.lines:
            if ln.stock_level_id is not None:
                moves[ln.stock_level_id]["available"] -= ln.quantity
                moves[ln.stock_level_id][into] += ln.quantity
    return {pk: dict(delta) for pk, delta in moves.items()}


@gc_paused()
def orders_import_apply(
    *, shop_id: int, actor: Actor, table: CsvTable, source: str, on_written: Callable[[ImportPlan], None] | None = None
) -> ImportPlan:
    """Check the file again under lock and write all of it, or nothing if any row is bad (the plan says why).

    `on_written` runs inside the same transaction (a job records its outcome there, so a
    worker killed after the commit cannot leave the job unaware of what it wrote).
    """
    now = timezone.now()
    with transaction.atomic():
        plan = orders_import_plan(shop_id=shop_id, table=table, lock_stock=True)
        if plan.errors:
            return plan
        buyer = import_buyer(shop_id)
        ship_promise = shop_rule(shop_id, "ship_promise")  # one shop per import: read once for every row
        ids = ids_allocate(Order, len(plan.new)) if plan.new else []
        kinds: dict[int, str] = {}
        order_rows: list[dict] = []

        def orders_built():  # each row built as COPY takes it: the server writes the first while the rest are built
            for draft, pk in zip(plan.new, ids):
                row = _order_row(
                    draft, order_id=pk, shop_id=shop_id, buyer_id=buyer.pk, now=now, kinds=kinds, ship_promise=ship_promise
                )
                order_rows.append(row)
                yield row

        with constraints_checked_as_written():  # orders, then what refers to them
            rows_copy(Order, orders_built())
            snapshots: dict = {}
            rows_copy(OrderLine, (row for d, pk in zip(plan.new, ids) for row in _line_rows(d, pk, snapshots)))
            stock_levels_move(_stock_moves(plan.new))
            _money_booked(plan.new, order_rows)
            imported = imported_orders(shop_id, plan.new, ids)
            for part in order_parts():
                if part.import_write:
                    part.import_write(imported)
            orders_imported_events([(pk, d.status) for d, pk in zip(plan.new, ids)], actor=actor, source=source)
        for row in order_rows:
            if row.get("pay_deadline"):
                deadline_schedule(name="order_pay_timeout", pk=row["id"], at=row["pay_deadline"])
        # What is rare (oversold, risk review) goes through the exception service, one order at a time.
        flagged = {row["id"]: d for d, row in zip(plan.new, order_rows) if row.get("needs_risk_review") or any(ln.short for ln in d.lines)}
        for order in Order.objects.filter(pk__in=list(flagged)).order_by("pk") if flagged else []:
            _follow_up(flagged[order.pk], order, actor)
        for update in plan.updates:
            order = order_lock(update.order_id)
            if update.cancel:
                order = order_cancel(order=order, actor=actor, reason=_("CSV导入：%(source)s") % {"source": source})
            if update.remark is not None:
                order_remark_set(order=order, actor=actor, remark=update.remark[:500], flag=order.remark_flag)
        if plan.new:
            order_counts_changed(shop_ids={shop_id})
        if on_written:
            on_written(plan)
    return plan


def _follow_up(draft: OrderDraft, order: Order, actor: Actor) -> None:
    """A paid order oversold or needing a risk review: the exception record, as for an API order."""
    if draft.status != OrderStatus.PAID:
        return
    short = [ln for ln in draft.lines if ln.short]
    if short:
        stock_short_event(order=order, actor=actor, sku_codes=[ln.sku.code for ln in short])
        exception_open(
            order=order,
            kind=ExceptionKind.OVERSELL,
            actor=actor,
            detail=gettext_noop("导入的已付款订单库存不足（超卖）：%(names)s"),
            detail_params={"names": [ln.product_name for ln in short]},
            data={"lines": [{"sku_id": ln.sku.pk, "quantity": ln.quantity} for ln in short]},
        )
    if order.needs_risk_review:
        exception_open(
            order=order,
            kind=ExceptionKind.RISK_REVIEW,
            actor=actor,
            detail=gettext_noop("订单金额达到%(amount)s元，发货前需风控审核"),
            detail_params={"amount": str(settings.PAYMENT_RISK_REVIEW_AMOUNT)},
        )

