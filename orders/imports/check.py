"""Checking an order CSV before anything is written: every bad row named by line, column and reason.

The file is read by the kernel's one CSV reader, its headers mapped (the contract's, or
the 抖店 console's export as it comes), its rows grouped into orders, and each order
checked the way the API checks a submission (SKUs of the shop, quantities, the
address, amounts that add up) plus what only an import can get wrong (order-level
values that disagree between lines, an order number already taken, a status the state
machine would not allow, encrypted contact fields). Stock is simulated on the counts
of the moment, so a paid order that would be oversold is known in the preview.
Everything is read in a few bulk queries: no query per row.
"""
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from django.utils.translation import gettext_noop

from orders.addresses import address_validate
from orders.constants import OrderStatus
from orders.imports.check_stored import check_existing, check_parts, stock_simulate, unpaid_short
from orders.imports.plan import (
    ADDRESS_COLUMNS,
    CONTACT_COLUMNS,
    DOUDIAN_HEADERS,
    DOUDIAN_KNOWN,
    ENCRYPTED_LEADS,
    IMPORTABLE,
    OPTIONAL,
    ORDER_LEVEL,
    REQUIRED,
    STATUS_ALIASES,
    ImportPlan,
    LineDraft,
    OrderDraft,
    RowError,
)
from orders.models import Sku
from orders.services.submit import MAX_LINE_QUANTITY
from shop_admin.kernel.bulk import gc_paused
from shop_admin.kernel.csvio import CsvTable, csv_datetime
from shop_admin.kernel.errors import Invalid

ZERO = Decimal("0.00")
_EMPTIES = [""] * len(ORDER_LEVEL)
_address_cells = itemgetter(*ADDRESS_COLUMNS.values())


def _money(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.replace(",", "").lstrip("¥￥"))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def _status_of(label: str) -> tuple[str | None, tuple[str, dict] | None]:
    """(status, None) or (None, why not: a message id and its parameters)."""
    status = STATUS_ALIASES.get(label) or _BY_ZH_LABEL.get(label) or (label if label in OrderStatus.values else None)
    if status is None:
        return None, (gettext_noop("未知的订单状态“%(v)s”（可用：待支付、待发货、已发货、已签收、交易完成、已取消、交易关闭）"), {"v": label})
    if status not in IMPORTABLE:
        return None, (gettext_noop("订单状态“%(v)s”不能由导入产生：状态机只允许它由平台内的操作进入"), {"v": label})
    return status, None


# The source-language labels, whatever language the job runs in: files carry the Chinese ones.
_ZH_LABELS = {
    OrderStatus.PENDING_PAYMENT: "待支付",
    OrderStatus.DEPOSIT_PAID: "待付尾款",
    OrderStatus.PAID: "待发货",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.COMPLETED: "交易完成",
    OrderStatus.CANCELLED: "已取消",
    OrderStatus.CLOSED: "交易关闭",
    OrderStatus.REJECTED: "拒收退回",
}
_BY_ZH_LABEL = {label: status for status, label in _ZH_LABELS.items()}


def _map_headers(table: CsvTable, plan: ImportPlan) -> dict[str, str] | None:
    """Our column -> the file's header; None (with errors) when a required column is missing."""
    plan.doudian = "主订单编号" in table.headers
    mapping: dict[str, str] = {}
    for header in table.headers:
        if not header:
            continue
        ours = DOUDIAN_HEADERS.get(header, header) if plan.doudian else header
        if ours in REQUIRED or ours in OPTIONAL:
            mapping.setdefault(ours, header)
        elif not (plan.doudian and header in DOUDIAN_KNOWN):
            plan.unknown_columns.append(header)
    missing = [column for column in REQUIRED if column not in mapping]
    for column in missing:
        plan.errors.append(RowError(line=1, column=column, reason=gettext_noop("缺少必填列")))
    return None if missing else mapping


