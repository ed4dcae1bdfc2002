"""The reply-timeout sweep in batches gives exactly what the per-case path gives, applies once, and yields to a merchant's answer."""
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersale.models import AfterSaleCase, BuyerMark
from aftersale.services.clock import _reply_timeout, aftersale_reply_timeout, aftersale_return_timeout
from aftersale.services.clock_batch import DUE_STATUSES, aftersale_due_batch
from aftersale.services.review import aftersale_reject
from orders.models import Buyer, LedgerEntry, Order, OrderEvent, OrderLine, Refund, RefundLine, StockLevel
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import callback_body, make_buyer, order_payload, signed_headers


@pytest.fixture
def claim(shop, tea, cup, api, merchant_api, open_case, settings):
    """An order of a buyer of its own (2 tea + 1 cup) brought to `state`, with a case of `case_type` opened by that buyer."""
    from orders.services.lifecycle import order_mark_delivered

    made = []

    def make(state: str, case_type: str = "refund_only", *, buyer=None, channel: str = "douyin_pay", **body):
        buyer = buyer or make_buyer(f"claimant-{len(made)}")
        client = ApiClient(buyer.api_token)
        status, placed = client.post("/orders", order_payload(shop, (tea, 2), (cup, 1)))
        assert status == 201, placed
        status, payment = client.post(f"/orders/{placed['order_no']}/payments", {"channel": channel})
        assert status == 201, payment
        raw = callback_body(payment, txn=f"TXN-{payment['payment_id']}")
        status, result = api.post("/callbacks/payment", raw=raw, headers=signed_headers(raw, settings.PAYMENT_CALLBACK_SECRET))
        assert status == 200, result
        order = Order.objects.get(order_no=placed["order_no"])
        if state in ("shipped", "delivered"):
            status, shipped = merchant_api.post(f"/merchant/orders/{order.order_no}/ship", {"carrier": "ZTO", "tracking_no": f"7310000{order.pk:07d}"})
            assert status == 200, shipped
        if state == "delivered":
            order_mark_delivered(order=Order.objects.get(pk=order.pk), actor=Actor.channel("ZTO"))
        payload = {"type": case_type, "reason": "质量问题", "evidence": ["https://img.example.com/a.jpg"], **body}
        status, case = client.post(f"/orders/{order.order_no}/aftersales", payload)
        assert status == 201, case
        made.append(case["id"])
        return AfterSaleCase.objects.get(pk=case["id"])

    return make


@pytest.fixture
def mixed_cases(claim, tea, cup, settings):
    """Every shape the reply timeout meets: the set-wise ones and those the per-case path keeps."""
    settings.BUYER_DAILY_REFUND_LIMIT = 1
    twice = make_buyer("twice")
    return [
        claim("paid"),  # whole order back: closed, stock released
        claim("delivered"),  # auto-confirm paused by the case: resumed when it ends
        claim("paid", items=[{"sku_id": cup.pk, "quantity": 1}], amount="20.00"),  # one line: the order stays paid
        claim("paid", items=[{"sku_id": tea.pk, "quantity": 1}], amount="10.00"),  # less than the unit: partial, stock kept
        claim("shipped"),  # the parcel is intercepted first: approved, the refund waits
        claim("delivered", "return_refund"),  # a return is awaited
        claim("paid", channel="wechat"),  # the channel answers by callback: pending
        claim("paid", buyer=twice),  # two claims of one buyer over the daily limit: the second refund flags them
        claim("paid", buyer=twice),
    ]


def _data(data: dict, refunds: dict[int, str]) -> dict:
    data = dict(data)
    if data.get("refund_id") in refunds:
        data["refund_id"] = refunds[data["refund_id"]]
    if data.get("auto_confirm_at"):
        data["auto_confirm_at"] = data["auto_confirm_at"][:15]  # to the ten minutes: each path reads its own clock
    return data


