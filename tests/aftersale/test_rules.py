"""After-sale rules (自动审核): written and audited through the API, dry-run over real cases writing nothing, and a new
matching case approved by the RQ wake-up or, when that was lost, by the sweep; never a flagged buyer's, never past the cap."""
import os
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from aftersale.models import AfterSaleCase, AfterSaleRule, AfterSaleRuleEvent, RuleDecision
from orders.models import Buyer, OrderEvent, Refund
from shop_admin.kernel.constants import Role
from tests.conftest import ApiClient
from tests.factories import make_member
from tests.orders.test_deadlines import ROOT, worker_database_url

D = Decimal


def rule_body(shop, **fields) -> dict:
    return {
        "shop_id": shop.pk, "name": "小额仅退款秒退", "enabled": True, "types": ["refund_only", "return_refund"],
        "order_states": ["received"], "max_amount": "50.00", "reasons": [], "action": "agree", **fields,
    }


def sweep() -> str:
    out = StringIO()
    call_command("sweep_deadlines", stdout=out)
    return out.getvalue()


def case_of(case) -> AfterSaleCase:
    return AfterSaleCase.objects.select_related("refund").get(pk=case["id"])


@pytest.fixture
def rule_of(merchant_api, shop):
    def make(**fields) -> dict:
        status, rule = merchant_api.post("/merchant/aftersale-rules", rule_body(shop, **fields))
        assert status == 201, rule
        return rule

    return make


# --- the rules through the API, audited ---


def test_an_owner_creates_changes_and_deletes_a_rule_and_each_change_is_audited(merchant_api, shop, rule_of, owner):
    rule = rule_of(enabled=False)
    assert rule["enabled"] is False and rule["max_amount"] == "50.00" and rule["exclude_flagged_buyers"] is True
    status, listed = merchant_api.get("/merchant/aftersale-rules")
    assert status == 200 and [r["id"] for r in listed["rules"]] == [rule["id"]]

    body = rule_body(shop, max_amount="30.00", enabled=True)
    del body["shop_id"]
    status, changed = merchant_api.put(f"/merchant/aftersale-rules/{rule['id']}", body)
    assert status == 200 and changed["max_amount"] == "30.00" and changed["enabled"] is True and changed["enabled_at"]

    status, _ = merchant_api.call("DELETE", f"/merchant/aftersale-rules/{rule['id']}")
    assert status == 204
    assert merchant_api.get("/merchant/aftersale-rules")[1]["rules"] == []
    assert merchant_api.put(f"/merchant/aftersale-rules/{rule['id']}", body)[0] == 404

    events = list(AfterSaleRuleEvent.objects.filter(rule_id=rule["id"]).order_by("pk"))
    assert [e.kind for e in events] == ["created", "changed", "deleted"]
    assert all(e.actor_user_id == owner.pk for e in events)
    assert events[0].data["max_amount"] == "50.00"
    assert events[1].data["changes"] == {"enabled": [False, True], "max_amount": ["50.00", "30.00"]}
    with pytest.raises(ValueError):
        events[0].delete()  # the audit is append-only


def test_a_wrong_rule_is_refused_naming_each_field(merchant_api, shop, settings):
    settings.AFTERSALE_RULE_AMOUNT_MAX = D("70.00")
    status, answer = merchant_api.post(
        "/merchant/aftersale-rules", rule_body(shop, types=["exchange"], order_states=["lost"], max_amount="abc", action="ignore")
    )
    assert status == 422
    assert set(answer["error"]["details"]["fields"]) == {"types.0", "order_states.0", "max_amount", "action"}
    status, answer = merchant_api.post("/merchant/aftersale-rules", rule_body(shop, name=" ", max_amount="70.01"))
    assert status == 422 and set(answer["error"]["details"]["fields"]) == {"name", "max_amount"}
    assert "70.00" in answer["error"]["details"]["fields"]["max_amount"]  # the platform's cap, named
    status, answer = merchant_api.post("/merchant/aftersale-rules/dry-run", {**rule_body(shop), "days": 91})
    assert status == 422 and "days" in str(answer["error"]["details"])
    assert not AfterSaleRule.objects.exists()


