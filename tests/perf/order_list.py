"""Benchmark of the console order list (and the dashboard) at a million orders, on PostgreSQL.

Run from the project root:

    .venv/bin/python tests/perf/order_list.py                 # 1,000,000 orders (about 5-10 minutes)
    .venv/bin/python tests/perf/order_list.py --orders 50000  # a quick look
    .venv/bin/python tests/perf/order_list.py --reuse         # measure again without reloading

It drops and recreates its own database `shop_perf_list` on 127.0.0.1:5432 (connecting to the
database `test` only to do that), migrates it, loads one big shop (N orders, one line each, about
10% shipped with a tracking number, about 2% with an open exception) plus a second, smaller shop
interleaved with it, with PostgreSQL COPY, then VACUUM ANALYZEs (the state autovacuum would leave).
REDIS_URL is Redis database 13, which the cold runs flush and the runner leaves empty.

Then it calls the console pages in-process with Django's test Client, signed in as the owner of the
big shop, and reports server time (median and p95 over --requests calls after --warmup calls) and
SQL statements per request, twice: with Django's cache warm (the order-list tab counts are cached
15 s, the dashboard trend's past days an hour; the backend is whatever settings.CACHES says, and the table
names it) and with `cache.clear()` before every request (cold).
For every case whose p95 exceeds --explain-above ms it prints EXPLAIN (ANALYZE, BUFFERS) of the
slowest statements of one request. It asserts nothing about time.
"""
import argparse
import datetime as dt
import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "shop_perf_list"
DATABASE_URL = f"{SERVER_URL}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/13"
BIG_SHOP = "性能测试旗舰店"
SMALL_SHOP = "隔壁小店"
OWNER = "perf-list-owner"
BUYERS = 100_000
DAY = 86_400

STARTED = time.monotonic()
STARTED_AT = subprocess.run(["date"], check=False, capture_output=True, text=True).stdout.strip()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# --- the runner's own database -------------------------------------------------------------------


def database_recreate() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def django_setup() -> None:
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_admin.settings")
    import django

    django.setup()
    from django.conf import settings

    # Serve the pages the way production does (no debug query log, no template debug data);
    # CaptureQueriesContext still records the statements of each measured request.
    settings.DEBUG = False


# --- reference data ------------------------------------------------------------------------------

BRANDS = ["臻选", "优品", "乐享", "悦然", "简约", "森林", "海洋", "晨光", "星辰", "暖阳"]
# (item, category, spec, price in fen, freight in fen, kind flag)
ITEMS = [
    ("纯牛奶 250ml×12盒", "乳品", "12盒装", 5990, 0, "fresh"),
    ("蓝牙耳机 降噪版", "数码", "黑色", 19900, 0, ""),
    ("保温杯 500ml", "家居", "雾白", 8900, 0, ""),
    ("洗衣液 3kg", "日化", "薰衣草", 4590, 0, ""),
    ("抽纸 24包", "日化", "3层", 3990, 0, ""),
    ("补水面膜 10片", "美妆", "10片装", 6900, 0, ""),
    ("每日坚果礼盒", "食品", "30袋", 12900, 0, ""),
    ("充电宝 20000mAh", "数码", "白色", 9900, 0, ""),
    ("跑步鞋 轻量款", "运动", "42码", 29900, 0, ""),
    ("纯棉T恤", "服饰", "L", 4900, 600, ""),
    ("羽绒服 长款", "服饰", "M", 59900, 0, "presale"),
    ("东北大米 5kg", "粮油", "5kg", 4990, 800, ""),
    ("橄榄油 1L", "粮油", "1L", 8990, 0, ""),
    ("咖啡豆 454g", "饮品", "中烘", 9800, 0, ""),
    ("猫粮 2kg", "宠物", "成猫", 7900, 0, ""),
    ("儿童绘本 10册", "图书", "套装", 9900, 0, ""),
    ("手机壳 磨砂", "数码", "iPhone 15", 2900, 0, ""),
    ("车厘子 2斤", "生鲜", "J级", 13900, 0, "fresh"),
    ("视频会员 月卡", "虚拟", "30天", 2500, 0, "virtual"),
    ("台灯 护眼款", "家居", "白色", 15900, 0, ""),
]
PRODUCT_SEARCH = "蓝牙耳机"  # case (f): matches one item in every brand, 10 of the 200 products
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
         "平", "刚", "桂英", "欣怡", "子涵", "浩然", "梓萱", "宇轩", "一诺", "思远"]