class _Memo(dict):
    """f(text) computed once per distinct text (for one check: times depend on the zone of the moment)."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def __missing__(self, text):
        value = self[text] = self.f(text)
        return value


def _row_values(row_values: dict[str, str], mapping: dict[str, str], doudian: bool) -> dict[str, str]:
    values = {ours: row_values.get(header, "") for ours, header in mapping.items()}
    if doudian and row_values.get("街道"):
        values["详细地址"] = row_values["街道"] + values.get("详细地址", "")
    return values


@gc_paused()
def orders_import_plan(*, shop_id: int, table: CsvTable, lock_stock: bool = False, progress=None) -> ImportPlan:
    """Check every row of the file against the shop as it is now; with `lock_stock` (inside the apply's
    transaction) the stock rows are locked first, so the plan is exactly what will be written."""
    plan = ImportPlan(rows=len(table.rows), encoding=table.encoding)
    mapping = _map_headers(table, plan)
    if mapping is None:
        return plan
    if not plan.doudian and all(ours == header for ours, header in mapping.items()):
        rows = [(row.line, row.values) for row in table.rows]  # the contract's own headers: the rows as read
    else:
        rows = [(row.line, _row_values(row.values, mapping, plan.doudian)) for row in table.rows]
    # A file repeats its amounts, times and statuses: each distinct text is parsed once.
    money_of, time_of, status_of = _Memo(_money), _Memo(csv_datetime), _Memo(_status_of)
    skus = {sku.code: sku for sku in Sku.objects.filter(shop_id=shop_id, code__in={v["SKU编码"] for _l, v in rows}).select_related("product")}
    errors = plan.errors
    drafts: dict[str, OrderDraft] = {}
    bad_orders: set[str] = set()
    line_payables: dict[str, Decimal] = defaultdict(Decimal)
    for done, (line, values) in enumerate(rows, start=1):
        if progress and done % 5000 == 0:
            progress(done)
        before = len(errors)
        order_no = values["订单号"]
        if not all(map(values.get, REQUIRED)):
            errors.extend(RowError(line, column, gettext_noop("必填")) for column in REQUIRED if not values.get(column))
        if order_no and not order_no.isdigit():
            errors.append(RowError(line, "订单号", gettext_noop("订单号只能是数字")))
        for column in CONTACT_COLUMNS:
            if values.get(column, "").startswith(ENCRYPTED_LEADS):
                errors.append(RowError(line, column, gettext_noop("联系信息仍是抖店加密的密文（##…/$$…），请导出明文后再导入")))
        sku = skus.get(values["SKU编码"])
        if values["SKU编码"] and sku is None:
            errors.append(RowError(line, "SKU编码", gettext_noop("本店没有SKU编码“%(v)s”"), {"v": values["SKU编码"]}))
        quantity = None
        raw_quantity = values["数量"]
        if raw_quantity:
            try:
                quantity = int(raw_quantity)
            except ValueError:
                errors.append(RowError(line, "数量", gettext_noop("数量须为整数")))
            else:
                if quantity < 0:
                    errors.append(RowError(line, "数量", gettext_noop("数量不能为负数")))
                elif not 1 <= quantity <= MAX_LINE_QUANTITY:
                    errors.append(RowError(line, "数量", gettext_noop("数量须在1到%(max)d之间"), {"max": MAX_LINE_QUANTITY}))
        amounts = {}
        for column in ("单价", "应付金额", "运费", "优惠金额"):
            raw = values.get(column, "")
            if not raw:
                amounts[column] = ZERO
                continue
            amount = money_of[raw]
            if amount is None:
                errors.append(RowError(line, column, gettext_noop("金额格式不正确：%(v)s"), {"v": raw}))
            elif amount < 0:
                errors.append(RowError(line, column, gettext_noop("金额不能为负数")))
            amounts[column] = amount
        if amounts.get("单价") is not None and values["单价"] and amounts["单价"] <= 0:
            errors.append(RowError(line, "单价", gettext_noop("单价须大于0")))
        draft = drafts.get(order_no)
        created_at = None
        if draft is None and values["下单时间"]:  # later lines of an order only have to agree with the first
            created_at = time_of[values["下单时间"]]
            if created_at is None:
                errors.append(RowError(line, "下单时间", gettext_noop("时间格式应为 2026-11-22 10:30:00 或 2026/11/22 10:30:00")))
        status, why = status_of[values["订单状态"]] if values["订单状态"] else (None, None)
        if why:
            errors.append(RowError(line, "订单状态", *why))
        if len(errors) > before or not order_no:
            if order_no:
                bad_orders.add(order_no)
            continue
        if draft is None:
            draft = drafts[order_no] = OrderDraft(
                order_no=order_no,
                line=line,
                created_at=created_at,
                status=status,
                freight=amounts["运费"],
                discount=amounts["优惠金额"],
                payable=amounts["应付金额"],
                values=dict(zip(ORDER_LEVEL, map(values.get, ORDER_LEVEL, _EMPTIES))),
            )
        else:
            for column in ORDER_LEVEL + ([] if plan.doudian else ["应付金额"]):
                first = draft.values.get(column, "") if column != "应付金额" else str(draft.payable)
                mine = values.get(column, "") if column != "应付金额" else str(amounts["应付金额"])
                if first != mine:
                    errors.append(
                        RowError(line, column, gettext_noop("同一订单各行的“%(c)s”须一致（第%(first)d行为“%(v)s”）"), {"c": column, "first": draft.line, "v": first})
                    )
            if any(ln.sku.id == sku.id for ln in draft.lines):
                errors.append(RowError(line, "SKU编码", gettext_noop("同一订单中SKU重复，请合并数量")))
            if len(errors) > before:
                bad_orders.add(order_no)
                continue
        if plan.doudian:
            line_payables[order_no] += amounts["应付金额"]
        draft.lines.append(
            LineDraft(
                line=line,
                sku=sku,
                quantity=quantity,
                unit_price=amounts["单价"],
                product_name=values.get("商品名称") or sku.product.name,
                spec=values.get("商品规格") or sku.spec,
            )
        )
    if progress:
        progress(len(rows))
    for order_no in bad_orders:
        drafts.pop(order_no, None)
    addresses: dict = {}
    for draft in drafts.values():
        if plan.doudian:
            draft.payable = line_payables[draft.order_no]
            if not draft.values.get("优惠金额"):  # the console's file leaves the discount implicit
                draft.discount = max(draft.items_total + draft.freight - draft.payable, Decimal("0.00"))
        _check_order(draft, errors, addresses)
    check_existing(shop_id, drafts, plan)
    check_parts(shop_id, drafts, errors)
    stock_simulate(drafts, lock=lock_stock)
    errors.extend(unpaid_short(drafts.values()))
    failed_orders = {e.line for e in errors}
    plan.new = [d for d in drafts.values() if d.line not in failed_orders and not any(ln.line in failed_orders for ln in d.lines)]
    plan.errors.sort(key=lambda e: (e.line, e.column))
    return plan


def _check_order(draft: OrderDraft, errors: list[RowError], addresses: dict | None = None) -> None:
    """What only the whole order can tell: amounts adding up, and the address."""
    expected = draft.items_total + draft.freight - draft.discount
    if expected != draft.payable:
        errors.append(
            RowError(
                draft.line,
                "应付金额",
                gettext_noop("金额不符：商品合计%(items)s + 运费%(freight)s − 优惠%(discount)s = %(expected)s，应付金额却是%(payable)s"), {"items": draft.items_total, "freight": draft.freight, "discount": draft.discount, "expected": expected, "payable": draft.payable},
            )
        )
    elif draft.payable < Decimal("0.01"):
        errors.append(RowError(draft.line, "应付金额", gettext_noop("应付金额至少为0.01元")))
    raw = _address_cells(draft.values)
    outcome = addresses.get(raw) if addresses is not None else None
    if outcome is None:  # each distinct address of the file is checked once (a buyer orders again)
        try:
            clean = address_validate(dict(zip(ADDRESS_COLUMNS, raw)))
        except Invalid as exc:
            outcome = [(ADDRESS_COLUMNS[key], str(reason)) for key, reason in exc.details["fields"].items()]
        else:
            outcome = {column: getattr(clean, key) for key, column in ADDRESS_COLUMNS.items()}
        if addresses is not None:
            addresses[raw] = outcome
    if isinstance(outcome, list):
        errors.extend(RowError(draft.line, column, reason) for column, reason in outcome)
    else:
        draft.values.update(outcome)
