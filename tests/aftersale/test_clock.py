"""The clock of after-sale through the one deadline mechanism: a real RQ worker at the deadline, and the sweep with --at."""
import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersale.models import AfterSaleCase
from orders.constants import LedgerKind, OrderStatus
from orders.models import Buyer, LedgerEntry, Order, OrderEvent
from tests.orders.test_deadlines import ROOT, worker_database_url

D = Decimal


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def operate(merchant_api, case, action, **body):
    status, answer = merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": action, **body})
    assert status == 200, answer
    return answer


def case_of(case) -> AfterSaleCase:
    return AfterSaleCase.objects.select_related("refund").get(pk=case["id"])


def test_no_answer_by_the_deadline_refunds_a_refund_only_claim(order_in, open_case):
    order = order_in("delivered")
    case = open_case(order, "refund_only")
    deadline = case_of(case).reply_deadline
    assert "aftersale_reply_timeout: 0" in sweep(deadline - timedelta(minutes=1))
    assert "aftersale_reply_timeout: 1" in sweep(deadline)
    assert "aftersale_reply_timeout: 0" in sweep(deadline + timedelta(hours=1))  # once
    done = case_of(case)
    assert done.status == "refunded" and done.refund.amount == D("139.80") and done.refund.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED
    event = OrderEvent.objects.get(kind="aftersale_auto_approved", data__aftersale_id=case["id"])
    assert event.actor_kind == "system" and event.to_status == "refunded"


def test_no_answer_approves_a_return_with_the_shops_address(order_in, open_case):
    case = open_case(order_in("delivered"), "return_refund")
    sweep(case_of(case).reply_deadline)
    approved = case_of(case)
    assert approved.status == "awaiting_return" and "杭州仓" in approved.return_address
    assert approved.return_deadline == approved.due_at


def test_a_flagged_buyers_case_goes_to_the_platform_not_approved(order_in, open_case, buyer):
    Buyer.objects.filter(pk=buyer.pk).update(is_flagged=True)
    case = open_case(order_in("delivered"), "refund_only")
    sweep(case_of(case).reply_deadline)
    assert case_of(case).status == "arbitrating"
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND_OUT).exists()


def test_a_return_not_shipped_within_7_days_closes_the_case(order_in, open_case, merchant_api):
    order = order_in("delivered")
    case = open_case(order, "return_refund")
    operate(merchant_api, case, "agree")
    deadline = case_of(case).return_deadline
    assert deadline - timezone.now() > timedelta(days=6, hours=23)
    assert "aftersale_return_timeout: 0" in sweep(deadline - timedelta(minutes=1))
    assert "aftersale_return_timeout: 1" in sweep(deadline)
    closed = case_of(case)
    assert closed.status == "closed" and closed.refund is None and closed.due_at is None
    # the order's auto-confirm runs again
    assert Order.objects.get(pk=order.pk).auto_confirm_at is not None


def test_a_received_return_not_inspected_within_24_hours_is_refunded(order_in, open_case, merchant_api, buyer_api, tea):
    order = order_in("delivered", channel="alipay")
    case = open_case(order, "return_refund", items=[{"sku_id": tea.pk, "quantity": 1}])
    operate(merchant_api, case, "agree")
    buyer_api.post(f"/aftersales/{case['id']}/return-shipment", {"carrier": "ZTO", "tracking_no": "731000001234567"})
    operate(merchant_api, case, "confirm_return")
    deadline = case_of(case).inspect_deadline
    assert "aftersale_inspect_timeout: 0" in sweep(deadline - timedelta(minutes=1))
    assert "aftersale_inspect_timeout: 1" in sweep(deadline)
    done = case_of(case)
    assert done.status == "refunded" and done.refund.amount == D("59.90") and done.refund.status == "pending"  # alipay waits


def test_auto_confirm_pauses_while_a_case_is_open_and_resumes_with_the_time_left(order_in, open_case, merchant_api):
    order = order_in("delivered")
    left_before = order.auto_confirm_at - timezone.now()
    case = open_case(order, "exchange")
    paused = Order.objects.get(pk=order.pk)
    assert paused.auto_confirm_at is None and paused.auto_confirm_paused_at is not None
    # the sweep long after the old auto-confirm time leaves the order alone (the unanswered case is approved meanwhile)
    assert "order_auto_confirm: 0" in sweep(order.auto_confirm_at + timedelta(days=1))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert case_of(case).status == "awaiting_return"
    sweep(case_of(case).return_deadline)  # the buyer never ships it back: the case closes
    resumed = Order.objects.get(pk=order.pk)
    assert resumed.auto_confirm_paused_at is None
    assert resumed.auto_confirm_at - timezone.now() == pytest.approx(left_before, abs=timedelta(seconds=30))
    kinds = list(OrderEvent.objects.filter(order=order, kind__startswith="auto_confirm").values_list("kind", flat=True))
    assert kinds == ["auto_confirm_paused", "auto_confirm_resumed"]


def test_a_case_opened_before_signing_starts_the_auto_confirm_clock_only_when_it_ends(order_in, open_case, merchant_api):
    from orders.services.lifecycle import order_mark_delivered
    from shop_admin.kernel.actors import Actor

    order = order_in("shipped")
    case = open_case(order, "reship", reason="少件")
    order_mark_delivered(order=Order.objects.get(pk=order.pk), actor=Actor.channel("ZTO"))
    assert Order.objects.get(pk=order.pk).auto_confirm_at is None
    operate(merchant_api, case, "agree")
    operate(merchant_api, case, "reship", carrier="ZTO", tracking_no="731000007654321")
    resumed = Order.objects.get(pk=order.pk)
    assert resumed.auto_confirm_at - timezone.now() == pytest.approx(timedelta(days=7), abs=timedelta(seconds=30))


@pytest.mark.django_db(transaction=True)
def test_the_reply_deadline_is_applied_by_a_real_rq_worker(order_in, open_case, settings, redis_conn):
    settings.AFTERSALE_REPLY_WINDOW = timedelta(seconds=1)
    order = order_in("paid")
    case = open_case(order, "refund_only")
    time.sleep(1.5)
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL}
    done = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "deadlines", "--burst", "--with-scheduler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    refunded = case_of(case)
    assert refunded.status == "refunded" and refunded.refund.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED


def test_a_buyer_with_more_than_5_refunds_in_a_day_is_flagged_and_the_clock_no_longer_approves(order_in, open_case, merchant_api, buyer, settings):
    from aftersale.models import BuyerMark

    settings.BUYER_DAILY_REFUND_LIMIT = 2
    for _ in range(3):
        case = open_case(order_in("paid"), "refund_only")
        operate(merchant_api, case, "agree")
    assert Buyer.objects.get(pk=buyer.pk).is_flagged
    assert "一天内退款超过2次" in BuyerMark.objects.get(buyer=buyer).reason
    late = open_case(order_in("delivered"), "refund_only")
    sweep(case_of(late).reply_deadline)
    assert case_of(late).status == "arbitrating" and case_of(late).refund is None
