"""Submitting an order (提单): address, delivery area, coupons and stock, all or nothing."""
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.addresses import Address, address_validate, is_remote
from orders.constants import ORDER_KIND_DIGIT, LineStock, OrderKind
from orders.events import order_submitted_event_unsaved
from orders.models import (
    Buyer,
    Coupon,
    CouponClaim,
    CouponRedemption,
    FullReduction,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    Sku,
    StockLevel,
)
from orders.selectors import order_relations_known
from orders.services.address_anomaly import USUAL_ADDRESSES, address_anomaly_check
from orders.services.common import order_counts_changed
from orders.services.coupon_discount import coupon_discount_on
from orders.services.stock import (
    stock_lock_written_lines,
    stock_nearest_first,
    stock_short_lines,
)
from orders.sql import submission_load_rows
from shop_admin.kernel import rawsql
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid, NotFound
from shop_admin.kernel.models import Shop, Warehouse
from shop_admin.kernel.text import join_list

CENT = Decimal("0.01")
MAX_LINE_QUANTITY = 999
ORDER_NO_ATTEMPTS = 5


@dataclass(frozen=True)
class ItemRequest:
    sku_id: int
    quantity: int


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def order_no_generate(*, buyer_id: int, kind: str, at) -> str:
    """Digits only: buyer fragment (4) + timestamp (12) + product-type marker (1) + random (5)."""
    local = timezone.localtime(at)
    return f"{buyer_id % 10000:04d}{local:%y%m%d%H%M%S}{ORDER_KIND_DIGIT[kind]}{secrets.randbelow(100000):05d}"


@dataclass
class _Loaded:
    skus: dict[int, Sku]
    levels: list[StockLevel]
    full_reductions: list[tuple[Decimal, Decimal]]
    past_addresses: list[str] | None  # the buyer's recent address details, newest first; None: not read


def _load_for_order(shop_id: int, buyer_id: int, items: list[ItemRequest], *, now) -> _Loaded:
    """The shop's SKUs on sale among those asked for (with product and shop), their stock rows, the shop's 满减 rules in force
    and the buyer's recent addresses (for the address check).

    One statement in the usual case, written by hand (`shop_admin.kernel.rawsql`): a submission is a few
    statements, and compiling this one through the ORM cost more CPU than all of them took in the database.
    It is prepared once per connection: PostgreSQL took four times longer to plan it than to run it.
    A SKU without any stock row is read on its own; so are the rules when no SKU has a stock row.
    """
    ids = sorted({i.sku_id for i in items})
    levels: list[StockLevel] = []
    skus: dict[int, Sku] = {}
    rules: list[tuple[Decimal, Decimal]] | None = None
    past: list[str] | None = None
    rows = submission_load_rows(shop_id=shop_id, sku_ids=ids, now=now, buyer_id=buyer_id, usual_addresses=USUAL_ADDRESSES)
    widths = [rawsql.width(m) for m in (StockLevel, Sku, Product, Shop)]
    shops: dict[int, Shop] = {}
    for row in rows:
        level = rawsql.instance(StockLevel, row)
        at = widths[0]
        sku = skus.get(level.sku_id)
        if sku is None:
            sku = skus[level.sku_id] = rawsql.instance(Sku, row, at)
            product = rawsql.instance(Product, row, at + widths[1])
            shop = shops.get(sku.shop_id) or shops.setdefault(sku.shop_id, rawsql.instance(Shop, row, at + widths[1] + widths[2]))
            rawsql.related_set(sku, "product", product)
            rawsql.related_set(sku, "shop", shop)
        rawsql.related_set(level, "sku", sku)
        rawsql.related_set(level, "warehouse", rawsql.instance(Warehouse, row, sum(widths)))
        levels.append(level)
    if rows:
        rules = [(Decimal(threshold), Decimal(discount)) for threshold, discount in rows[0][-2]]
        past = list(rows[0][-1])
    if set(ids) - skus.keys():
        skus.update(
            (s.pk, s)
            for s in Sku.objects.filter(
                shop_id=shop_id, pk__in=set(ids) - skus.keys(), is_active=True, product__is_active=True
            ).select_related("product", "shop")
        )
    if rules is None:
        rules = list(
            FullReduction.objects.filter(shop_id=shop_id, valid_from__lte=now, valid_to__gte=now).values_list("threshold", "discount")
        )
    return _Loaded(skus=skus, levels=levels, full_reductions=rules, past_addresses=past)


