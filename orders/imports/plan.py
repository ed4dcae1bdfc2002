"""The shape of an order import: the columns it reads (the contract's and the 抖店 console's) and the plan its check makes."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orders.constants import OrderStatus
from orders.models import Sku
from shop_admin.kernel.text import stored_text

REQUIRED = ["订单号", "下单时间", "订单状态", "SKU编码", "数量", "单价", "应付金额", "收件人", "手机号", "省", "市", "区", "详细地址"]
OPTIONAL = ["商品名称", "商品规格", "运费", "优惠金额", "快递公司", "快递单号", "买家留言", "商家备注"]
# The 抖店 console's order export, one row per sub-order: its header -> ours.
DOUDIAN_HEADERS = {
    "主订单编号": "订单号",
    "商家编码": "SKU编码",
    "商品数量": "数量",
    "商品单价": "单价",
    "订单应付金额": "应付金额",
    "收件人手机号": "手机号",
    "订单提交时间": "下单时间",
    "选购商品": "商品名称",
}
DOUDIAN_KNOWN = {"子订单编号", "街道"}  # used, though they map to no column of ours
# Status labels an import may carry, and what 抖店 calls some of them.
IMPORTABLE = {
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
    OrderStatus.CLOSED,
}
STATUS_ALIASES = {"备货中": OrderStatus.PAID, "已支付": OrderStatus.PAID, "已完成": OrderStatus.COMPLETED, "已关闭": OrderStatus.CLOSED}
# Order-level columns: every line of an order repeats them, and they must agree.
ORDER_LEVEL = ["下单时间", "订单状态", "运费", "优惠金额", "收件人", "手机号", "省", "市", "区", "详细地址", "快递公司", "快递单号", "买家留言", "商家备注"]
ENCRYPTED_LEADS = ("##", "$$")
CONTACT_COLUMNS = ("收件人", "手机号", "详细地址")
ADDRESS_COLUMNS = {"name": "收件人", "phone": "手机号", "province": "省", "city": "市", "district": "区", "detail": "详细地址"}
MAX_ERRORS_SHOWN = 1000


@dataclass(frozen=True)
class RowError:
    """A bad cell: its reason kept as a message id and parameters, put into words in the reader's language."""

    line: int
    column: str
    reason: str
    params: dict | None = None

    def __post_init__(self):
        if self.params:
            # kept in a job's JSON summary: amounts as their text
            object.__setattr__(self, "params", {k: v if isinstance(v, (int, str)) else str(v) for k, v in self.params.items()})

    @property
    def text(self) -> str:
        return stored_text(self.reason, self.params)


@dataclass
class LineDraft:
    line: int
    sku: Sku
    quantity: int
    unit_price: Decimal
    product_name: str
    spec: str
    stock_level_id: int | None = None
    short: bool = False


@dataclass
class OrderDraft:
    order_no: str
    line: int  # its first row
    created_at: datetime
    status: str
    freight: Decimal
    discount: Decimal
    payable: Decimal
    values: dict[str, str]  # the order-level values of its first row
    lines: list[LineDraft] = field(default_factory=list)

    @property
    def items_total(self) -> Decimal:
        return sum((ln.unit_price * ln.quantity for ln in self.lines), Decimal("0.00"))


@dataclass
class OrderUpdate:
    order_id: int
    order_no: str
    line: int
    cancel: bool
    remark: str | None  # the new merchant remark, or None when unchanged


@dataclass
class ImportPlan:
    rows: int = 0
    encoding: str = ""
    doudian: bool = False
    new: list[OrderDraft] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({error.line for error in self.errors})

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "created": len(self.new),
            "updated": len(self.updates),
            "skipped": self.skipped,
            "failed": self.failed_rows,
            "oversold": sum(1 for d in self.new if any(ln.short for ln in d.lines)),
            "unknown_columns": self.unknown_columns,
            "encoding": self.encoding,
        }
