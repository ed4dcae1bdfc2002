"""One open after-sale case per order line, held by the database: concurrent claims, a reopened case, a sweep ending cases."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from aftersale.constants import OPEN_STATUSES
from aftersale.models import AfterSaleCase, AfterSaleLine
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient


def _claim(tea):
    return {"type": "exchange", "reason": "质量问题", "items": [{"sku_id": tea.pk, "quantity": 1}]}


@pytest.mark.django_db(transaction=True)
def test_two_claims_on_one_line_at_once_give_one_case_and_one_409_naming_the_line(order_in, buyer, tea):
    order = order_in("delivered")
    clients = [ApiClient(buyer.api_token) for _ in range(2)]

    results = run_concurrently(2, lambda i: clients[i].post(f"/orders/{order.order_no}/aftersales", _claim(tea)))

    assert sorted(status for status, _body in results) == [201, 409], results
    error = next(body for status, body in results if status == 409)["error"]
    assert error["code"] == "aftersale_already_open" and "蜂蜜柚子茶" in error["message"]
    assert error["details"]["lines"][0]["sku_id"] == tea.pk
    assert AfterSaleCase.objects.count() == 1
    assert AfterSaleLine.objects.filter(line__order=order, line__sku=tea).count() == 1


def test_the_database_refuses_a_second_open_case_on_a_line(order_in, open_case, tea):
    order = order_in("delivered")
    first = AfterSaleCase.objects.get(pk=open_case(order, "exchange", items=[{"sku_id": tea.pk, "quantity": 1}])["id"])
    line = first.lines.get().line
    second = AfterSaleCase.objects.create(
        order=order, shop_id=order.shop_id, buyer_id=order.buyer_id, type="exchange", reason="x",
        reply_deadline=first.reply_deadline,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        AfterSaleLine.objects.create(case=second, line=line, quantity=1)


def test_a_rejected_case_asked_for_arbitration_while_a_newer_case_holds_its_line_is_a_409(order_in, open_case, tea, merchant_api, buyer_api):
    # given a case rejected by the merchant, and a new case the buyer opened on the same line since
    order = order_in("delivered")
    rejected = open_case(order, "exchange", items=[{"sku_id": tea.pk, "quantity": 1}])
    status, body = merchant_api.post(
        f"/merchant/aftersales/{rejected['id']}/operate",
        {"action": "reject", "reason": "无质量问题", "evidence": ["https://img.example.com/qc.jpg"]},
    )
    assert status == 200, body
    newer = open_case(order, "repair", items=[{"sku_id": tea.pk, "quantity": 1}])

    # when the buyer asks the platform to arbitrate the rejected one
    status, error = buyer_api.post(f"/aftersales/{rejected['id']}/arbitration", {"reason": "商家拒绝不合理"})

    # then it is refused, naming the line and the case that holds it; the line still has one open case
    assert status == 409, error
    assert error["error"]["code"] == "aftersale_already_open" and error["error"]["details"]["aftersale_id"] == newer["id"]
    assert AfterSaleCase.objects.get(pk=rejected["id"]).status == "rejected"
    holders = AfterSaleLine.objects.filter(line__order=order, line__sku=tea, case__status__in=OPEN_STATUSES)
    assert list(holders.values_list("case_id", flat=True)) == [newer["id"]]


def test_a_case_the_sweep_ends_set_wise_frees_its_line(order_in, open_case, tea, buyer_api):
    order = order_in("delivered")
    case = open_case(order, "refund_only", items=[{"sku_id": tea.pk, "quantity": 1}])
    deadline = AfterSaleCase.objects.get(pk=case["id"]).reply_deadline
    out = StringIO()
    call_command("sweep_deadlines", "--at", (deadline + timedelta(minutes=1)).isoformat(), stdout=out)
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "refunded", out.getvalue()

    status, body = buyer_api.post(f"/orders/{order.order_no}/aftersales", _claim(tea))

    assert status == 201, body
