"""The hand-written SQL of order submission (shop_admin.kernel.rawsql) gives what the ORM gives, and its edge cases hold."""
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from orders.constants import LineStock
from orders.models import Buyer, Order, OrderLine, Product, Sku, StockLevel
from orders.selectors import buyer_by_token, order_counts_changed
from orders.services.stock import stock_lock_written_lines
from orders.services.submit import ItemRequest, _load_for_order
from shop_admin.kernel import rawsql
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.models import Shop, Warehouse
from shop_admin.kernel.queues import rq_queue
from tests.factories import make_buyer, make_shop, make_sku, order_payload


def _same_fields(a, b) -> None:
    assert type(a) is type(b)
    for field in type(a)._meta.concrete_fields:
        assert getattr(a, field.attname) == getattr(b, field.attname), field.name
    assert not a._state.adding and a._state.db == b._state.db


def test_the_submission_read_gives_the_rows_the_orm_reads(shop, buyer):
    # given a product with a JSON column set, money, times, and a 满减 rule in force
    sku = make_sku(shop, price="12.34", stock=7, excluded_regions=["西藏自治区"], is_presale=False)
    now = timezone.now()
    shop_rules = [(Decimal("100.00"), Decimal("10.00"))]
    from orders.models import FullReduction

    FullReduction.objects.create(shop=shop, threshold=shop_rules[0][0], discount=shop_rules[0][1], valid_from=now, valid_to=now)
    # when
    loaded = _load_for_order(shop.pk, buyer.pk, [ItemRequest(sku_id=sku.pk, quantity=1)], now=now)
    # then every instance equals the ORM's, related rows included, with no query left to run
    [level] = loaded.levels
    _same_fields(level, StockLevel.objects.get(sku=sku))
    _same_fields(level.warehouse, Warehouse.objects.get(pk=level.warehouse_id))
    _same_fields(loaded.skus[sku.pk], Sku.objects.get(pk=sku.pk))
    _same_fields(loaded.skus[sku.pk].product, Product.objects.get(pk=sku.product_id))
    _same_fields(loaded.skus[sku.pk].shop, Shop.objects.get(pk=shop.pk))
    assert loaded.skus[sku.pk].product.excluded_regions == ["西藏自治区"]
    assert loaded.full_reductions == shop_rules
    assert loaded.past_addresses == []
    _same_fields(buyer_by_token(token=buyer.api_token), Buyer.objects.get(pk=buyer.pk))
    assert buyer_by_token(token="no-such-token") is None


def test_the_answer_to_a_submission_is_what_reading_the_order_back_gives(shop, sku, buyer_api):
    # when an order is submitted (order, event and lines written in one statement)
    status, created = buyer_api.post("/orders", order_payload(shop, (sku, 2), buyer_message="请尽快发货"))
    assert status == 201, created
    # then the answer built from memory is the order as stored
    status, read_back = buyer_api.get(f"/orders/{created['order_no']}")
    assert status == 200, read_back
    assert created == read_back
    order = Order.objects.get(order_no=created["order_no"])
    [line] = order.lines.all()
    assert (line.quantity, line.stock_state, line.stock_level.sku_id) == (2, LineStock.LOCKED, sku.pk)
    assert order.events.get().data == {"payable": str(order.payable)}


def test_a_line_whose_nearest_warehouse_ran_out_since_it_was_read_takes_the_next_one(db):
    # given two warehouses with stock, and a line written pointing at the first (as read a moment ago)
    shop = make_shop(warehouses=(("杭州仓", "浙江省"), ("上海仓", "上海市")))
    sku = make_sku(shop, stock=5)
    first, second = StockLevel.objects.filter(sku=sku).order_by("warehouse__priority")
    StockLevel.objects.filter(pk=second.pk).update(available=5)
    second.refresh_from_db()
    buyer = make_buyer()
    stale_first = StockLevel.objects.get(pk=first.pk)  # available 5 as read
    StockLevel.objects.filter(pk=first.pk).update(available=0)  # ... then sold out by someone else
    with transaction.atomic():
        now = timezone.now()
        order = Order(order_no="1" * 22, shop=shop, buyer=buyer, items_total=sku.price, payable=sku.price,
                      recipient_name="张三", phone="13800138000", province="浙江省", city="杭州市", district="西湖区",
                      address_detail="文三路478号", created_at=now, pay_deadline=now)
        line = OrderLine(sku=sku, stock_level=stale_first, quantity=1, unit_price=sku.price, line_total=sku.price,
                         sku_code=sku.code, product_name="p", spec="默认")
        rawsql.insert_with_children(order, [("order", [line])])
        # when the stock is taken
        short = stock_lock_written_lines([line], candidates={sku.pk: [stale_first, second]})
    # then the second warehouse gave the unit and the stored line says so
    assert short == []
    assert line.stock_level_id == second.pk
    assert OrderLine.objects.get(pk=line.pk).stock_level_id == second.pk
    assert StockLevel.objects.get(pk=second.pk).locked == 1
    assert StockLevel.objects.get(pk=first.pk).locked == 0


def test_after_commit_the_wake_up_and_the_tab_count_invalidation_share_one_round_trip(
    shop, redis_conn, django_capture_on_commit_callbacks
):
    cache.set(f"order-tab-counts:{shop.pk}", {"all": 1})
    at = timezone.now() + timezone.timedelta(minutes=30)
    # when one transaction schedules a wake-up and drops the counts, and a rolled-back savepoint schedules another
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        deadline_schedule(name="order_pay_timeout", pk=101, at=at)
        order_counts_changed(shop_ids={shop.pk})
        try:
            with transaction.atomic():
                deadline_schedule(name="order_pay_timeout", pk=102, at=at)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    # then one callback sent both, and nothing of the rolled-back savepoint
    assert len(callbacks) == 1
    job_ids = ScheduledJobRegistry(queue=rq_queue("deadlines")).get_job_ids()
    assert job_ids == [f"deadline-order_pay_timeout-101-{int(at.timestamp())}"]
    assert cache.get(f"order-tab-counts:{shop.pk}") is None
