"""Stock sync as an ERP expects: every warehouse visible, no silent "first warehouse", a repeat changes nothing."""
import pytest

from orders.models import StockAdjustment, StockLevel
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_member, make_shop, make_sku


@pytest.fixture
def two_warehouse_shop(db):
    return make_shop("双仓店", warehouses=(("杭州仓", "浙江省"), ("广州仓", "广东省")))


@pytest.fixture
def stocked_twice(two_warehouse_shop):
    sku = make_sku(two_warehouse_shop, stock=200, code="TWO-WH")
    StockLevel.objects.filter(sku=sku, warehouse__name="广州仓").update(available=20)
    return sku


@pytest.fixture
def erp(two_warehouse_shop):
    return ApiClient(make_member(two_warehouse_shop).api_token.key)


def warehouse_ids(sku):
    return {lv.warehouse.name: lv.warehouse_id for lv in StockLevel.objects.filter(sku=sku).select_related("warehouse")}


def test_get_lists_every_warehouse_and_the_totals(erp, stocked_twice):
    status, body = erp.get(f"/merchant/skus/{stocked_twice.pk}/stock")
    assert status == 200
    assert [(w["warehouse_name"], w["available"], w["on_hand"]) for w in body["warehouses"]] == [("杭州仓", 200, 200), ("广州仓", 20, 20)]
    assert body["totals"] == {"available": 220, "locked": 0, "occupied": 0, "on_hand": 220}


def test_a_put_without_warehouse_on_a_sku_in_two_is_refused_naming_them(erp, stocked_twice):
    # when an ERP sets 5 without saying where
    status, body = erp.put(f"/merchant/skus/{stocked_twice.pk}/stock", {"available": 5})
    # then nothing changes and the answer lists the warehouses to choose from
    assert status == 422 and body["error"]["code"] == "warehouse_required"
    assert [w["warehouse_name"] for w in body["error"]["details"]["warehouses"]] == ["杭州仓", "广州仓"]
    assert "warehouse_id" in body["error"]["details"]["fields"]
    assert sorted(StockLevel.objects.filter(sku=stocked_twice).values_list("available", flat=True)) == [20, 200]


def test_a_put_with_warehouse_sets_that_one_and_buyers_see_the_sum(erp, stocked_twice, two_warehouse_shop):
    ids = warehouse_ids(stocked_twice)
    status, body = erp.put(f"/merchant/skus/{stocked_twice.pk}/stock", {"available": 5, "warehouse_id": ids["杭州仓"]})
    assert status == 200 and (body["warehouse_name"], body["available"], body["on_hand"]) == ("杭州仓", 5, 5)
    _s, products = ApiClient(make_buyer().api_token).get(f"/shops/{two_warehouse_shop.pk}/products")
    assert products[0]["skus"][0]["stock_available"] == 25


def test_a_repeated_request_id_changes_nothing(erp, stocked_twice, two_warehouse_shop):
    ids = warehouse_ids(stocked_twice)
    sync = {"available": 50, "warehouse_id": ids["广州仓"], "request_id": "erp-sync-0001"}
    assert erp.put(f"/merchant/skus/{stocked_twice.pk}/stock", sync)[0] == 200
    # the shop sells from 广州仓 meanwhile (the level moves on), then the ERP retries the same sync
    StockLevel.objects.filter(sku=stocked_twice, warehouse_id=ids["广州仓"]).update(available=45, locked=5)
    status, body = erp.put(f"/merchant/skus/{stocked_twice.pk}/stock", sync)
    assert status == 200 and (body["available"], body["locked"]) == (45, 5)
    assert StockAdjustment.objects.filter(request_id="erp-sync-0001").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_of_one_request_apply_once():
    shop = make_shop("并发双仓店", warehouses=(("杭州仓", "浙江省"), ("广州仓", "广东省")))
    sku = make_sku(shop, stock=10)
    token = make_member(shop).api_token.key
    warehouse_id = warehouse_ids(sku)["杭州仓"]
    results = run_concurrently(
        8, lambda i: ApiClient(token).put(f"/merchant/skus/{sku.pk}/stock", {"available": 30, "warehouse_id": warehouse_id, "request_id": "twin"})
    )
    assert [status for status, _ in results] == [200] * 8
    assert StockAdjustment.objects.filter(stock_level__sku=sku).count() == 1
    assert StockLevel.objects.get(sku=sku, warehouse_id=warehouse_id).available == 30


def test_another_shops_merchant_cannot_read_the_stock(stocked_twice):
    stranger = ApiClient(make_member(make_shop("别家店")).api_token.key)
    status, body = stranger.get(f"/merchant/skus/{stocked_twice.pk}/stock")
    assert status == 404 and body["error"]["code"] == "sku_not_found"
