"""django-import-export resources: the order CSV of the contract, one row per order line, Chinese headers."""
from django.utils import timezone
from import_export import fields, resources

from orders.models import OrderLine
from orders.parts import order_part_export_columns

# Every column of the contract, in its order. Orders fills its own; the rest (快递公司, 快递单号) come
# from the part that registered them (orders.parts), and are empty when no part does.
ORDER_COLUMNS = {
    "订单号": lambda ln: ln.order.order_no,
    "下单时间": lambda ln: timezone.localtime(ln.order.created_at).strftime("%Y-%m-%d %H:%M:%S"),
    "订单状态": lambda ln: str(ln.order.get_status_display()),
    "SKU编码": lambda ln: ln.sku_code,
    "商品名称": lambda ln: ln.product_name,
    "商品规格": lambda ln: ln.spec,
    "数量": lambda ln: ln.quantity,
    "单价": lambda ln: f"{ln.unit_price:.2f}",
    "运费": lambda ln: f"{ln.order.freight:.2f}",
    "优惠金额": lambda ln: f"{ln.order.coupon_discount + ln.order.full_reduction + ln.order.subsidy:.2f}",
    "应付金额": lambda ln: f"{ln.order.payable:.2f}",
    "收件人": lambda ln: ln.order.recipient_name,
    "手机号": lambda ln: ln.order.phone,
    "省": lambda ln: ln.order.province,
    "市": lambda ln: ln.order.city,
    "区": lambda ln: ln.order.district,
    "详细地址": lambda ln: ln.order.address_detail,
    "快递公司": None,
    "快递单号": None,
    "买家留言": lambda ln: ln.order.buyer_message,
    "商家备注": lambda ln: ln.order.merchant_remark,
}
EXPORT_HEADERS = list(ORDER_COLUMNS)


def _getter(header: str):
    if ORDER_COLUMNS[header] is not None:
        return ORDER_COLUMNS[header]
    name, from_rows = order_part_export_columns().get(header, (None, None))
    if from_rows is None:
        return lambda ln: ""

    def from_part(line: OrderLine) -> str:
        rows = next((pr.rows for pr in getattr(line.order, "part_rows", []) if pr.part.name == name), [])
        return from_rows(rows)

    return from_part


class _Column(fields.Field):
    def __init__(self, header: str, getter):
        super().__init__(column_name=header, readonly=True)
        self.getter = getter

    def get_value(self, obj):
        return self.getter(obj)


class OrderLineExportResource(resources.Resource):
    """Columns in the contract's order; feed it lines from `order_lines_for_export` (orders with their parts' rows)."""

    def __init__(self):
        super().__init__()
        self.fields = {header: _Column(header, _getter(header)) for header in EXPORT_HEADERS}

    def get_export_headers(self, selected_fields=None):
        return list(EXPORT_HEADERS)

    def get_export_order(self):
        return list(EXPORT_HEADERS)


def order_lines_csv(lines) -> bytes:
    """UTF-8 with BOM, so Excel in China opens it without mojibake."""
    dataset = OrderLineExportResource().export(queryset=lines)
    return "\ufeff".encode() + dataset.csv.encode("utf-8")