def _refuse_bad_items(items: list[ItemRequest], skus: dict[int, Sku]) -> None:
    problems = []
    seen = set()
    for index, item in enumerate(items):
        if item.sku_id in seen:
            problems.append({"line": index + 1, "sku_id": item.sku_id, "problem": _("同一SKU重复出现，请合并数量")})
        seen.add(item.sku_id)
        if not 1 <= item.quantity <= MAX_LINE_QUANTITY:
            problems.append(
                {"line": index + 1, "sku_id": item.sku_id, "problem": _("数量须在1到%(max)d之间") % {"max": MAX_LINE_QUANTITY}}
            )
    for index, item in enumerate(items):
        if item.sku_id not in skus:
            problems.append({"line": index + 1, "sku_id": item.sku_id, "problem": _("该店铺没有这个在售SKU")})
    if problems:
        raise Invalid(_("订单商品有误"), code="invalid_items", details={"lines": problems})


def _order_kind(skus: list[Sku]) -> str:
    kinds = {s.product.kind for s in skus}
    if OrderKind.PRESALE in kinds and len(kinds) > 1:
        raise Invalid(_("预售商品须单独下单"), code="invalid_items", details={"lines": []})
    for kind in (OrderKind.PRESALE, OrderKind.FRESH, OrderKind.NORMAL):
        if kind in kinds:
            return kind
    return OrderKind.VIRTUAL


def _check_delivery_area(address: Address, items: list[ItemRequest], skus: dict[int, Sku]) -> None:
    undeliverable = [
        {"line": index + 1, "sku_id": item.sku_id, "product": skus[item.sku_id].product.name, "region": address.province}
        for index, item in enumerate(items)
        if address.province in (skus[item.sku_id].product.excluded_regions or [])
    ]
    if undeliverable:
        raise Invalid(
            _("以下商品不配送到%(region)s") % {"region": address.province},
            code="undeliverable_area",
            details={"lines": undeliverable},
        )


def _apply_coupons(
    *, shop: Shop, buyer: Buyer, codes: list[str], lines: list[OrderLine], skus: dict[int, Sku], now
) -> list[tuple[Coupon, Decimal]]:
    applied: list[tuple[Coupon, Decimal]] = []
    if not codes:
        return applied
    problems: dict[str, str] = {}
    coupons = {c.code: c for c in Coupon.objects.filter(code__in=codes)}
    for code in codes:
        coupon = coupons.get(code)
        if coupon is None or coupon.shop_id != shop.pk:
            problems[code] = _("优惠券不存在或不适用于本店")
            continue
        if coupon.buyer_id and coupon.buyer_id != buyer.pk:
            problems[code] = _("该券只限指定买家使用")
            continue
        if now < coupon.valid_from:
            problems[code] = _("优惠券尚未生效")
            continue
        if now > coupon.valid_to:
            problems[code] = _("优惠券已过期")
            continue
        if coupon.state == Coupon.State.ENDED and not coupon.needs_claim:
            # A campaign's claimed coupons outlive its end; a coupon used without claiming ends with its campaign.
            problems[code] = _("该优惠券活动已结束")
            continue
        if coupon.scope == Coupon.Scope.SKUS:
            sku_ids = set(coupon.skus.values_list("pk", flat=True))
            base = sum((ln.line_total for ln in lines if ln.sku_id in sku_ids), Decimal(0))
            if not base:
                problems[code] = _("订单中没有该券适用的商品")
                continue
        elif coupon.scope == Coupon.Scope.PRODUCT:
            base = sum((ln.line_total for ln in lines if skus[ln.sku_id].product_id == coupon.product_id), Decimal(0))
            if not base:
                problems[code] = _("订单中没有该券适用的商品")
                continue
        else:
            base = sum((ln.line_total for ln in lines), Decimal(0))
        if base < coupon.threshold:
            problems[code] = _("未满%(threshold)s元，不能使用") % {"threshold": coupon.threshold}
            continue
        used = CouponRedemption.objects.filter(coupon=coupon, buyer=buyer, released_at__isnull=True).count()
        if coupon.needs_claim:
            # A campaign's coupon is used once per claim: claiming is where the total and the per-buyer limit are held.
            held = CouponClaim.objects.filter(coupon=coupon, buyer=buyer).count()
            if used >= held:
                problems[code] = _("请先领取该优惠券") if not held else _("已领取的券都已使用")
                continue
        elif used >= coupon.per_buyer_limit:
            problems[code] = _("已达到每人限用%(n)d张") % {"n": coupon.per_buyer_limit}
            continue
        applied.append((coupon, coupon_discount_on(coupon=coupon, base=base)))
    if problems:
        raise Invalid(_("优惠券不可用"), code="invalid_coupon", details={"coupons": problems})
    return applied


