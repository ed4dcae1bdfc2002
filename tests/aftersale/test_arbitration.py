"""Platform arbitration in the admin: the arbitrators group, disputes by deadline, rulings through services with a second confirmation."""
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from aftersale.models import AfterSaleCase, BuyerMark, MerchantPenalty
from orders.constants import LedgerKind
from orders.models import Buyer, LedgerEntry, OrderEvent

D = Decimal


@pytest.fixture
def arbiter(db):
    user = get_user_model().objects.create_user(username="arbiter", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="arbitrators"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dispute(order_in, open_case, merchant_api, buyer_api):
    """A refund-only claim the merchant rejected and the buyer took to the platform."""
    case = open_case(order_in("delivered"), "refund_only", description="屏幕有划痕")
    status, _body = merchant_api.post(
        f"/merchant/aftersales/{case['id']}/operate",
        {"action": "reject", "reason": "发货前已检查", "evidence": ["https://img.example.com/qc.jpg"]},
    )
    assert status == 200
    status, _body = buyer_api.post(f"/aftersales/{case['id']}/arbitration", {"reason": "收到就有划痕"})
    assert status == 201
    return AfterSaleCase.objects.get(pk=case["id"])


def rule(client, case, action, **fields):
    return client.post(
        "/admin/aftersale/aftersalecase/", {"action": action, "_selected_action": [case.pk], **fields}, follow=True
    )


def test_the_group_holds_only_what_arbitration_needs(db):
    perms = set(Group.objects.get(name="arbitrators").permissions.values_list("content_type__app_label", "codename"))
    assert ("aftersale", "arbitrate_aftersalecase") in perms
    # Reading, ruling (disputes and review reports), and resolving exceptions (an action: every field of an exception is
    # read-only); nothing else.
    ruling = ("arbitrate_aftersalecase", "decide_reviewreport", "change_orderexception")
    assert all(codename.startswith("view_") or codename in ruling for _app, codename in perms)
    assert ("shop_admin", "view_merchantapitoken") not in perms and not any(app == "auth" for app, _c in perms)


def test_the_arbitrator_sees_disputes_by_deadline_with_the_whole_case(arbiter, dispute, order_in, open_case):
    calm = open_case(order_in("delivered"), "exchange")  # not a dispute: not in the default queue
    listing = arbiter.get("/admin/aftersale/aftersalecase/").content.decode()
    assert f'/aftersalecase/{dispute.pk}/change/' in listing and f"/aftersalecase/{calm['id']}/change/" not in listing
    page = arbiter.get(f"/admin/aftersale/aftersalecase/{dispute.pk}/change/").content.decode()
    assert '<img src="https://img.example.com/qc.jpg"' in page  # the merchant's evidence, shown
    assert "屏幕有划痕" in page and "收到就有划痕" in page and dispute.order.order_no in page
    assert 'name="_save"' not in page  # nothing to edit


def test_ruling_for_the_buyer_needs_a_second_confirmation_then_refunds_compensates_and_penalises(arbiter, dispute):
    first = rule(arbiter, dispute, "rule_for_buyer")
    assert "确认裁决" in first.content.decode()
    assert AfterSaleCase.objects.get(pk=dispute.pk).status == "arbitrating"  # nothing happened yet
    unticked = rule(arbiter, dispute, "rule_for_buyer", post="yes", note="商家未能证明", compensation="10.00")
    assert AfterSaleCase.objects.get(pk=dispute.pk).status == "arbitrating"
    assert "确认裁决" in unticked.content.decode()

    done = rule(arbiter, dispute, "rule_for_buyer", post="yes", note="商家未能证明", compensation="10.00", points="3", confirm="on")
    assert "已裁决 1 个售后单" in done.content.decode()
    case = AfterSaleCase.objects.select_related("refund").get(pk=dispute.pk)
    assert case.status == "refunded" and case.ruling == "for_buyer"
    assert case.refund.amount == D("139.80") and case.refund.status == "succeeded"
    penalty = MerchantPenalty.objects.get(case=case)
    assert (penalty.compensation, penalty.points, penalty.ruled_by.username) == (D("10.00"), 3, "arbiter")
    assert LedgerEntry.objects.get(order=case.order, kind=LedgerKind.DEPOSIT_COMPENSATION).amount == D("10.00")
    ruled = OrderEvent.objects.get(kind="aftersale_ruled", data__aftersale_id=case.pk)
    assert ruled.actor_kind == "platform" and ruled.data["penalty_points"] == 3


def test_ruling_for_the_merchant_marks_the_buyer(arbiter, dispute, merchant_api):
    rule(arbiter, dispute, "rule_for_merchant", post="yes", note="买家图片与商品不符", confirm="on")
    case = AfterSaleCase.objects.get(pk=dispute.pk)
    assert case.status == "closed" and case.ruling == "for_merchant" and case.refund is None
    assert Buyer.objects.get(pk=case.buyer_id).is_flagged
    assert "买家图片与商品不符" in BuyerMark.objects.get(case=case).reason
    # the merchant sees the ruling
    status, seen = merchant_api.get(f"/merchant/aftersales/{case.pk}")
    assert seen["ruling"] == "for_merchant" and seen["status"] == "closed"


def test_staff_without_the_group_cannot_rule_and_merchants_cannot_reach_the_admin(dispute, owner):
    staff = get_user_model().objects.create_user(username="ops", password="pw-123456", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/aftersale/aftersalecase/").status_code == 403
    rule(client, dispute, "rule_for_buyer", post="yes", note="x", confirm="on")
    assert AfterSaleCase.objects.get(pk=dispute.pk).status == "arbitrating"
    merchant = Client()
    merchant.force_login(owner)
    assert merchant.get("/admin/aftersale/aftersalecase/").status_code == 302  # to the admin login


def test_the_arbitrator_cannot_edit_shops_or_orders(arbiter, dispute):
    shop_id = dispute.order.shop_id
    assert arbiter.get(f"/admin/shop_admin/shop/{shop_id}/change/").status_code == 200  # may read the shop
    assert arbiter.post(f"/admin/shop_admin/shop/{shop_id}/change/", {"name": "x"}).status_code == 403
    assert arbiter.get(f"/admin/orders/order/{dispute.order_id}/change/").status_code == 200  # may read the order
    response = arbiter.post(f"/admin/orders/order/{dispute.order_id}/change/", {"status": "closed"})
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_arbitrators_group_outlives_a_flush_with_its_permissions():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)  # what a transactional test leaves behind
    group = Group.objects.get(name="arbitrators")
    perms = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("aftersale", "arbitrate_aftersalecase") in perms and ("orders", "view_order") in perms
