"""The hand-written SQL of order submission (shop_admin.kernel.rawsql) gives what the ORM gives, and its edge cases hold."""
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from orders.constants import LineStock
from orders.models import Buyer, Order, OrderLine, Product, Sku, StockLevel
from orders.selectors import buyer_by_token
from orders.services.common import order_counts_changed
from orders.services.stock import stock_lock_written_lines
from orders.services.submit import ItemRequest, _load_for_order
from shop_admin.kernel import rawsql
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.models import Shop, Warehouse
from shop_admin.kernel.queues import rq_queue
from tests.factories import make_buyer, make_coupon, make_shop, make_sku, order_payload


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


def _prepared_statements() -> dict[str, tuple[int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


def test_placeholders_become_numbered_parameters_once_per_name():
    assert rawsql._numbered("a = %s AND b = %s AND c LIKE 'x%%'") == ("a = $1 AND b = $2 AND c LIKE 'x%'", (0, 1))
    assert rawsql._numbered("a = %(x)s OR b = %(y)s OR c = %(x)s") == ("a = $1 OR b = $2 OR c = $1", ("x", "y"))


def test_submissions_reuse_their_prepared_statements_after_a_rollback(shop, buyer_api):
    from django.db import connection

    first, second = make_sku(shop, stock=10), make_sku(shop, stock=10)
    coupon = make_coupon(shop, discount="5.00")
    # given an order of one line and a refused one (rolled back after its statements ran)
    assert buyer_api.post("/orders", order_payload(shop, (first, 1)))[0] == 201
    assert buyer_api.post("/orders", order_payload(shop, (first, 99)))[0] == 409
    prepared = _prepared_statements()
    assert prepared, "the submission's statements are prepared on this connection"
    # when three more orders of the same shape come
    for _ in range(3):
        assert buyer_api.post("/orders", order_payload(shop, (first, 1)))[0] == 201
    # then they ran the prepared statements again (token, read, INSERT, stock UPDATE), preparing none
    again = _prepared_statements()
    assert set(again) == set(prepared)
    assert sum(map(sum, again.values())) - sum(map(sum, prepared.values())) == 3 * 4
    # and an order of another shape (two lines and a coupon) runs an INSERT of its own shape, prepared on this connection
    status, body = buyer_api.post("/orders", order_payload(shop, (first, 1), (second, 2), coupon_codes=[coupon.code]))
    assert status == 201, body
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%%INSERT%%'")
        inserts = [row[0] for row in cursor.fetchall()]
    # the parent's id selected, and one row each of the event, the two lines and the redemption pointing at it
    assert any(text.count("(SELECT id FROM p)") == 1 + 1 + 2 + 1 for text in inserts), inserts
    order = Order.objects.get(order_no=body["order_no"])
    assert [(ln.sku_id, ln.quantity) for ln in order.lines.order_by("pk")] == [(first.pk, 1), (second.pk, 2)]
    assert order.coupon_discount == Decimal("5.00") and order.coupon_redemptions.count() == 1
    assert StockLevel.objects.get(sku=first, warehouse__priority=0).locked == 5


@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_afresh_prepares_the_statements_again(buyer_api, buyer):
    from django.db import connection

    shop = make_shop()
    sku = make_sku(shop, stock=10)
    assert buyer_api.post("/orders", order_payload(shop, (sku, 1)))[0] == 201
    # when the connection is closed (CONN_MAX_AGE ran out, or the server went away) and another opened
    connection.close()
    assert buyer_api.post("/orders", order_payload(shop, (sku, 1)))[0] == 201
    # then the new session prepared its own statements, and both orders took their unit
    assert _prepared_statements()
    assert StockLevel.objects.get(sku=sku).locked == 2


@pytest.mark.django_db(transaction=True)
def test_without_prepared_statements_a_submission_runs_the_same_statements_as_they_are(buyer_api, settings):
    from django.db import connection

    shop = make_shop()
    sku = make_sku(shop, stock=100)
    settings.DATABASE_PREPARED_STATEMENTS = False
    connection.close()  # a new connection: nothing prepared on it
    status, created = buyer_api.post("/orders", order_payload(shop, (sku, 2)))
    assert status == 201, created
    assert buyer_api.post("/orders", order_payload(shop, (sku, 999)))[0] == 409
    assert _prepared_statements() == {}
    assert StockLevel.objects.get(sku=sku, warehouse__priority=0).locked == 2


def test_the_generic_plan_of_the_submission_read_finds_the_skus_by_key_in_a_large_shop(shop, buyer):
    from django.db import connection

    from orders.sql import _submission_load_sql

    # given a shop that grew to many SKUs since its statistics were taken (a few shops of a few SKUs each)
    for _ in range(20):
        make_sku(make_shop())
    sku = make_sku(shop)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_sku")
    product = Product.objects.create(shop=shop, name="大货", freight=Decimal("0.00"))
    Sku.objects.bulk_create(
        [Sku(product=product, shop=shop, code=f"BULK-{n}", spec=str(n), price=Decimal("1.00")) for n in range(2000)]
    )
    with connection.cursor() as cursor:
        # when PostgreSQL plans the prepared read once for any parameters (as it does after five executions)
        numbered, keys = rawsql._numbered(_submission_load_sql())
        cursor.execute(f"PREPARE load_plan_check AS {numbered}")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        params = {"shop": shop.pk, "ids": [sku.pk], "now": timezone.now(), "buyer": buyer.pk, "usual": 3}
        cursor.execute(f"EXPLAIN EXECUTE load_plan_check({', '.join(['%s'] * len(keys))})", [params[k] for k in keys])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE load_plan_check")
    # then the SKUs asked for are looked up on their own (by key once the table is larger than a few pages), never by
    # walking the shop's SKUs through its index, which statistics taken when the shop was small would favour
    sku_scans = [line for line in plan.splitlines() if " on orders_sku " in line]
    assert len(sku_scans) == 1 and "orders_sku_shop_id" not in plan, plan


def test_the_submission_answer_sent_without_validation_is_what_validating_it_gives(shop, buyer_api):
    import json

    from orders.api import BUYER_ORDER_VIEW
    from orders.models import FullReduction
    from orders.schemas import order_out
    from orders.selectors import order_get_for_buyer
    from shop_admin.kernel.api import schema_built

    # given an order with every amount in use: two lines, a coupon, a 满减 rule, freight
    now = timezone.now()
    FullReduction.objects.create(shop=shop, threshold=Decimal("10.00"), discount=Decimal("3.00"), valid_from=now, valid_to=now + timezone.timedelta(days=1))
    first, second = make_sku(shop, price="12.34", freight="6.00"), make_sku(shop, price="0.99")
    coupon = make_coupon(shop, discount="2.50")
    status, created = buyer_api.post("/orders", order_payload(shop, (first, 2), (second, 1), coupon_codes=[coupon.code], buyer_message="周末送"))
    assert status == 201, created
    # then the answer sent is what ninja's validation of the same data gives, nested parts included
    order = order_get_for_buyer(buyer=Buyer.objects.get(pk=Order.objects.get(order_no=created["order_no"]).buyer_id), order_no=created["order_no"])
    data = order_out(order)
    validated = BUYER_ORDER_VIEW.model_validate(data, context={"response_status": 201}).model_dump()
    built = schema_built(BUYER_ORDER_VIEW, data).model_dump()
    assert built == validated
    assert json.loads(json.dumps(validated, default=str)) == created
    assert created["amounts"]["coupon_discount"] == "2.50" and created["amounts"]["full_reduction"] == "3.00"
    assert [item["quantity"] for item in created["items"]] == [2, 1]


def test_a_sold_out_refusal_is_not_logged_and_a_bad_request_still_is(shop, buyer_api, caplog):
    sku = make_sku(shop, stock=0)
    with caplog.at_level("WARNING", logger="django.request"):
        assert buyer_api.post("/orders", order_payload(shop, (sku, 1)))[0] == 409
        assert buyer_api.post("/orders", {"shop_id": shop.pk})[0] in (400, 422)
    statuses = [getattr(r, "status_code", None) for r in caplog.records if r.name == "django.request"]
    assert 409 not in statuses and statuses, statuses