def test_another_shops_merchant_sees_and_touches_none_of_the_rules(rule_of, stranger_api, shop):
    rule = rule_of()
    body = rule_body(shop)
    assert stranger_api.get("/merchant/aftersale-rules")[1]["rules"] == []
    assert stranger_api.put(f"/merchant/aftersale-rules/{rule['id']}", body)[0] == 404
    assert stranger_api.call("DELETE", f"/merchant/aftersale-rules/{rule['id']}")[0] == 404
    assert stranger_api.post("/merchant/aftersale-rules", body)[0] == 404
    assert stranger_api.post("/merchant/aftersale-rules/dry-run", {**body, "days": 30})[0] == 404
    assert AfterSaleRule.objects.get(pk=rule["id"]).enabled is True


def test_customer_service_reads_and_dry_runs_the_rules_but_only_the_owner_writes_them(rule_of, shop):
    rule = rule_of()
    service = ApiClient(make_member(shop, role=Role.SERVICE).api_token.key)
    assert [r["id"] for r in service.get("/merchant/aftersale-rules")[1]["rules"]] == [rule["id"]]
    assert service.post("/merchant/aftersale-rules/dry-run", {**rule_body(shop), "days": 7})[0] == 200
    assert service.post("/merchant/aftersale-rules", rule_body(shop))[0] == 403
    assert service.call("DELETE", f"/merchant/aftersale-rules/{rule['id']}")[0] == 403


# --- the dry run ---


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (AfterSaleCase, AfterSaleRule, AfterSaleRuleEvent, RuleDecision, OrderEvent, Refund)
    }


def test_a_dry_run_counts_what_the_rule_would_have_approved_and_writes_nothing(merchant_api, shop, order_in, open_case, buyer):
    small_refund = open_case(order_in("delivered"), "refund_only", amount="30.00")
    small_return = open_case(order_in("completed"), "return_refund", amount="45.50")
    open_case(order_in("delivered"), "refund_only", amount="50.01")  # over the rule's amount
    open_case(order_in("paid"), "refund_only", amount="20.00")  # opened before shipping: not a state the rule takes
    open_case(order_in("delivered"), "refund_only", amount="10.00", reason="不想要了")  # a reason the rule does not list
    body = {**rule_body(shop, reasons=["质量问题"]), "days": 30}
    before = _counts()

    status, run = merchant_api.post("/merchant/aftersale-rules/dry-run", body)

    assert status == 200, run
    assert run["matched"] == 2 and run["amount_total"] == "75.50"
    assert run["by_type"] == {"refund_only": 1, "return_refund": 1}
    assert sorted(run["sample"]) == sorted([small_refund["id"], small_return["id"]])
    assert _counts() == before
    # The same rule without the reason, all three order states: the unshipped and the other reason count too.
    status, wide = merchant_api.post("/merchant/aftersale-rules/dry-run", {**body, "reasons": [], "order_states": ["not_shipped", "shipped", "received"]})
    assert wide["matched"] == 4 and wide["amount_total"] == "105.50"
    # A flagged buyer's cases are never counted, whatever the rule says.
    Buyer.objects.filter(pk=buyer.pk).update(is_flagged=True)
    status, flagged = merchant_api.post("/merchant/aftersale-rules/dry-run", {**body, "exclude_flagged_buyers": False})
    assert flagged["matched"] == 0 and flagged["amount_total"] == "0.00" and flagged["sample"] == []
    assert _counts() == before


# --- a new case approved by the rule ---


def test_the_sweep_approves_a_matching_case_whose_wake_up_was_lost_and_names_the_rule(rule_of, order_in, open_case, merchant_api, buyer_api):
    rule = rule_of()
    case = open_case(order_in("delivered"), "refund_only", amount="30.00")  # no commit in this test: the wake-up never went out
    assert case_of(case).status == "requested"

    assert "aftersale_rule_apply: 1" in sweep()

    approved = case_of(case)
    assert approved.status == "refunded" and approved.refund.amount == D("30.00")
    event = OrderEvent.objects.get(kind="aftersale_agreed", data__aftersale_id=case["id"])
    assert event.actor_kind == "system" and event.data["rule"] == {"id": rule["id"], "name": "小额仅退款秒退"}
    assert merchant_api.get(f"/merchant/aftersales/{case['id']}")[1]["approved_by_rule"] == {"id": rule["id"], "name": "小额仅退款秒退"}
    assert buyer_api.get(f"/aftersales/{case['id']}")[1]["approved_by_rule"] == {"id": rule["id"], "name": "小额仅退款秒退"}
    assert "aftersale_rule_apply: 0" in sweep()  # once
    assert Refund.objects.filter(order_id=approved.order_id).count() == 1