def snapshot(case_ids: list[int], now) -> dict:
    """Everything a person could see of these cases and their orders, with ids of new rows replaced by what they are."""
    cases = AfterSaleCase.objects.filter(pk__in=case_ids).order_by("pk")
    order_ids = sorted({c.order_id for c in cases})
    refunds = {r.pk: r.source for r in Refund.objects.filter(order_id__in=order_ids)}
    return {
        "cases": [
            (c.status, refunds.get(c.refund_id), c.closed_at == now, c.due_at is None, c.return_address, c.return_deadline,
             c.intercepted_at is not None, c.arbitration_reason)
            for c in cases
        ],
        "refunds": sorted(
            (r.source, r.amount, r.status, r.channel, r.reason, r.actor_label, r.after_settlement, r.payment_id)
            for r in Refund.objects.filter(order_id__in=order_ids)
        ),
        "refund_lines": sorted(
            (rl.refund.source, rl.line_id, rl.quantity, rl.amount) for rl in RefundLine.objects.filter(refund__order_id__in=order_ids)
        ),
        "ledger": sorted(
            (e.order_id, e.kind, e.amount, refunds.get(e.refund_id)) for e in LedgerEntry.objects.filter(order_id__in=order_ids)
        ),
        "orders": [
            (o.pk, o.status, o.auto_confirm_paused_at is None, o.auto_confirm_at and o.auto_confirm_at.isoformat()[:15],
             o.auto_confirm_remaining)
            for o in Order.objects.filter(pk__in=order_ids).order_by("pk")
        ],
        "events": [
            (e.order_id, e.kind, e.actor_kind, e.actor_label, e.from_status, e.to_status, e.reason, _data(e.data, refunds))
            for e in OrderEvent.objects.filter(order_id__in=order_ids).order_by("order_id", "pk")
        ],
        "stock": list(StockLevel.objects.order_by("pk").values_list("pk", "available", "occupied", "locked")),
        "lines": list(OrderLine.objects.filter(order_id__in=order_ids).order_by("pk").values_list("pk", "stock_state")),
        "buyers": list(Buyer.objects.order_by("pk").values_list("pk", "is_flagged")),
        "marks": BuyerMark.objects.count(),
    }


class _Undo(Exception):
    pass


def outcome(run, case_ids, now) -> tuple[dict, int]:
    """What `run` leaves behind, then undone, so the other path starts from the same rows."""
    result = {}
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                run()
            result = snapshot(case_ids, now)
            raise _Undo
    except _Undo:
        pass
    return result, len(queries.captured_queries)


def per_case(now):
    """Every due case through the services a clerk uses, one savepoint each: what the set-wise shape must equal."""

    def run():
        while aftersale_due_batch(
            statuses=DUE_STATUSES, deadline="reply_deadline", now=now, ids=None, apply_one=_reply_timeout, kind="aftersale_reply_timeout"
        ):
            pass

    return run


def wake_ups(now):
    """One RQ wake-up per due case, as the scheduled jobs run them."""

    def run():
        due = AfterSaleCase.objects.filter(status__in=["requested", "negotiating"], reply_deadline__lte=now).order_by("reply_deadline", "pk")
        for pk in list(due.values_list("pk", flat=True)):
            aftersale_reply_timeout(now=now, ids=[pk])

    return run


def sweep(now):
    def run():
        while aftersale_reply_timeout(now=now):
            pass

    return run


def test_the_batch_and_the_per_case_path_leave_the_same_rows(mixed_cases):
    now = timezone.now() + timedelta(days=2)
    ids = [c.pk for c in mixed_cases]
    before = snapshot(ids, now)
    one_by_one, per_case_statements = outcome(per_case(now), ids, now)
    assert snapshot(ids, now) == before  # undone
    batched, batch_statements = outcome(sweep(now), ids, now)
    assert batched == one_by_one
    statuses = [c[0] for c in batched["cases"]]
    assert statuses == ["refunded"] * 4 + ["approved", "awaiting_return"] + ["refunded"] * 3
    assert dict(batched["buyers"])[mixed_cases[-1].buyer_id] is True and batched["marks"] == 1  # the second refund of `twice` flagged them
    assert batch_statements < per_case_statements, (batch_statements, per_case_statements)


def test_with_the_set_wise_shape_only_the_batch_matches_too_and_runs_a_fixed_number_of_statements(claim):
    cases = [claim("paid") for _ in range(4)] + [claim("delivered") for _ in range(2)]
    now = timezone.now() + timedelta(days=2)
    ids = [c.pk for c in cases]
    one_by_one, per_case_statements = outcome(per_case(now), ids, now)
    batched, batch_statements = outcome(sweep(now), ids, now)
    woken, wake_up_statements = outcome(wake_ups(now), ids, now)
    assert batched == one_by_one == woken
    assert [c[0] for c in batched["cases"]] == ["refunded"] * 6
    assert per_case_statements > 6 * 30 and batch_statements < 40, (per_case_statements, batch_statements)
    # A wake-up is a batch of one through the same set-wise path, not the per-case services.
    assert wake_up_statements < 6 * 30, wake_up_statements


def test_a_second_sweep_changes_nothing(mixed_cases):
    now = timezone.now() + timedelta(days=2)
    ids = [c.pk for c in mixed_cases]
    sweep(now)()
    after = snapshot(ids, now)
    assert aftersale_reply_timeout(now=now) == 0
    assert snapshot(ids, now) == after
    assert Refund.objects.filter(source__in=[f"aftersale:{pk}" for pk in ids]).count() == 7  # the wechat one pending; none yet for the intercepted parcel