REGIONS = [
    ("浙江省", "杭州市", "西湖区"), ("浙江省", "宁波市", "鄞州区"), ("上海市", "上海市", "浦东新区"), ("北京市", "北京市", "朝阳区"),
    ("广东省", "广州市", "天河区"), ("广东省", "深圳市", "南山区"), ("江苏省", "南京市", "鼓楼区"), ("江苏省", "苏州市", "工业园区"),
    ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"), ("山东省", "青岛市", "市南区"), ("河南省", "郑州市", "金水区"),
    ("湖南省", "长沙市", "岳麓区"), ("福建省", "厦门市", "思明区"), ("陕西省", "西安市", "雁塔区"), ("重庆市", "重庆市", "渝北区"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"), ("西藏自治区", "拉萨市", "城关区"), ("内蒙古自治区", "呼和浩特市", "新城区"),
    ("甘肃省", "兰州市", "城关区"),
]
REGION_WEIGHTS = [9, 5, 9, 8, 8, 8, 6, 6, 6, 5, 4, 4, 4, 3, 3, 3, 1, 0.5, 1, 1]
ROADS = ["文三路", "中山路", "人民路", "解放路", "建设路", "和平路", "长江路", "滨江大道", "科技园路", "学院路"]
BUYER_MESSAGES = ["请尽快发货", "不要放快递柜", "送人的，不要放发票", "麻烦包装好一点", "周末送货", "到了打电话"]
MERCHANT_REMARKS = ["已电话确认地址", "客户要求顺丰", "赠品已备注", "老客户，优先发", "地址待核实"]
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
                  "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
                  "189", "191", "193", "195", "198", "199"]
KIND_DIGIT = {"normal": "1", "presale": "2", "fresh": "3", "virtual": "4"}
REMOTE = {"新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区", "甘肃省", "宁夏回族自治区"}
# Tracking numbers that fit logistics.constants.TRACKING_PATTERNS, unique by construction (index i < 10**12).
CARRIERS = [("ZTO", "7{:014d}"), ("YTO", "YT{:015d}"), ("YUNDA", "4{:014d}"), ("SF", "SF{:013d}"), ("JD", "JD{:012d}"),
            ("JT", "JT{:013d}"), ("STO", "7{:014d}"), ("EMS", "98{:011d}")]
CARRIER_WEIGHTS = [25, 18, 15, 12, 8, 10, 7, 5]

ORDER_COLUMNS = (
    "id", "order_no", "shop_id", "buyer_id", "kind", "status", "items_total", "coupon_discount", "full_reduction",
    "freight", "subsidy", "payable", "deposit_amount", "paid_amount", "freight_insurance", "recipient_name", "phone",
    "province", "city", "district", "address_detail", "is_remote", "buyer_message", "merchant_remark", "remark_flag",
    "payment_attempts", "is_frozen", "needs_risk_review", "on_hold", "pay_deadline", "balance_deadline",
    "ship_deadline", "auto_confirm_at", "created_at", "updated_at", "paid_at", "shipped_at", "delivered_at",
    "completed_at", "cancelled_at", "cancelled_by",
)
LINE_COLUMNS = ("order_id", "sku_id", "stock_level_id", "quantity", "unit_price", "line_total", "sku_code",
                "product_name", "spec", "product_snapshot", "stock_state", "returned_quantity")
SHIPMENT_COLUMNS = ("order_id", "shop_id", "carrier", "tracking_no", "status", "shipped_at", "last_event_at", "signed_at",
                    "door_delivery", "is_reship", "freight_payer", "last_event_code", "intercept_source", "intercept_result")
