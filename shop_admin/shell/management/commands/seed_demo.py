"""Demo data, idempotent: two shops, their staff, products, and a month of orders in every state made through the real services.

How the month is made: every order is placed, paid, shipped, signed... by the same services as the API, at the
real clock. Between two steps the order moves back in time as a whole (`_move_back`: its times, deadlines,
events, payments, ledger, shipments, exceptions, after-sales and order number together) by the gap that
separates those steps in the story, and once more at the end by the time since its last step. So money and
stock are what the services made them, and every time of an order keeps its real order and spacing.

The picture: order times follow a shop's week (weekends busier) and day (most orders 19:00-23:00 shop time);
how far an order got depends on its age (old orders are finished, young ones are waiting to be paid, shipped
or signed), with a few late shipments (paid > 48 h ago) and stalled parcels (no news for > 72 h). Live
deadlines are never already past: pay windows, auto-confirm and after-sale replies are still running.
"""
import logging
import math
import random
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from aftersale.services import aftersale_open, reply_window
from logistics.models import Shipment
from logistics.services import shipment_create
from logistics.services.stall import shipment_stall_timeout
from logistics.services.tracking import TrackingReport, tracking_events_apply
from orders.constants import ExceptionKind, OrderKind, OrderStatus, PaymentStatus
from orders.models import (
    Buyer,
    Coupon,
    FullReduction,
    Order,
    Product,
    Sku,
    StockLevel,
)
from orders.services.exceptions import exception_open
from orders.services.lifecycle import (
    auto_confirm_window,
    order_cancel,
    order_confirm_receipt,
    order_refund_close,
    order_risk_approve,
)
from orders.services.payments import payment_callback_apply, payment_create
from orders.services.submit import ItemRequest, order_no_generate, order_submit
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from shop_admin.kernel.deadlines import deadlines_sweep
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse

DEMO_PASSWORD = "demo12345"
SHOP_1 = "抖店演示旗舰店"
SHOP_2 = "小李的杂货铺"

