"""Bulk shipping from a CSV (订单号, 快递公司, 快递单号): every row checked before anything ships, each bad one named.

The file is read by the kernel's one CSV reader (UTF-8, BOM or GBK); orders and
parcels already recorded are looked up in bulk. A row is bad when its order is not
the shop's, is not waiting to ship, is held by an exception, its carrier is unknown,
its number does not fit the carrier's format, or the number is used twice in the file
or already used by a parcel. The good rows then ship as one job (`logistics_bulk_ship`).
"""
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from logistics.models import Shipment
from logistics.services import carrier_parse, tracking_validate
from orders.constants import OrderStatus
from orders.imports.plan import RowError
from orders.models import Order
from orders.services.common import transition_refusal
from shop_admin.kernel.csvio import CsvTable, csv_read
from shop_admin.kernel.errors import Invalid

COLUMNS = ["订单号", "快递公司", "快递单号"]


@dataclass
class BulkShipPlan:
    encoding: str = ""
    rows: list[dict] = field(default_factory=list)  # the good rows: order_no, carrier (code), tracking_no, line
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({e.line for e in self.errors})


def bulk_ship_plan(*, shop_id: int, content: bytes) -> BulkShipPlan:
    """Check the upload against the shop as it is now; ships nothing."""
    table: CsvTable = csv_read(content)
    plan = BulkShipPlan(encoding=table.encoding)
    plan.unknown_columns = [h for h in table.headers if h and h not in COLUMNS]
    missing = [c for c in COLUMNS if c not in table.headers]
    if missing:
        plan.errors = [RowError(1, c, gettext_noop("缺少必填列")) for c in missing]
        return plan
    numbers = [row.values["订单号"] for row in table.rows if row.values["订单号"].isdigit()]
    orders = {o.order_no: o for o in Order.objects.filter(shop_id=shop_id, order_no__in=numbers)}
    parsed = []
    for row in table.rows:
        values = row.values
        code = carrier_parse(values["快递公司"])
        number = values["快递单号"].strip().upper()
        parsed.append((row.line, values["订单号"], values["快递公司"], code, number))
    used = set(
        Shipment.objects.filter(tracking_no__in=[p[4] for p in parsed if p[4]]).values_list("carrier", "tracking_no")
    )
    seen_numbers: dict[tuple[str, str], int] = {}
    seen_orders: dict[str, int] = {}
    for line, order_no, carrier_text, code, number in parsed:
        errors = []
        order = orders.get(order_no)
        if not order_no:
            errors.append(RowError(line, "订单号", gettext_noop("必填")))
        elif order is None:
            errors.append(RowError(line, "订单号", gettext_noop("本店没有订单“%(no)s”"), {"no": order_no}))
        elif order.status != OrderStatus.PAID:
            errors.append(
                RowError(line, "订单号", gettext_noop("订单状态为「%(status)s」，不能发货"), {"status": order.status})
            )
        elif order.on_hold:
            errors.append(RowError(line, "订单号", gettext_noop("订单有未处理的异常（超卖/商家报告/风控），暂不能发货")))
        elif transition_refusal(order, "ship"):
            errors.append(RowError(line, "订单号", transition_refusal(order, "ship")))
        if order_no and order_no in seen_orders:
            errors.append(RowError(line, "订单号", gettext_noop("与第%(line)d行是同一订单"), {"line": seen_orders[order_no]}))
        if code is None:
            errors.append(RowError(line, "快递公司", gettext_noop("不支持的快递公司：%(c)s"), {"c": carrier_text or "-"}))
        elif not number:
            errors.append(RowError(line, "快递单号", gettext_noop("必填")))
        else:
            try:
                tracking_validate(carrier=code, tracking_no=number)
            except Invalid as exc:
                errors.append(RowError(line, "快递单号", str(exc.details["fields"].get("tracking_no", exc.message))))
            else:
                if (code, number) in seen_numbers:
                    errors.append(RowError(line, "快递单号", gettext_noop("与第%(line)d行的快递单号重复"), {"line": seen_numbers[(code, number)]}))
                elif (code, number) in used:
                    errors.append(RowError(line, "快递单号", gettext_noop("该快递单号已用于其他订单")))
        seen_orders.setdefault(order_no, line)
        if code and number:
            seen_numbers.setdefault((code, number), line)
        if errors:
            plan.errors.extend(errors)
        else:
            plan.rows.append({"order_no": order_no, "carrier": code, "tracking_no": number, "line": line})
    return plan