EXCEPTION_COLUMNS = ("order_id", "shop_id", "kind", "status", "detail", "data", "opened_at", "resolution",
                     "evidence", "remedy", "note", "resolved_by_label")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def status_for(age_h: float, kind: str, rnd) -> str:
    """A status that fits the order's age: recent orders are still moving, old ones are mostly completed."""
    r = rnd()
    if age_h < 0.5:
        status = "pending_payment" if r < 0.35 else "paid" if r < 0.85 else "cancelled"
    elif age_h < 48:
        status = "paid" if r < 0.45 else "shipped" if r < 0.85 else "cancelled" if r < 0.97 else "closed"
    elif age_h < 240:
        status = ("paid" if r < 0.005 else "shipped" if r < 0.25 else "delivered" if r < 0.50 else "completed" if r < 0.85
                  else "cancelled" if r < 0.95 else "closed" if r < 0.99 else "rejected")
    else:
        status = ("paid" if r < 0.0005 else "completed" if r < 0.85 else "cancelled" if r < 0.94 else "closed" if r < 0.99
                  else "rejected")
    if kind == "presale" and status in ("pending_payment", "paid") and age_h < 20 * 24:
        status = "deposit_paid"
    if kind == "virtual" and status in ("shipped", "delivered", "rejected"):
        status = "completed"
    return status


LINE_STOCK = {"pending_payment": "locked", "deposit_paid": "occupied", "paid": "occupied", "cancelled": "released"}
EXCEPTION_KINDS = {
    "paid": ["paid_not_shipped", "oversell", "merchant_reported", "risk_review", "address_anomaly"],
    "deposit_paid": ["payment_anomaly"],
    "pending_payment": ["payment_anomaly"],
    "shipped": ["stalled_logistics"],
    "delivered": ["not_received"],
}
BLOCKING = {"oversell", "merchant_reported", "risk_review"}


# --- loading -------------------------------------------------------------------------------------


