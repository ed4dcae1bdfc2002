"""The story of each demo order: how far it gets, its steps and their gaps, each step played by the real services."""
import math
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from aftersale.services.open import aftersale_open, reply_window
from logistics.models import Shipment
from logistics.services import shipment_create
from logistics.services.stall import shipment_stall_timeout
from logistics.services.tracking import TrackingReport, tracking_events_apply
from orders.constants import OrderKind, OrderStatus, PaymentStatus
from orders.models import (
    Buyer,
    Order,
)
from orders.services.exceptions import order_merchant_report
from orders.services.lifecycle import (
    auto_confirm_window,
    order_cancel,
    order_confirm_receipt,
    order_refund_close,
    order_risk_approve,
)
from orders.services.payments import payment_callback_apply, payment_create
from orders.services.ship_deadlines import order_ship_timeout
from orders.services.submit import ItemRequest, order_submit
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadlines_sweep
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.shoprules import shop_rule
from shop_admin.shell.demo.clock import DAY, HOUR, MINUTE, Rhythm, orders_move_back
from shop_admin.shell.demo.evidence import demo_evidence
from shop_admin.shell.demo.people import SHOP_1, SHOP_2

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

CARRIERS = {
    "ZTO": lambda rng: f"7{rng.randrange(10**13, 10**14)}",
    "YTO": lambda rng: f"YT{rng.randrange(10**14, 10**15)}",
    "YUNDA": lambda rng: f"{rng.randrange(10**14, 10**15)}",
    "JT": lambda rng: f"JT{rng.randrange(10**12, 10**13)}",
    "SF": lambda rng: f"SF{rng.randrange(10**12, 10**13)}",
}
# Steps the clock takes (the deadline sweep), with the status they lead to.
CLOCK_STEPS = {"expire": OrderStatus.CANCELLED, "auto_confirm": OrderStatus.COMPLETED}
CANCEL_REASONS = ["不想要了", "拍错了规格", "地址填错了，重新下单", "找到更便宜的了"]
BUYER_MESSAGES = ["请尽快发货，谢谢", "送人的，不要放价格单", "周末在家，工作日放快递柜", "包装结实一点"]
CANCEL_REASONS = ["不想要了", "拍错了规格", "地址填错了，重新下单", "找到更便宜的了"]


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


class MonthStory:
    """Places a shop's month of orders and plays each one's story (errors of single orders go to `stderr`)."""

    def __init__(self, *, rng, stderr):
        self.rng = rng
        self.stderr = stderr
        self._reply_windows: dict[int, timedelta] = {}

    def orders(self, shop, skus, buyers, staff, rng, rhythm: Rhythm, *, count: int, quotas: dict[str, int]) -> int:
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
            orders_move_back({p.order.pk: p.steps[index][1] for p in due})
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
        orders_move_back({p.order.pk: p.final for p in plans})
        # What fell due in that last move (a parcel passing 24 h without a scan) the clock applies now, as the sweep of
        # `make run` would on start: the picture the merchant opens does not change under their eyes.
        deadlines_sweep(now=timezone.now())
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
        chosen = rng.sample(candidates, min(aftersales, len(candidates)))
        # At least one case on a delivered order, whatever the hour the demo is seeded at: its auto-confirm waits,
        # paused, while the case is open (the order page shows it).
        delivered = [p for p in candidates if p.state == "delivered"]
        if delivered and chosen and not any(p.state == "delivered" for p in chosen):
            chosen[-1] = rng.choice(delivered)
        for plan in chosen:
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
        # The window the payment service gives this order: the shop's own ship promise (its settings), fresh goods' fixed.
        ship_window = settings.FRESH_SHIP_DEADLINE if fresh else shop_rule(order.shop_id, "ship_promise")
        steps = [("pay", timedelta(seconds=30), min(20 * MINUTE, pay_window - 5 * MINUTE))]
        if state == "deposit":
            return steps, timedelta(0), 2 * DAY
        if state == "held":
            # still within the ship window when the demo ends (a shop promising 24 h leaves less time since the hold)
            return [*steps, ("hold", 20 * MINUTE, 8 * HOUR)], timedelta(0), min(24 * HOUR, ship_window - 9 * HOUR)
        if state == "paid":
            return steps, timedelta(0), ship_window - 30 * MINUTE
        if state == "late":
            if fresh or self._risky(order):  # fresh goods are refunded instead; big orders wait for their review
                return None
            # The clock's text quotes the ship deadline as it is when it runs, and nothing moves the order after it
            # (no time since the last step): moved back later, the order's deadline and the quoted one would differ.
            return [*steps, ("late", ship_window + MINUTE, ship_window + 4 * DAY)], timedelta(0), timedelta(0)
        if state == "closed":
            return [*steps, ("close", 20 * MINUTE, min(30 * HOUR, ship_window - 10 * MINUTE))], timedelta(0), None
        ship = (15 * MINUTE, ship_window - 20 * MINUTE) if fresh else (HOUR, min(40 * HOUR, ship_window - 2 * HOUR))
        if self._risky(order):  # big orders wait for the risk review before they can ship
            steps.append(("approve", 10 * MINUTE, 6 * HOUR))
            ship = (30 * MINUTE, ship[1] - 6 * HOUR)
        steps.append(("ship", *ship))
        if state == "shipped":
            return steps, timedelta(0), settings.LOGISTICS_STALL_AFTER - 2 * HOUR
        if state == "stalled":
            stall = settings.LOGISTICS_STALL_AFTER
            # Likewise the idle hours quoted: the stall is found at the end, so they are the hours the parcel shows.
            return [*steps, ("stall", stall + 5 * MINUTE, stall + 2 * DAY)], timedelta(0), timedelta(0)
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
            order_merchant_report(
                order=order, actor=merchant, description="发货前发现鞋盒破损，待补货", evidence=[demo_evidence("damaged-box")]
            )
        elif step == "late":
            # The ship deadline has passed by now (the gap before this step is over the ship window): the clock flags it.
            order_ship_timeout(now=timezone.now(), ids=[order.pk])
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
                evidence=[demo_evidence("buyer-photo")],
            )
        else:
            raise ValueError(f"unknown demo step {step!r}")