def test_refund_without_return_refunds_a_return_claim_and_asks_no_goods_back(rule_of, order_in, open_case):
    rule_of(types=["return_refund"], action="refund_without_return")
    case = open_case(order_in("delivered"), "return_refund", amount="45.00")
    sweep()
    done = case_of(case)
    assert done.status == "refunded" and done.refund.amount == D("45.00")
    assert done.return_address == "" and done.return_deadline is None


def test_agree_on_a_return_claim_awaits_the_goods_as_the_merchants_agree_does(rule_of, order_in, open_case):
    rule_of(types=["return_refund"], action="agree")
    case = open_case(order_in("delivered"), "return_refund", amount="45.00")
    sweep()
    done = case_of(case)
    assert done.status == "awaiting_return" and "杭州仓" in done.return_address and done.refund is None


def test_a_flagged_buyers_case_is_never_approved_by_a_rule(rule_of, order_in, open_case, buyer):
    rule_of(exclude_flagged_buyers=False)
    Buyer.objects.filter(pk=buyer.pk).update(is_flagged=True)
    case = open_case(order_in("delivered"), "refund_only", amount="5.00")
    assert "aftersale_rule_apply: 1" in sweep()  # looked at, once
    assert case_of(case).status == "requested"
    assert RuleDecision.objects.get(case_id=case["id"]).approved is False
    assert not Refund.objects.exists()


def test_a_rule_never_approves_beyond_the_platforms_cap_even_when_lowered_after_it_was_saved(rule_of, order_in, open_case, settings):
    rule_of(max_amount="50.00")
    settings.AFTERSALE_RULE_AMOUNT_MAX = D("20.00")
    over = open_case(order_in("delivered"), "refund_only", amount="20.01")
    within = open_case(order_in("delivered"), "refund_only", amount="20.00")
    sweep()
    assert case_of(over).status == "requested"
    assert case_of(within).status == "refunded"


def test_a_rule_enabled_after_a_case_was_opened_leaves_that_case_to_the_merchant(rule_of, order_in, open_case):
    case = open_case(order_in("delivered"), "refund_only", amount="30.00")
    rule_of()
    assert "aftersale_rule_apply: 0" in sweep()
    assert case_of(case).status == "requested" and not RuleDecision.objects.exists()


def test_a_disabled_rule_approves_nothing(rule_of, order_in, open_case):
    rule_of(enabled=False)
    case = open_case(order_in("delivered"), "refund_only", amount="30.00")
    sweep()
    assert case_of(case).status == "requested"


@pytest.mark.django_db(transaction=True)
def test_a_real_rq_worker_approves_a_new_matching_case_within_seconds(rule_of, order_in, open_case, settings, redis_conn):
    rule = rule_of()
    case = open_case(order_in("delivered"), "refund_only", amount="30.00")
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL}
    done = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "deadlines", "--burst", "--with-scheduler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    approved = case_of(case)
    assert approved.status == "refunded" and approved.refund.status == "succeeded"
    assert RuleDecision.objects.get(case_id=case["id"]).rule_id == rule["id"]
    assert time.monotonic() - started < 30


@pytest.mark.django_db(transaction=True)
def test_the_sweep_walks_past_a_case_whose_order_another_process_holds_and_approves_it_next_time(rule_of, order_in, open_case):
    import threading

    from django.db import connection, transaction

    from orders.models import Order

    rule_of()
    held = open_case(order_in("delivered"), "refund_only", amount="30.00")
    free = open_case(order_in("delivered"), "refund_only", amount="20.00")
    locked, release = threading.Event(), threading.Event()

    def clerk():  # a clerk's action holding the first case's order
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=case_of(held).order_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=clerk)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        assert "aftersale_rule_apply: 1" in sweep()  # the free case; the held one walked past, not waited for
        assert case_of(free).status == "refunded" and case_of(held).status == "requested"
    finally:
        release.set()
        thread.join()
    assert "aftersale_rule_apply: 1" in sweep()
    assert case_of(held).status == "refunded"