def load(n_big: int, n_small: int, seed: int) -> dict:
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from psycopg.types.json import Jsonb

    from orders.models import Product, Sku, StockLevel
    from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse

    rng = random.Random(seed)
    rnd = rng.random
    t0 = time.monotonic()

    # Shops, warehouses, products, SKUs and stock through the ORM: a few hundred rows.
    shops, catalog = {}, {}
    for shop_name, n_brands in ((BIG_SHOP, len(BRANDS)), (SMALL_SHOP, 1)):
        shop = Shop.objects.create(name=shop_name, return_address="浙江省杭州市余杭区仓前街道 退货组")
        warehouse = Warehouse.objects.create(shop=shop, name=f"{shop_name}杭州仓", province="浙江省", priority=0)
        products = []
        for b, brand in enumerate(BRANDS[:n_brands]):
            for j, (item, category, spec, price, freight, flag) in enumerate(ITEMS):
                product = Product.objects.create(
                    shop=shop, name=f"{brand}{item}", category=category, freight=yuan(freight),
                    is_fresh=flag == "fresh", is_virtual=flag == "virtual", is_presale=flag == "presale",
                    presale_deposit_ratio="0.20" if flag == "presale" else None,
                    presale_balance_due=dt.datetime.now(dt.UTC) + dt.timedelta(days=20) if flag == "presale" else None,
                    presale_ship_days=15 if flag == "presale" else None,
                )
                sku = Sku.objects.create(product=product, shop=shop, code=f"S{shop.pk}-{b:02d}{j:02d}", spec=spec,
                                         price=yuan(price + 100 * b))
                level = StockLevel.objects.create(sku=sku, warehouse=warehouse, available=rng.randint(50, 5000))
                kind = flag or "normal"
                snapshot = Jsonb({
                    "product_id": product.pk, "name": product.name, "category": category, "spec": spec,
                    "price": yuan(price + 100 * b), "is_presale": flag == "presale", "is_fresh": flag == "fresh",
                    "is_virtual": flag == "virtual", "presale_ship_days": 15 if flag == "presale" else None,
                })
                products.append((sku.pk, level.pk, sku.code, product.name, spec, price + 100 * b, freight, kind, snapshot))
        shops[shop_name] = shop
        # Popularity falls off with rank, as it does in a real shop.
        order = list(range(len(products)))
        rng.shuffle(order)
        weights = [0.0] * len(products)
        for rank, index in enumerate(order):
            weights[index] = 1.0 / (rank + 1) ** 0.8
        catalog[shop.pk] = (products, list(itertools.accumulate(weights)))
    big, small = shops[BIG_SHOP], shops[SMALL_SHOP]
    user = get_user_model().objects.create_user(username=OWNER, password="pw-123456")
    Membership.objects.create(user=user, shop=big, role="owner")
    MerchantApiToken.objects.create(user=user)
    connection.close()
    log(f"catalog: 2 shops, {sum(len(p) for p, _w in catalog.values())} products/SKUs ({time.monotonic() - t0:.1f} s)")

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now_ts = int(now.timestamp())
    utc = dt.UTC
    total = n_big + n_small
    p_small = n_small / total if total else 0

    def stamp(ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, utc)

    with psycopg.connect(DATABASE_URL) as conn:
        # Every foreign key holds by construction; skip the per-row RI triggers while loading (superuser only).
        try:
            conn.execute("SET session_replication_role = replica")
            fk_note = "FK triggers off while loading"
        except psycopg.Error:
            conn.rollback()
            fk_note = "FK triggers on"
        conn.execute("SET synchronous_commit = off")
        cur = conn.cursor()

        # Buyers, with a phone each (most orders go to the buyer's own phone).
        t1 = time.monotonic()
        phones = []
        with cur.copy("COPY orders_buyer (id, name, api_token, is_flagged, created_at) FROM STDIN") as copy:
            for b in range(1, BUYERS + 1):
                phones.append(rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}")
                copy.write_row((b, f"buyer{b:06d}", f"{rng.getrandbits(160):040x}", rnd() < 0.003,
                                stamp(now_ts - 400 * DAY + b * 300)))
        log(f"buyers: {BUYERS:,} ({time.monotonic() - t1:.1f} s)")

        # Order times: density grows linearly towards today (a growing shop), ids follow time.
        t1 = time.monotonic()
        span = 365 * DAY
        ages = sorted((span * (1 - rnd() ** 0.5) for _ in range(total)), reverse=True)
        lines, shipments, exceptions = [], [], []
        region_cum = list(itertools.accumulate(REGION_WEIGHTS))
        carrier_cum = list(itertools.accumulate(CARRIER_WEIGHTS))
        tracking_seq = 0
        with cur.copy(f"COPY orders_order ({', '.join(ORDER_COLUMNS)}) FROM STDIN") as copy:
            for i, age in enumerate(ages):
                oid = i + 1
                shop_id = small.pk if rnd() < p_small else big.pk
                products, cum_weights = catalog[shop_id]
                sku_id, level_id, sku_code, pname, spec, price, freight, kind, snapshot = rng.choices(products, cum_weights=cum_weights)[0]
                buyer = int(BUYERS * rnd() ** 1.5) + 1
                created_ts = now_ts - age
                created = stamp(created_ts)
                age_h = age / 3600
                status = status_for(age_h, kind, rnd)

                qty = 1 if rnd() < 0.8 else rng.randint(2, 3)
                items_total = price * qty
                coupon = 0
                if rnd() < 0.2:
                    coupon = rng.choice((300, 500, 1000, 2000))
                    if coupon >= items_total:
                        coupon = 0
                full_red = 2000 if items_total >= 19900 and rnd() < 0.3 else 0
                subsidy = rng.choice((100, 200, 500)) if rnd() < 0.05 else 0
                freight = 0 if kind == "virtual" else freight
                payable = max(items_total - coupon - full_red - subsidy + freight, 1)
                deposit = max(payable // 5, 1) if kind == "presale" else None

                paid = status not in ("pending_payment", "cancelled")
                pay_ts = created_ts + rng.uniform(20, 900) if paid else None
                shipped_ts = delivered_ts = completed_ts = cancelled_ts = auto_confirm = ship_deadline = None
                if status == "cancelled":
                    cancelled_ts = created_ts + (1800 if rnd() < 0.7 else rng.uniform(30, 1700))
                if paid and status != "deposit_paid":
                    ship_deadline = pay_ts + (2 * 3600 if kind == "fresh" else 15 * DAY if kind == "presale" else 48 * 3600)
                went_out = status in ("shipped", "delivered", "completed", "rejected") or (status == "closed" and rnd() < 0.5)
                if went_out and kind != "virtual":
                    shipped_ts = min(pay_ts + rng.uniform(600, 40 * 3600), now_ts - 60)
                if status in ("delivered", "completed") and shipped_ts:
                    delivered_ts = min(shipped_ts + rng.uniform(DAY, 4 * DAY), now_ts - 30)
                    window = 3 if kind == "fresh" else 5 if kind == "presale" else 7
                    auto_confirm = delivered_ts + window * DAY
                if status == "completed":
                    completed_ts = min((delivered_ts or pay_ts) + rng.uniform(3600, 7 * DAY), now_ts - 10)
                updated_ts = max(t for t in (created_ts, pay_ts, shipped_ts, delivered_ts, completed_ts, cancelled_ts) if t)
                if status == "closed":
                    updated_ts = min(updated_ts + rng.uniform(3600, 5 * DAY), now_ts - 5)
                paid_amount = payable if paid and status != "deposit_paid" else deposit if status == "deposit_paid" else 0

                region = rng.choices(REGIONS, cum_weights=region_cum)[0]
                phone = phones[buyer - 1] if rnd() < 0.85 else rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
                remark_flag = rng.randint(1, 5) if rnd() < 0.05 else 0
                exception_kind = None
                if rnd() < 0.02:
                    exception_kind = rng.choice(EXCEPTION_KINDS.get(status, ["address_anomaly", "merchant_reported"]))
                order_no = f"{buyer % 10000:04d}{stamp(created_ts + 8 * 3600):%y%m%d%H%M%S}{KIND_DIGIT[kind]}{i % 100000:05d}"
                copy.write_row((
                    oid, order_no, shop_id, buyer, kind, status, yuan(items_total), yuan(coupon), yuan(full_red),
                    yuan(freight), yuan(subsidy), yuan(payable), yuan(deposit) if deposit else None, yuan(paid_amount),
                    rnd() < 0.7, SURNAMES[int(rnd() * len(SURNAMES))] + rng.choice(GIVEN), phone,
                    region[0], region[1], region[2],
                    f"{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 3208)}室",
                    region[0] in REMOTE, rng.choice(BUYER_MESSAGES) if rnd() < 0.15 else "",
                    rng.choice(MERCHANT_REMARKS) if remark_flag or rnd() < 0.03 else "", remark_flag,
                    1 if paid else (0 if rnd() < 0.6 else 1), status == "paid" and rnd() < 0.001,
                    status == "paid" and rnd() < 0.002, status == "paid" and exception_kind in BLOCKING,
                    stamp(created_ts + (900 if kind == "virtual" else 1800)),
                    stamp(now_ts + 20 * DAY) if kind == "presale" else None,
                    stamp(ship_deadline) if ship_deadline else None, stamp(auto_confirm) if auto_confirm else None,
                    created, stamp(updated_ts), stamp(pay_ts) if pay_ts else None,
                    stamp(shipped_ts) if shipped_ts else None, stamp(delivered_ts) if delivered_ts else None,
                    stamp(completed_ts) if completed_ts else None, stamp(cancelled_ts) if cancelled_ts else None,
                    # the pay window's end is the clock's cancellation; earlier, the buyer's (draws no random number)
                    "" if not cancelled_ts else "system" if cancelled_ts == created_ts + 1800 else "buyer",
                ))
                stock_state = LINE_STOCK.get(status) or ("deducted" if shipped_ts or status == "completed" else "released")
                lines.append((oid, sku_id, level_id, qty, yuan(price), yuan(items_total), sku_code, pname, spec, snapshot,
                              stock_state, 0))
                # About 10% of all orders get a shipment row: every order still in transit or just delivered,
                # and enough of the older ones (completed, rejected, closed after shipping) to make up the rest.
                if shipped_ts and (status in ("shipped", "delivered") or rnd() < 0.105):
                    tracking_seq += 1
                    carrier, pattern = rng.choices(CARRIERS, cum_weights=carrier_cum)[0]
                    tracking_no = pattern.format((tracking_seq * 7_919_993 + 104_729) % 10 ** 11)
                    ship_status = "signed" if delivered_ts else "rejected" if status == "rejected" else "in_transit"
                    shipments.append((oid, shop_id, carrier, tracking_no, ship_status, stamp(shipped_ts),
                                      stamp(min(shipped_ts + rng.uniform(3600, 2 * DAY), now_ts)),
                                      stamp(delivered_ts) if delivered_ts else None, False, False, "buyer", "", "", ""))
                if exception_kind:
                    exceptions.append((oid, shop_id, exception_kind, "open", "性能测试：待处理异常",
                                       Jsonb({"source": "perf"}), stamp(min(updated_ts + 600, now_ts)), "",
                                       Jsonb([]), "", "", ""))
        log(f"orders: {total:,} ({n_big:,} in {BIG_SHOP}, {n_small:,} in {SMALL_SHOP}) ({time.monotonic() - t1:.1f} s)")

        t1 = time.monotonic()
        with cur.copy(f"COPY orders_orderline ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
            for row in lines:
                copy.write_row(row)
        n_lines = len(lines)
        del lines
        log(f"order lines: {n_lines:,} ({time.monotonic() - t1:.1f} s)")
        t1 = time.monotonic()
        with cur.copy(f"COPY logistics_shipment ({', '.join(SHIPMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in shipments:
                copy.write_row(row)
        with cur.copy(f"COPY orders_orderexception ({', '.join(EXCEPTION_COLUMNS)}) FROM STDIN") as copy:
            for row in exceptions:
                copy.write_row(row)
        log(f"shipments: {len(shipments):,}, open exceptions: {len(exceptions):,} ({time.monotonic() - t1:.1f} s)")
        conn.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", (total,))
        conn.execute("SELECT setval(pg_get_serial_sequence('orders_buyer', 'id'), %s)", (BUYERS,))
        conn.commit()

    t1 = time.monotonic()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        # What autovacuum would leave after a while: statistics, and a visibility map for index-only scans.
        conn.execute("VACUUM (ANALYZE)")
    log(f"VACUUM ANALYZE ({time.monotonic() - t1:.1f} s)")
    load_s = time.monotonic() - t0
    log(f"load: {load_s:.1f} s ({fk_note})")
    return {"load_s": load_s, "shipments": len(shipments), "exceptions": len(exceptions),
            "lines": n_lines}


def check_columns() -> None:
    """Fail early, and say why, if a table the loader COPYs into gained a NOT NULL column the loader does not fill."""
    from django.db import connection

    loaded = {"orders_order": ORDER_COLUMNS, "orders_orderline": LINE_COLUMNS, "logistics_shipment": SHIPMENT_COLUMNS,
              "orders_orderexception": EXCEPTION_COLUMNS}
    with connection.cursor() as cursor:
        for table, columns in loaded.items():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'", [table]
            )
            missing = {row[0] for row in cursor.fetchall()} - set(columns)
            if missing:
                sys.exit(f"order_list.py: {table} has NOT NULL columns the loader does not fill: {sorted(missing)}")


# --- measuring -----------------------------------------------------------------------------------


def pick_samples(shop_id: int) -> dict:
    """Search terms taken from the data: phones of repeat buyers, tracking numbers, a 7-day window."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Repeat buyers of middling rank: a few to a few dozen orders each at a million orders.
        cursor.execute(
            "SELECT phone FROM orders_order WHERE shop_id = %s AND buyer_id BETWEEN 2000 AND 3000 "
            "GROUP BY phone ORDER BY COUNT(*) DESC, phone LIMIT 10", [shop_id])
        phones = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT tracking_no FROM logistics_shipment WHERE shop_id = %s ORDER BY id DESC LIMIT 5", [shop_id])
        tracking = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT tracking_no FROM logistics_shipment WHERE shop_id = %s AND id %% 997 = 0 ORDER BY id LIMIT 5", [shop_id])
        tracking += [r[0] for r in cursor.fetchall()]
    return {"phones": phones, "tracking": tracking}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(client, urls: list[str], *, requests: int, warmup: int, cold: bool, budget_s: float) -> dict:
    """Time `requests` GETs (cycling through `urls`) after `warmup` untimed ones.

    A case so slow that `requests` calls would take more than `budget_s` is timed fewer times (at least 10),
    so that a full run stays within minutes; the table shows how many calls were timed.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpu_times, db_times, n_queries, rows, slowest = [], [], [], [], [], None
    warmup_ms = []
    k, total = 0, warmup + requests
    while k < total:
        url = urls[k % len(urls)]
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            cpu = time.process_time()
            t = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t) * 1000
            cpu = (time.process_time() - cpu) * 1000
        if response.status_code != 200:
            sys.exit(f"order_list.py: GET {url} answered {response.status_code}")
        k += 1
        if k <= warmup:
            warmup_ms.append(elapsed)
            if k == warmup:
                total = warmup + min(requests, max(10, int(budget_s * 1000 / statistics.mean(warmup_ms))))
            continue
        times.append(elapsed)
        cpu_times.append(cpu)
        db_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        n_queries.append(len(ctx.captured_queries))
        rows.append(response.content.count(b'form="bulk-form"'))
        if slowest is None or elapsed > slowest[0]:
            slowest = (elapsed, url, list(ctx.captured_queries))
    return {
        "p50": statistics.median(times), "p95": percentile(times, 0.95), "max": max(times),
        "db_p50": statistics.median(db_times), "cpu_p50": statistics.median(cpu_times), "queries": (min(n_queries), max(n_queries)),
        "rows": (min(rows), max(rows)), "slowest": slowest, "n": len(times),
    }


def explain(queries: list[dict], top: int = 3) -> None:
    from django.db import connection

    # The statements of the page itself; session, user and membership look-ups are primary-key sized.
    selects = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")
               and ("orders_" in q["sql"] or "logistics_" in q["sql"])]
    for q in sorted(selects, key=lambda q: float(q["time"]), reverse=True)[:top]:
        print(f"\n  -- {float(q['time']) * 1000:.1f} ms in the request: {q['sql'][:600]}{' …' if len(q['sql']) > 600 else ''}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            for (line,) in cursor.fetchall():
                print("    " + line)


def machine() -> list[tuple[str, str]]:
    import django

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = subprocess.run(["free", "-h"], check=False, capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    with __import__("psycopg").connect(DATABASE_URL) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        settings = ", ".join(f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}"
                             for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost"))
    return [("date", STARTED_AT), ("CPU", cpu), ("cores (nproc)", str(os.cpu_count())), ("memory (free -h)", mem),
            ("software", f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg}"),
            ("PostgreSQL settings", settings)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of the measured shop")
    parser.add_argument("--other-orders", type=int, default=None, help="orders of the second shop (default: orders / 10)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=45.0,
                        help="seconds one case may take per cache mode; a slower case is timed fewer times (at least 10)")
    parser.add_argument("--explain-above", type=float, default=50.0, help="EXPLAIN ANALYZE cases whose p95 (ms) exceeds this")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run left, without reloading")
    args = parser.parse_args()
    n_small = args.other_orders if args.other_orders is not None else args.orders // 10

    loaded = None
    if not args.reuse:
        log(f"recreating database {DB_NAME}")
        database_recreate()
    django_setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from shop_admin.kernel.models import Shop

    if not args.reuse:
        t = time.monotonic()
        call_command("migrate", verbosity=0)
        log(f"migrate ({time.monotonic() - t:.1f} s)")
        check_columns()
        loaded = load(args.orders, n_small, args.seed)

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orders.daystats import order_day_stats_refresh

    # What the cron job beside the deadline sweep keeps: the dashboard trend's daily rollup of past days.
    t = time.monotonic()
    log(f"daily rollup refreshed: {order_day_stats_refresh(now=timezone.now())} rows ({time.monotonic() - t:.1f} s)")
    shop = Shop.objects.get(name=BIG_SHOP)
    user = get_user_model().objects.get(username=OWNER)
    samples = pick_samples(shop.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(created_at) FROM orders_order WHERE shop_id = %s", [shop.pk])
        newest = cursor.fetchone()[0].date()
        cursor.execute("SELECT shop_id, status, count(*) FROM orders_order GROUP BY 1, 2 ORDER BY 1, 3 DESC")
        distribution = cursor.fetchall()
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    window_to = newest - dt.timedelta(days=90)
    window_from = window_to - dt.timedelta(days=6)
    log("orders per shop and status: " + ", ".join(f"{s}/{st} {n:,}" for s, st, n in distribution))
    log(f"database size {db_size}; phones searched {samples['phones'][:3]}…, tracking numbers {samples['tracking'][:3]}…")

    client = Client()
    client.force_login(user)
    load_before = os.getloadavg()
    cases = [
        ("a first page", ["/orders/"]),
        ("b status tab paid", ["/orders/?status=paid"]),
        ("c phone search", [f"/orders/?q={p}" for p in samples["phones"]]),
        ("d 7-day date range", [f"/orders/?created_from={window_from}&created_to={window_to}"]),
        ("e page 500", ["/orders/?page=500"]),
        ("f product-name search", [f"/orders/?q={PRODUCT_SEARCH}"]),
        ("g tracking-no search", [f"/orders/?q={t}" for t in samples["tracking"]]),
        ("h dashboard", ["/"]),
    ]
    results = []
    for name, urls in cases:
        warm = measure(client, urls, requests=args.requests, warmup=args.warmup, cold=False, budget_s=args.budget)
        cold = measure(client, urls, requests=args.requests, warmup=args.warmup, cold=True, budget_s=args.budget)
        results.append((name, urls, warm, cold))
        log(f"{name}: warm p50 {warm['p50']:.1f} / p95 {warm['p95']:.1f} ms, cold p50 {cold['p50']:.1f} / p95 {cold['p95']:.1f} ms")

    print()
    print(f"Console order list, {BIG_SHOP} ({args.orders:,} orders; {SMALL_SHOP} {n_small:,}), "
          f"{args.requests} requests per case and cache mode after {args.warmup} warm-up")
    header = ("case", "cache", "n", "SQL/req", "p50", "p95", "max", "DB p50", "py CPU p50", "rows")
    table = [header]
    for name, _urls, warm, cold in results:
        for mode, r in (("warm", warm), ("cold", cold)):
            queries = f"{r['queries'][0]}" if r["queries"][0] == r["queries"][1] else f"{r['queries'][0]}-{r['queries'][1]}"
            shown = "-" if name == "h dashboard" else f"{r['rows'][0]}" if r["rows"][0] == r["rows"][1] else f"{r['rows'][0]}-{r['rows'][1]}"
            table.append((name if mode == "warm" else "", mode, r["n"], queries, f"{r['p50']:.1f}", f"{r['p95']:.1f}",
                          f"{r['max']:.1f}", f"{r['db_p50']:.1f}", f"{r['cpu_p50']:.1f}", shown))
    widths = [max(len(str(row[c])) for row in table) for c in range(len(header))]
    for index, row in enumerate(table):
        print("  ".join(str(v).ljust(w) if c == 0 else str(v).rjust(w) for c, (v, w) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print("\nURLs: " + "; ".join(f"{name[0]} {urls[0]}" + (f" (+{len(urls) - 1} more)" if len(urls) > 1 else "")
                                 for name, urls, _w, _c in results))
    print("\nms of server time per request (test Client, in-process): p50/p95/max wall clock; DB p50 = the summed time "
          "of the request's SQL statements; py CPU p50 = CPU time of this Python process; rows = orders on the page; n = timed requests. "
          f"cold = cache.clear() before each request. Cache backend: {settings.CACHES['default']['BACKEND']}.")
    print(f"load average (1/5/15 min) before measuring {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")
    if loaded:
        print(f"\nload: {loaded['load_s']:.1f} s for {args.orders + n_small:,} orders, {loaded['lines']:,} lines, "
              f"{loaded['shipments']:,} shipments, {loaded['exceptions']:,} open exceptions (COPY, then VACUUM ANALYZE)")
    for label, value in machine():
        print(f"{label}: {value}")

    over = [(name, warm, cold) for name, _u, warm, cold in results if max(warm["p95"], cold["p95"]) > args.explain_above]
    for name, warm, cold in over:
        worst = cold if cold["p95"] >= warm["p95"] else warm
        elapsed, url, queries = worst["slowest"]
        db_ms = sum(float(q["time"]) for q in queries) * 1000
        print(f"\n=== {name}: p95 over {args.explain_above:.0f} ms; EXPLAIN ANALYZE of the slowest statements of "
              f"GET {url} (the slowest timed request: {elapsed:.1f} ms, of which SQL {db_ms:.0f} ms in "
              f"{len(queries)} statements; cache {'cold' if worst is cold else 'warm'}) ===")
        explain(queries)
    cache.clear()  # leave Redis database 13 empty
    print(f"\ntotal run time: {time.monotonic() - STARTED:.1f} s")


if __name__ == "__main__":
    main()