def test_escrow_in_equals_refunds_out_after_the_sweep(claim):
    cases = [claim("paid") for _ in range(3)]
    sweep(timezone.now() + timedelta(days=2))()
    for case in cases:
        rows = dict(LedgerEntry.objects.filter(order_id=case.order_id).values_list("kind", "amount"))
        assert rows["escrow_in"] == rows["refund_out"]


@pytest.mark.django_db(transaction=True)
def test_a_merchant_answering_while_the_sweep_runs_keeps_the_case(claim, owner):
    case = claim("paid")
    now = timezone.now() + timedelta(days=2)
    holding, release, answered = threading.Event(), threading.Event(), []

    def merchant():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=case.order_id)  # the clerk's answer holds the order
                holding.set()
                release.wait(30)
                answered.append(aftersale_reject(case=case, actor=Actor.for_user(owner), reason="无质量问题", evidence=["https://img.example.com/qc.jpg"]))
        finally:
            connection.close()

    thread = threading.Thread(target=merchant)
    thread.start()
    assert holding.wait(30)
    assert aftersale_reply_timeout(now=now) == 0  # skipped, not waited for
    release.set()
    thread.join(30)
    assert answered and AfterSaleCase.objects.get(pk=case.pk).status == "rejected"
    assert aftersale_reply_timeout(now=now) == 0  # no longer due
    assert not Refund.objects.filter(order_id=case.order_id).exists()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_and_a_merchant_at_the_same_moment_one_wins(claim, owner):
    cases = [claim("paid") for _ in range(3)]
    now = timezone.now() + timedelta(days=2)

    def act(index):
        if index == 0:
            return sweep(now)()
        results = []
        for case in cases:
            try:
                aftersale_reject(case=case, actor=Actor.for_user(owner), reason="无质量问题", evidence=["https://img.example.com/qc.jpg"])
                results.append("rejected")
            except Conflict:
                results.append("refused")
        return results

    merchant = next(r for r in run_concurrently(2, act) if r is not None)
    for case, said in zip(cases, merchant, strict=True):
        final = AfterSaleCase.objects.get(pk=case.pk)
        refunds = Refund.objects.filter(order_id=case.order_id).count()
        assert (said, final.status, refunds) in (("rejected", "rejected", 0), ("refused", "refunded", 1)), (said, final.status)


@pytest.fixture
def unreturned(claim, merchant_api, tea, cup):
    """Agreed returns the buyer never ships: alone on their order (delivered, shipped) and two on one order (tea and cup)."""

    def agree(case):
        status, body = merchant_api.post(f"/merchant/aftersales/{case.pk}/operate", {"action": "agree"})
        assert status == 200, body
        return case

    delivered = agree(claim("delivered", "return_refund"))
    shipped = agree(claim("shipped", "return_refund"))
    both = agree(claim("delivered", "return_refund", items=[{"sku_id": tea.pk, "quantity": 2}]))
    other_line = AfterSaleCase.objects.get(pk=both.pk)
    status, body = ApiClient(Buyer.objects.get(pk=both.buyer_id).api_token).post(
        f"/orders/{other_line.order.order_no}/aftersales",
        {"type": "return_refund", "reason": "质量问题", "items": [{"sku_id": cup.pk, "quantity": 1}]},
    )
    assert status == 201, body
    second = agree(AfterSaleCase.objects.get(pk=body["id"]))
    return [delivered, shipped, both, second]


def test_the_return_timeout_batch_and_the_per_case_path_leave_the_same_rows(unreturned):
    now = timezone.now() + timedelta(days=8)
    ids = [c.pk for c in unreturned]

    def one_by_one():
        due = AfterSaleCase.objects.filter(status="awaiting_return", return_deadline__lte=now).order_by("return_deadline", "pk")
        for pk in list(due.values_list("pk", flat=True)):
            aftersale_return_timeout(now=now, ids=[pk])

    def batched():
        while aftersale_return_timeout(now=now):
            pass

    per_case_rows, _n = outcome(one_by_one, ids, now)
    batch_rows, _n = outcome(batched, ids, now)
    assert batch_rows == per_case_rows
    assert [c[0] for c in batch_rows["cases"]] == ["closed"] * 4
    resumed = [e for e in batch_rows["events"] if e[1] == "auto_confirm_resumed"]
    assert len(resumed) == 3 and sum(1 for e in resumed if e[7]["auto_confirm_at"]) == 2  # the shipped order has no clock yet