ADDRESSES = [
    {"name": "张三", "phone": "13800138000", "province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "建国路88号SOHO现代城2号楼1单元1201"},
    {"name": "李四", "phone": "13912345678", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园南区高新南一道9号"},
    {"name": "王五", "phone": "15098765432", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路478号华星时代广场A座"},
    {"name": "赵六", "phone": "18611112222", "province": "四川省", "city": "成都市", "district": "武侯区", "detail": "天府大道中段666号"},
    {"name": "孙七", "phone": "17733334444", "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区", "detail": "解放北路1号3单元"},
    {"name": "周八", "phone": "13655556666", "province": "上海市", "city": "上海市", "district": "浦东新区", "detail": "世纪大道100号环球金融中心"},
    {"name": "吴九", "phone": "13761234567", "province": "江苏省", "city": "南京市", "district": "鼓楼区", "detail": "中山北路30号2栋502室"},
    {"name": "郑十", "phone": "15827654321", "province": "湖北省", "city": "武汉市", "district": "洪山区", "detail": "珞喻路1037号9栋3单元601"},
    {"name": "陈晓", "phone": "18991234567", "province": "陕西省", "city": "西安市", "district": "雁塔区", "detail": "小寨东路126号百隆广场1号楼"},
    {"name": "林悦", "phone": "15905921234", "province": "福建省", "city": "厦门市", "district": "思明区", "detail": "湖滨南路90号立信广场18楼"},
    {"name": "刘洋", "phone": "13975112345", "province": "湖南省", "city": "长沙市", "district": "岳麓区", "detail": "麓山南路932号7栋201"},
    {"name": "黄蕾", "phone": "18647112345", "province": "内蒙古自治区", "city": "呼和浩特市", "district": "赛罕区", "detail": "大学东街235号2单元403"},
]
DEMO_BUYERS = [f"demo_buyer_{n}" for n in range(1, len(ADDRESSES) + 1)]  # buyer n lives at ADDRESSES[n - 1]
HK_MO_TW = ["香港特别行政区", "澳门特别行政区", "台湾省"]

# --- the shape of the month ---

DEMO_DAYS = 30  # the dashboard's charts
ORDERS_SHOP_1 = 170
ORDERS_SHOP_2 = 30
# Monday .. Sunday: weekends are busier (the charts show it).
WEEKDAY_WEIGHT = (0.8, 0.75, 0.85, 0.9, 1.1, 1.6, 1.5)
# Per hour of the day, shop time: a lunch bump and the evening live-stream peak, about half the orders 19:00-23:00.
HOUR_WEIGHT = (2.5, 1.2, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.5, 3, 3.5, 4, 5.5, 5, 3.5, 3.5, 3.5, 4, 5.5, 12, 16, 18, 15, 7)
# How likely an order is to have got this far, among the states its age allows. Stalled and late parcels are
# only made by the quotas below ("a few"), pending orders are extra orders of the last minutes.
STATE_WEIGHT = {
    "completed": 60, "delivered": 30, "shipped": 30, "paid": 30,
    "cancelled": 6, "expired": 6, "closed": 5, "rejected": 2,
}
QUOTAS_SHOP_1 = {
    "late": 3, "stalled": 4, "paid": 4, "shipped": 4, "delivered": 4, "rejected": 2, "closed": 3, "expired": 3,
    "cancelled": 3, "completed": 10,
}
QUOTAS_SHOP_2 = {"late": 1, "stalled": 1, "paid": 1, "shipped": 1, "delivered": 1, "closed": 1, "cancelled": 1, "completed": 3}
AFTERSALES = {SHOP_1: 6, SHOP_2: 2}
PENDING = {SHOP_1: 3, SHOP_2: 1}

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
CARRIERS = {
    "ZTO": lambda rng: f"7{rng.randrange(10**13, 10**14)}",
    "YTO": lambda rng: f"YT{rng.randrange(10**14, 10**15)}",
    "YUNDA": lambda rng: f"{rng.randrange(10**14, 10**15)}",
    "JT": lambda rng: f"JT{rng.randrange(10**12, 10**13)}",
    "SF": lambda rng: f"SF{rng.randrange(10**12, 10**13)}",
}
# Steps the clock takes (the deadline sweep), with the status they lead to.
CLOCK_STEPS = {"expire": OrderStatus.CANCELLED, "auto_confirm": OrderStatus.COMPLETED}
BUYER_MESSAGES = ["请尽快发货，谢谢", "送人的，不要放价格单", "周末在家，工作日放快递柜", "包装结实一点"]
CANCEL_REASONS = ["不想要了", "拍错了规格", "地址填错了，重新下单", "找到更便宜的了"]


@contextmanager
def _cache_warnings_muted():
    """Each demo order drops the cached order counts when the seed commits: without Redis that is one "cache delete
    skipped" warning per service call, hundreds of lines. The outage is said once already (the deadline warning,
    and `make run`'s redis_check)."""
    log = logging.getLogger("shop_admin.kernel.cache")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# --- moving orders back in time ---


@lru_cache(maxsize=1)
def _order_history() -> list[tuple[type[models.Model], str, str, list[str]]]:
    """Order and every model that points at it, each with its key to the order (field, column) and its datetime fields.

    Found from the models, so a table added later (tracking events, after-sale messages...) moves too. The
    presale balance deadline stays: it is the product's calendar date, not a time of the order's own story.
    """
    def datetimes(model, skip=()):
        return [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField) and f.name not in skip]

    history = [(Order, "pk", Order._meta.pk.column, datetimes(Order, skip={"balance_deadline"}))]
    seen = {Order}
    # Hidden relations too: apps that point at orders without a reverse accessor (related_name="+") are history as well.
    for relation in Order._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        model = relation.related_model
        if model in seen or not datetimes(model):
            continue
        seen.add(model)
        history.append((model, relation.field.attname, relation.field.column, datetimes(model)))
    return history


def _move_back(deltas: dict[int, timedelta], chunk: int = 200) -> None:
    """Demo data: orders move back in time as a whole, each by its own delta.

    Every time of the order and of the rows that hang off it moves by the same amount, so intervals, deadlines
    still to come and the order of the timeline stay what the services made them; the order number, which
    carries the time of ordering, is made again for the new time.
    """
    ids = [pk for pk, delta in deltas.items() if delta]
    duration = models.DurationField()
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        # One UPDATE per table; the per-order delta is a plain SQL CASE (an ORM Case of hundreds of Whens costs seconds to build).
        params = [value for pk in part for value in (pk, duration.get_db_prep_value(deltas[pk], connection))]
        whens = " ".join(["WHEN %s THEN %s"] * len(part))
        for model, key, column, fields in _order_history():
            shift = RawSQL(f"CASE {connection.ops.quote_name(column)} {whens} END", params, output_field=duration)
            model._base_manager.filter(**{f"{key}__in": part}).update(**{f: F(f) - shift for f in fields})
        numbers = {}
        for pk, buyer_id, kind, created_at in Order.objects.filter(pk__in=part).values_list("pk", "buyer_id", "kind", "created_at"):
            number = order_no_generate(buyer_id=buyer_id, kind=kind, at=created_at)
            while number in numbers.values():
                number = order_no_generate(buyer_id=buyer_id, kind=kind, at=created_at)
            numbers[pk] = number
        renumber = RawSQL(
            f"CASE {connection.ops.quote_name(Order._meta.pk.column)} {' '.join(['WHEN %s THEN %s'] * len(numbers))} END",
            [value for pk, number in numbers.items() for value in (pk, number)],
            output_field=models.CharField(),
        )
        Order.objects.filter(pk__in=part).update(order_no=renumber)


# --- when orders are placed ---


class Rhythm:
    """Order times over the last DEMO_DAYS days, weighted per hour by weekday and hour of day (shop time)."""

    def __init__(self, now: datetime, rng: random.Random):
        self.rng = rng
        self.now = now
        zone = timezone.get_default_timezone()
        self.start = datetime.combine(timezone.localdate(now) - timedelta(days=DEMO_DAYS - 1), time.min, tzinfo=zone)
        self.slots = []  # (start, end, weight per second)
        at = self.start
        while at < now:
            local = timezone.localtime(at)
            end = min(at + HOUR, now)
            self.slots.append((at, end, WEEKDAY_WEIGHT[local.weekday()] * HOUR_WEIGHT[local.hour]))
            at += HOUR

    def sample(self, lo: datetime, hi: datetime) -> datetime:
        """A time in [lo, hi] (clipped to the month), as likely as a shop makes it."""
        lo, hi = max(lo, self.start), min(hi, self.now)
        spans, weights = [], []
        for start, end, weight in self.slots:
            a, b = max(start, lo), min(end, hi)
            if a < b:
                spans.append((a, b))
                weights.append(weight * (b - a).total_seconds())
        if not spans:
            return lo
        a, b = self.rng.choices(spans, weights=weights)[0]
        return a + (b - a) * self.rng.random()


# --- the story of one order ---


@dataclass
class Plan:
    order: Order
    buyer: Buyer
    age: timedelta | None = None  # how long ago it was placed; None until chosen
    state: str = ""
    auto_confirm: bool = False  # completed by the clock rather than the buyer
    aftersale: bool = False
    steps: list[tuple[str, timedelta]] = field(default_factory=list)  # (step, time since the step before)
    final: timedelta = timedelta(0)  # time since the last step


class Command(BaseCommand):
    help = "Load the demo shops, users, products and a month of orders (idempotent)."

    def handle(self, *args, **options):
        rng = random.Random(2026)
        self._reply_windows: dict[int, timedelta] = {}
        users = self._users()
        shop1, shop2 = self._shops(users)
        if Order.objects.filter(shop=shop1).exists():
            self.stdout.write("demo orders already present; users and shops checked")
        else:
            # All or nothing: a failed run leaves no half month behind.
            with _cache_warnings_muted(), transaction.atomic():
                now = timezone.now()
                rhythm = Rhythm(now, rng)
                buyers = self._buyers(rhythm.start)
                skus1 = self._catalogue_shop1(shop1)
                skus2 = self._catalogue_shop2(shop2)
                for shop in (shop1, shop2):
                    Shop.objects.filter(pk=shop.pk).update(created_at=rhythm.start - timedelta(days=90))
                    Product.objects.filter(shop=shop).update(created_at=rhythm.start - timedelta(days=60))
                made = self._orders(shop1, skus1, buyers, users["merchant"], rng, rhythm, count=ORDERS_SHOP_1, quotas=QUOTAS_SHOP_1)
                made += self._orders(shop2, skus2, buyers, users["merchant2"], rng, rhythm, count=ORDERS_SHOP_2, quotas=QUOTAS_SHOP_2)
            self.stdout.write(f"demo orders: {made} over the last {DEMO_DAYS} days")
        self.stdout.write(self.style.SUCCESS("demo ready; sign in at http://127.0.0.1:8000/login/"))
        for username in ("merchant", "service", "warehouse", "merchant2", "arbiter"):
            self.stdout.write(f"  {username:<10} password: {DEMO_PASSWORD}")

    # --- people and shops ---

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        hashed = None  # one hash for the five demo users: each costs the hasher's full work factor
        for username in ("merchant", "service", "warehouse", "merchant2", "arbiter"):
            user, created = User.objects.get_or_create(username=username)
            if created:
                hashed = hashed or make_password(DEMO_PASSWORD)
                user.password = hashed
            if username == "arbiter":
                user.is_staff = True
                user.is_superuser = True
            user.save()
            users[username] = user
        return users

    def _shops(self, users) -> tuple[Shop, Shop]:
        shop1, _ = Shop.objects.get_or_create(
            name=SHOP_1, defaults={"is_flagship": True, "return_address": "浙江省杭州市余杭区仓前街道梦想小镇1号 退货组"}
        )
        shop2, _ = Shop.objects.get_or_create(name=SHOP_2, defaults={"return_address": "广东省广州市天河区体育西路1号"})
        for shop, warehouses in ((shop1, [("杭州仓", "浙江省", 0), ("广州仓", "广东省", 1)]), (shop2, [("广州仓", "广东省", 0)])):
            for name, province, priority in warehouses:
                Warehouse.objects.get_or_create(shop=shop, name=name, defaults={"province": province, "priority": priority})
        for username, shop, role in (
            ("merchant", shop1, Role.OWNER),
            ("service", shop1, Role.SERVICE),
            ("warehouse", shop1, Role.WAREHOUSE),
            ("merchant2", shop2, Role.OWNER),
        ):
            Membership.objects.get_or_create(user=users[username], shop=shop, defaults={"role": role})
            MerchantApiToken.objects.get_or_create(user=users[username])
        return shop1, shop2

    def _buyers(self, month_start: datetime) -> list[tuple[Buyer, dict]]:
        """The demo buyers, each with the address it orders to; they joined before the month began."""
        buyers = []
        for index, (name, address) in enumerate(zip(DEMO_BUYERS, ADDRESSES)):
            buyer, created = Buyer.objects.get_or_create(name=name)
            if created:
                Buyer.objects.filter(pk=buyer.pk).update(created_at=month_start - timedelta(days=40 + 23 * index))
            buyers.append((buyer, address))
        return buyers

    # --- catalogue ---

    def _product(self, shop, name, skus, *, stock, **fields) -> list[Sku]:
        product = Product.objects.create(shop=shop, name=name, **fields)
        made = []
        for code, spec, price in skus:
            sku = Sku.objects.create(product=product, shop=shop, code=code, spec=spec, price=Decimal(price))
            for index, warehouse in enumerate(shop.warehouses.all()):
                StockLevel.objects.create(sku=sku, warehouse=warehouse, available=stock if index == 0 else stock // 2)
            made.append(sku)
        return made

    def _catalogue_shop1(self, shop) -> dict[str, list[Sku]]:
        now = timezone.now()
        catalogue = {
            "tea": self._product(
                shop, "蜂蜜柚子茶", [("TEA-1KG", "1kg 罐装", "59.90"), ("TEA-2KG", "2kg 家庭装", "99.00")], stock=500,
                category="食品饮料", excluded_regions=HK_MO_TW,
            ),
            "cherry": self._product(
                shop, "智利车厘子 JJ级", [("CHERRY-2.5KG", "2.5kg 礼盒", "199.00")], stock=300,
                category="生鲜水果", is_fresh=True, freight=Decimal("0.00"),
                excluded_regions=["新疆维吾尔自治区", "西藏自治区", *HK_MO_TW],
            ),
            "phone": self._product(
                shop, "旗舰手机 Pro", [("PHONE-256", "256G 曜石黑", "5999.00"), ("PHONE-512", "512G 冰川蓝", "6999.00")],
                stock=30, category="数码", excluded_regions=HK_MO_TW,
            ),
            "coat": self._product(
                shop, "预售 轻薄羽绒服", [("COAT-M", "M 黑色", "399.00"), ("COAT-L", "L 黑色", "399.00")], stock=200,
                category="服饰", is_presale=True, presale_deposit_ratio=Decimal("0.20"),
                presale_balance_due=now + timedelta(days=10), presale_ship_days=7,
            ),
            "vip": self._product(shop, "视频会员月卡", [("VIP-30D", "30天", "25.00")], stock=9999, category="虚拟", is_virtual=True),
            "shoes": self._product(
                shop, "限量联名球鞋", [("SHOE-42", "42码", "1299.00")], stock=3, category="鞋靴", freight=Decimal("12.00"),
            ),
        }
        Coupon.objects.get_or_create(
            code="DEMO-SHOP-20",
            defaults={
                "shop": shop, "name": "满199减20", "discount": Decimal("20.00"), "threshold": Decimal("199.00"),
                "valid_from": now - timedelta(days=DEMO_DAYS), "valid_to": now + timedelta(days=60), "per_buyer_limit": 3,
            },
        )
        FullReduction.objects.create(
            shop=shop, threshold=Decimal("300.00"), discount=Decimal("30.00"),
            valid_from=now - timedelta(days=DEMO_DAYS), valid_to=now + timedelta(days=60),
        )
        return catalogue

    def _catalogue_shop2(self, shop) -> dict[str, list[Sku]]:
        return {
            "towel": self._product(shop, "纯棉毛巾三条装", [("TOWEL-3", "三条装 灰色", "29.90")], stock=300, freight=Decimal("5.00")),
            "cup": self._product(shop, "保温杯 500ml", [("CUP-500", "500ml 白色", "79.00")], stock=120),
        }

    # --- orders, through the same services as the API ---

    def _orders(self, shop, skus, buyers, staff, rng, rhythm: Rhythm, *, count: int, quotas: dict[str, int]) -> int:
        merchant = Actor.for_user(staff)
        keys = [k for k in skus if k not in ("coat", "vip", "shoes")]
        coupon_uses: dict[int, int] = {}

        def place(buyer, address, *, key=None, sku=None, quantity=None) -> Order | None:
            if sku is None:
                allowed = [k for k in keys if address["province"] not in (skus[k][0].product.excluded_regions or [])]
                key = rng.choices(allowed, weights=[1 if k == "phone" else 4 if k == "cherry" else 6 for k in allowed])[0]
                sku = rng.choice(skus[key])
            quantity = quantity or (1 if key == "phone" else rng.choices([1, 2, 3], weights=[75, 20, 5])[0])
            codes = []
            if shop.name == SHOP_1 and sku.price * quantity >= Decimal("199.00") and coupon_uses.get(buyer.pk, 0) < 2 and rng.random() < 0.3:
                codes = ["DEMO-SHOP-20"]
            try:
                order = order_submit(
                    buyer=buyer, shop_id=shop.pk, items=[ItemRequest(sku_id=sku.pk, quantity=quantity)], address=address,
                    coupon_codes=codes, buyer_message=rng.choice(BUYER_MESSAGES) if rng.random() < 0.1 else "",
                )
            except DomainError as exc:
                self.stderr.write(f"demo order skipped: {exc.message}")
                return None
            if codes:
                coupon_uses[buyer.pk] = coupon_uses.get(buyer.pk, 0) + 1
            return order

        # Orders of the month, placed in the order of their (future) times so ids run with time.
        plans: list[Plan] = []
        ages = sorted((rhythm.now - rhythm.sample(rhythm.start, rhythm.now - 2 * MINUTE) for _ in range(count)), reverse=True)
        for age in ages:
            buyer, address = rng.choice(buyers)
            order = place(buyer, address)
            if order:
                plans.append(Plan(order=order, buyer=buyer, age=age, auto_confirm=rng.random() < 0.3))
        self._assign_states(plans, rng, quotas, AFTERSALES[shop.name])

        # A few orders of the last minutes, still waiting to be paid, and the special cases of shop 1.
        extras: list[Plan] = []
        for _ in range(PENDING[shop.name]):
            buyer, address = rng.choice(buyers)
            order = place(buyer, address)
            if order:
                extras.append(Plan(order=order, buyer=buyer, state="pending"))
        if "coat" in skus:
            (buyer0, address0), (buyer1, address1) = buyers[2], buyers[1]
            order = place(buyer0, address0, key="coat", sku=skus["coat"][0], quantity=1)
            if order:
                extras.append(Plan(order=order, buyer=buyer0, state="deposit"))  # deposit paid, balance due
            order = place(buyer1, address1, key="shoes", sku=skus["shoes"][0], quantity=2)
            if order:
                extras.append(Plan(order=order, buyer=buyer1, state="held"))  # damaged box found before dispatch
        for plan in extras:
            specs, lo, hi = self._timeline(plan)
            earliest = sum((s[1] for s in specs), timedelta()) + lo
            latest = sum((s[2] for s in specs), timedelta()) + hi
            plan.age = rhythm.now - rhythm.sample(rhythm.now - latest, rhythm.now - earliest)
        plans += extras

        # Play every story step by step: before each step the order moves back by the time that step came after
        # the one before, then the step runs at the real clock; at the end it moves back by the time since.
        for plan in plans:
            plan.steps, plan.final = self._fit(plan, rng)
        for index in range(max((len(p.steps) for p in plans), default=0)):
            due = [p for p in plans if index < len(p.steps)]
            _move_back({p.order.pk: p.steps[index][1] for p in due})
            clock = [p for p in due if p.steps[index][0] in CLOCK_STEPS]
            if clock:  # their deadline has just passed: the clock applies it, as the sweep of `make run` would
                deadlines_sweep(now=timezone.now())
                for plan in clock:
                    status = Order.objects.values_list("status", flat=True).get(pk=plan.order.pk)
                    if status != CLOCK_STEPS[plan.steps[index][0]]:
                        self.stderr.write(f"demo order {plan.order.pk}: the clock left it {status}")
            for plan in due:
                step = plan.steps[index][0]
                if step in CLOCK_STEPS:
                    continue
                try:
                    self._step(plan, step, merchant, rng)
                except DomainError as exc:
                    self.stderr.write(f"demo order {plan.order.pk} stopped before {step}: {exc.message}")
                    plan.final += sum((gap for _, gap in plan.steps[index + 1:]), timedelta())
                    plan.steps = plan.steps[:index]
        _move_back({p.order.pk: p.final for p in plans})
        return len(plans)

    def _assign_states(self, plans: list[Plan], rng, quotas: dict[str, int], aftersales: int) -> None:
        """How far each order got: a few of each state first (the quotas), then by weight among what its age allows."""

        def fits(plan, state, aftersale=False) -> bool:
            kept = plan.state, plan.aftersale
            plan.state, plan.aftersale = state, aftersale
            timeline = self._timeline(plan)
            plan.state, plan.aftersale = kept
            if timeline is None:
                return False
            specs, lo, hi = timeline
            earliest = sum((s[1] for s in specs), timedelta()) + lo
            latest = sum((s[2] for s in specs), timedelta()) + (hi if hi is not None else plan.age)
            return earliest <= plan.age <= latest

        free = list(plans)
        rng.shuffle(free)
        for state, wanted in quotas.items():
            chosen = [p for p in free if fits(p, state)][:wanted]
            for plan in chosen:
                plan.state = state
                free.remove(plan)
        for plan in free:
            allowed = [s for s in STATE_WEIGHT if fits(plan, s)]
            weights = [STATE_WEIGHT[s] * (0.2 if s == "completed" and plan.age < 4 * DAY else 1) for s in allowed]
            plan.state = rng.choices(allowed, weights=weights)[0]
        candidates = [p for p in plans if p.state in ("delivered", "completed") and fits(p, p.state, aftersale=True)]
        for plan in rng.sample(candidates, min(aftersales, len(candidates))):
            plan.aftersale = True

    def _timeline(self, plan: Plan) -> tuple[list[tuple[str, timedelta, timedelta]], timedelta, timedelta | None] | None:
        """The steps of the plan's story, each with the shortest and longest time after the step before, and the
        shortest and longest time since the last step (None: any) that keep its live deadlines in the future.
        None if this order cannot tell that story."""
        order, state = plan.order, plan.state
        pay_window = order.pay_deadline - order.created_at
        if state == "pending":
            return [], MINUTE, pay_window - 10 * MINUTE
        if state == "cancelled":
            return [("cancel", MINUTE, pay_window - 5 * MINUTE)], timedelta(0), None
        if state == "expired":  # the clock cancels it once the pay window has closed
            return [("expire", pay_window + timedelta(seconds=30), pay_window + 10 * MINUTE)], timedelta(0), None
        fresh = order.kind == OrderKind.FRESH
        ship_window = settings.FRESH_SHIP_DEADLINE if fresh else settings.SHIP_DEADLINE
        steps = [("pay", timedelta(seconds=30), min(20 * MINUTE, pay_window - 5 * MINUTE))]
        if state == "deposit":
            return steps, timedelta(0), 2 * DAY
        if state == "held":
            return [*steps, ("hold", 20 * MINUTE, 8 * HOUR)], timedelta(0), 24 * HOUR
        if state == "paid":
            return steps, timedelta(0), ship_window - 30 * MINUTE
        if state == "late":
            if fresh or self._risky(order):  # fresh goods are refunded instead; big orders wait for their review
                return None
            return [*steps, ("late", ship_window + MINUTE, ship_window + 30 * MINUTE)], timedelta(0), 4 * DAY
        if state == "closed":
            return [*steps, ("close", 20 * MINUTE, min(30 * HOUR, ship_window - 10 * MINUTE))], timedelta(0), None
        ship = (15 * MINUTE, ship_window - 20 * MINUTE) if fresh else (HOUR, 40 * HOUR)
        if self._risky(order):  # big orders wait for the risk review before they can ship
            steps.append(("approve", 10 * MINUTE, 6 * HOUR))
            ship = (30 * MINUTE, ship[1] - 6 * HOUR)
        steps.append(("ship", *ship))
        if state == "shipped":
            return steps, timedelta(0), settings.LOGISTICS_STALL_AFTER - 2 * HOUR
        if state == "stalled":
            stall = settings.LOGISTICS_STALL_AFTER
            return [*steps, ("stall", stall + 5 * MINUTE, stall + 6 * HOUR)], timedelta(0), 5 * DAY
        transit = (10 * HOUR, 36 * HOUR) if fresh else (20 * HOUR, 4 * DAY)
        if state == "rejected":
            return [*steps, ("reject", *transit)], timedelta(0), None
        steps.append(("deliver", *transit))
        confirm_window = auto_confirm_window(order)
        answer_window = self._reply_window(order)
        if state == "delivered":
            if plan.aftersale:
                return [*steps, ("aftersale", HOUR, confirm_window - answer_window - 6 * HOUR)], timedelta(0), answer_window - HOUR
            return steps, timedelta(0), confirm_window - 3 * HOUR
        if plan.auto_confirm:
            steps.append(("auto_confirm", confirm_window + MINUTE, confirm_window + 30 * MINUTE))
        else:
            steps.append(("confirm", 2 * HOUR, confirm_window - 2 * HOUR))
        if plan.aftersale:
            return [*steps, ("aftersale", HOUR, settings.AFTERSALE_WINDOW - answer_window - HOUR)], timedelta(0), answer_window - HOUR
        return steps, timedelta(0), None

    @staticmethod
    def _risky(order: Order) -> bool:
        return order.payable >= settings.PAYMENT_RISK_REVIEW_AMOUNT

    def _reply_window(self, order: Order) -> timedelta:
        """The merchant's time to answer an after-sale of this order (it looks at the lines: asked once per order)."""
        if order.pk not in self._reply_windows:
            self._reply_windows[order.pk] = reply_window(order)
        return self._reply_windows[order.pk]

    def _fit(self, plan: Plan, rng) -> tuple[list[tuple[str, timedelta]], timedelta]:
        """Gaps between the steps and the time since the last one, adding up to the order's age.

        Each gap is drawn between its bounds, favouring the short end (log-uniform); if they do not fit the age
        they are stretched or shrunk together, keeping every one within its bounds.
        """
        specs, final_lo, final_hi = self._timeline(plan)
        age = plan.age.total_seconds()
        lows = [lo.total_seconds() for _, lo, _ in specs]
        highs = [hi.total_seconds() for _, _, hi in specs]
        gaps = [math.exp(rng.uniform(math.log(lo), math.log(hi))) for lo, hi in zip(lows, highs)]
        f_min = max(final_lo.total_seconds(), age - sum(highs))
        f_max = min(final_hi.total_seconds() if final_hi is not None else age, age - sum(lows))
        f_max = max(f_max, f_min)  # an age nothing fits (a stopped story): keep the gaps at their bounds
        final = age - sum(gaps)
        if not f_min <= final <= f_max:
            final = rng.uniform(f_min, f_max)
        target, total = age - final, sum(gaps)
        if target < total:
            k = (target - sum(lows)) / (total - sum(lows))
            gaps = [lo + (g - lo) * max(k, 0) for g, lo in zip(gaps, lows)]
        elif target > total:
            k = (target - total) / (sum(highs) - total)
            gaps = [g + (hi - g) * min(k, 1) for g, hi in zip(gaps, highs)]
        final = max(age - sum(gaps), 0)
        return [(name, timedelta(seconds=g)) for (name, _, _), g in zip(specs, gaps)], timedelta(seconds=final)

    def _step(self, plan: Plan, step: str, merchant: Actor, rng) -> None:
        order, buyer = Order.objects.get(pk=plan.order.pk), plan.buyer
        if step == "pay":
            channel = rng.choices(["douyin_pay", "wechat", "alipay", "bank_card"], weights=[55, 25, 15, 5])[0]
            payment = payment_create(order=order, actor=Actor.for_buyer(buyer), channel=channel)
            payment_callback_apply(
                payment_id=payment.pk, channel_txn_id=f"DEMO-{uuid.uuid4().hex[:20]}", status=PaymentStatus.SUCCEEDED,
                amount=payment.amount,
            )
        elif step == "cancel":
            order_cancel(order=order, actor=Actor.for_buyer(buyer), reason=rng.choice(CANCEL_REASONS))
        elif step == "hold":
            exception_open(order=order, kind=ExceptionKind.MERCHANT_REPORTED, actor=merchant, detail="发货前发现鞋盒破损，待补货")
        elif step == "late":
            exception_open(
                order=order, kind=ExceptionKind.PAID_NOT_SHIPPED, actor=Actor.system("ship_deadline"), detail="付款后超过48小时未发货"
            )
        elif step == "close":
            order_refund_close(order=order, actor=merchant, reason="买家申请退款，商家同意")
        elif step == "approve":
            if order.needs_risk_review or order.is_frozen:
                order_risk_approve(order=order, actor=merchant, note="核实买家身份，审核通过")
        elif step == "ship":
            carrier = rng.choice(list(CARRIERS))
            shipment_create(order=order, actor=merchant, carrier=carrier, tracking_no=CARRIERS[carrier](rng))
        elif step == "stall":
            # The parcel's stall deadline has passed by now (the gap before this step is over 72 h): the clock stalls it.
            shipment_stall_timeout(now=timezone.now(), ids=list(Shipment.objects.filter(order_id=order.pk).values_list("pk", flat=True)))
        elif step in ("reject", "deliver"):
            # The carrier says so, as it would: the parcel and the order follow its push.
            shipment = Shipment.objects.filter(order_id=order.pk).latest("shipped_at")
            now = timezone.now()
            last = TrackingReport(code="rejected", occurred_at=now, location=order.district, description="买家拒收")
            if step == "deliver":
                last = TrackingReport(code="signed", occurred_at=now, location=order.district, description="已签收，感谢使用")
            reports = [
                TrackingReport(code="collected", occurred_at=shipment.shipped_at + 30 * MINUTE, location="揽收网点", description="快件已揽收"),
                TrackingReport(code="out_for_delivery", occurred_at=now - 2 * HOUR, location=order.district, description="快件派送中"),
                last,
            ]
            tracking_events_apply(carrier=shipment.carrier, tracking_no=shipment.tracking_no, reports=reports)
        elif step == "confirm":
            order_confirm_receipt(order=order, actor=Actor.for_buyer(buyer))
        elif step == "aftersale":
            aftersale_open(
                order=order, actor=Actor.for_buyer(buyer), case_type=rng.choice(["refund_only", "return_refund", "exchange"]),
                reason=rng.choice(["商品破损", "与描述不符", "尺码不合适"]), description="买家上传了照片",
                evidence=["https://example.invalid/evidence/photo1.jpg"],
            )
        else:
            raise ValueError(f"unknown demo step {step!r}")
