"""Two clerks answering the same case at once: one wins, the other is told; the refund callback replayed concurrently."""
import json

import pytest
from django.conf import settings

from aftersale.models import AfterSaleCase
from orders.constants import LedgerKind
from orders.models import LedgerEntry, OrderEvent
from shop_admin.kernel.constants import Role
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import make_member, signed_headers


@pytest.mark.django_db(transaction=True)
def test_two_clerks_answer_the_same_case_at_once(order_in, open_case, shop):
    case = open_case(order_in("delivered"), "refund_only")
    tokens = [make_member(shop, role=Role.OWNER, username=f"clerk{i}").api_token.key for i in range(2)]
    bodies = [
        {"action": "agree"},
        {"action": "reject", "reason": "无质量问题", "evidence": ["https://img.example.com/qc.jpg"]},
    ]
    results = run_concurrently(
        2, lambda i: ApiClient(tokens[i]).post(f"/merchant/aftersales/{case['id']}/operate", bodies[i])
    )
    statuses = sorted(status for status, _body in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] in ("invalid_transition", "concurrent_update")
    final = AfterSaleCase.objects.get(pk=case["id"])
    answers = OrderEvent.objects.filter(data__aftersale_id=case["id"], kind__in=["aftersale_agreed", "aftersale_rejected"])
    assert answers.count() == 1
    refunds = LedgerEntry.objects.filter(kind=LedgerKind.REFUND_OUT).count()
    assert (final.status, refunds) in (("refunded", 1), ("rejected", 0))


@pytest.mark.django_db(transaction=True)
def test_a_case_refund_callback_replayed_concurrently_is_applied_once(order_in, open_case, merchant_api, buyer_api):
    case = open_case(order_in("delivered", channel="wechat"), "refund_only")
    status, agreed = merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "agree"})
    assert agreed["refund"]["status"] == "pending"
    body = json.dumps({"refund_id": agreed["refund"]["refund_id"], "channel_txn_id": "WXR-CASE", "status": "succeeded"}).encode()
    headers = signed_headers(body, settings.PAYMENT_CALLBACK_SECRET)
    results = run_concurrently(3, lambda _i: ApiClient().post("/callbacks/refund", raw=body, headers=headers))
    assert sorted(r[1]["result"] for r in results) == ["applied", "duplicate", "duplicate"]
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND_OUT).count() == 1
    status, seen = buyer_api.get(f"/aftersales/{case['id']}")
    assert seen["refund"]["status"] == "succeeded" and seen["refund"]["amount"] == "139.80"