def _best_full_reduction(rules: list[tuple[Decimal, Decimal]], items_total: Decimal) -> Decimal:
    return max((discount for threshold, discount in rules if threshold <= items_total), default=Decimal("0.00"))


def _out_of_stock(short: list[OrderLine]) -> Conflict:
    return Conflict(
        _("库存不足：%(names)s") % {"names": join_list(f"{ln.product_name} {ln.spec}".strip() for ln in short)},
        code="out_of_stock",
        details={
            "lines": [
                {"sku_id": ln.sku_id, "sku_code": ln.sku_code, "name": ln.product_name, "requested": ln.quantity}
                for ln in short
            ]
        },
    )


def order_submit(
    *,
    buyer: Buyer,
    shop_id: int,
    items: list[ItemRequest],
    address: dict,
    coupon_codes: list[str] | None = None,
    freight_insurance: bool = True,
    buyer_message: str = "",
) -> Order:
    """Create the order and lock its stock, or refuse the whole order naming every bad line.

    The order comes back with its lines and its one event in memory (`order_relations_known`),
    so the answer to the buyer needs no second read of what was just written.
    """
    now = timezone.now()
    loaded = _load_for_order(shop_id, buyer.pk, items, now=now)
    skus, levels, full_reductions = loaded.skus, loaded.levels, loaded.full_reductions
    # The shop comes with its SKUs; it is read on its own only when none of them was found.
    shop = next(iter(skus.values())).shop if skus else Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    if not items:
        raise Invalid(_("订单至少要有一件商品"), code="invalid_items", details={"lines": []})
    clean_address = address_validate(address)
    _refuse_bad_items(items, skus)
    kind = _order_kind(list(skus.values()))
    _check_delivery_area(clean_address, items, skus)

    lines = []
    for item in items:
        sku = skus[item.sku_id]
        lines.append(
            OrderLine(
                sku=sku,
                quantity=item.quantity,
                unit_price=sku.price,
                line_total=money(sku.price * item.quantity),
                sku_code=sku.code,
                product_name=sku.product.name,
                spec=sku.spec,
                product_snapshot={
                    "product_id": sku.product_id,
                    "name": sku.product.name,
                    "category": sku.product.category,
                    "spec": sku.spec,
                    "price": str(sku.price),
                    "is_presale": sku.product.is_presale,
                    "is_fresh": sku.product.is_fresh,
                    "is_virtual": sku.product.is_virtual,
                    "presale_ship_days": sku.product.presale_ship_days,
                },
            )
        )
    # Sold out is answered from the stock counts as last committed, before any write or row lock.
    candidates = stock_nearest_first(levels, clean_address.province)
    short = stock_short_lines(lines, candidates)
    if short:
        raise _out_of_stock(short)
    for line in lines:  # written with the nearest warehouse that had enough as read; the lock below confirms it
        line.stock_level = next(lv for lv in candidates[line.sku_id] if lv.available >= line.quantity)
        line.stock_state = LineStock.LOCKED
    items_total = sum((ln.line_total for ln in lines), Decimal("0.00"))
    freight = Decimal("0.00") if kind == OrderKind.VIRTUAL else max(s.product.freight for s in skus.values())
    full_reduction = _best_full_reduction(full_reductions, items_total)
    presale_product = next((s.product for s in skus.values() if s.product.is_presale), None)
    window = settings.ORDER_PAY_WINDOW_VIRTUAL if kind == OrderKind.VIRTUAL else settings.ORDER_PAY_WINDOW
    codes = list(dict.fromkeys(coupon_codes or []))

    def write(order_no: str) -> tuple[Order, OrderEvent]:
        with transaction.atomic():
            if codes:
                # A buyer's own concurrent orders queue here, so a per-buyer coupon limit cannot be passed twice at once.
                list(Buyer.objects.select_for_update().filter(pk=buyer.pk).values_list("pk", flat=True))
            coupons = _apply_coupons(shop=shop, buyer=buyer, codes=codes, lines=lines, skus=skus, now=now)
            coupon_discount = sum((amount for _c, amount in coupons), Decimal("0.00"))
            payable = max(money(items_total - coupon_discount - full_reduction + freight), settings.ORDER_MIN_PAYABLE)
            deposit = None
            if presale_product is not None:
                ratio = presale_product.presale_deposit_ratio or settings.PRESALE_DEPOSIT_RATIO_MIN
                deposit = max(money(payable * ratio), settings.ORDER_MIN_PAYABLE)
            order = Order(
                order_no=order_no,
                shop=shop,
                buyer=buyer,
                kind=kind,
                items_total=items_total,
                coupon_discount=coupon_discount,
                full_reduction=full_reduction,
                freight=freight,
                payable=payable,
                deposit_amount=deposit,
                freight_insurance=freight_insurance,
                recipient_name=clean_address.name,
                phone=clean_address.phone,
                province=clean_address.province,
                city=clean_address.city,
                district=clean_address.district,
                address_detail=clean_address.detail,
                is_remote=is_remote(clean_address),
                buyer_message=(buyer_message or "")[:200],
                created_at=now,
                pay_deadline=now + window,
                balance_deadline=presale_product.presale_balance_due if presale_product else None,
            )
            event = order_submitted_event_unsaved(order=order, actor=Actor.for_buyer(buyer))
            redemptions = [CouponRedemption(coupon=c, buyer=buyer, amount=amount) for c, amount in coupons]
            # The order, its event, its lines and redemptions in one statement, before the stock: the hot stock
            # row stays locked only from its UPDATE to the commit, as in the benchmark's floor.
            rawsql.insert_with_children(order, [("order", [event]), ("order", lines), ("order", redemptions)])
            short = stock_lock_written_lines(lines, candidates=candidates)
            if short:
                raise _out_of_stock(short)
            address_anomaly_check(order=order, past=loaded.past_addresses)
            deadline_schedule(name="order_pay_timeout", pk=order.pk, at=order.pay_deadline)
            order_counts_changed(shop_ids={shop.pk})
        return order, event

    for attempt in range(ORDER_NO_ATTEMPTS):
        order_no = order_no_generate(buyer_id=buyer.pk, kind=kind, at=now)
        try:
            order, event = write(order_no)
            break
        except IntegrityError:
            # Two orders of one buyer in the same second drew the same number: the whole attempt rolled back
            # (cheaper than a savepoint around every insert for a clash this rare); draw again.
            if attempt == ORDER_NO_ATTEMPTS - 1 or not Order.objects.filter(order_no=order_no).exists():
                raise
    order_relations_known(order, lines=sorted(lines, key=lambda ln: ln.pk), events=[event])
    return order

