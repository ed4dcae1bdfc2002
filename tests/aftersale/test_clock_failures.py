"""The after-sale clock's refusals go through the one deadline mechanism: a claim it cannot approve becomes a to-do."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone, translation

from aftersale.models import AfterSaleCase, AfterSaleLine
from aftersale.services import aftersale_reject
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.models import DeadlineFailure
from shop_admin.kernel.todos import todo_feed
from tests.factories import make_member, make_shop, make_sku


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def bell(user, shop_id) -> list:
    feed = todo_feed(user_id=user.pk, shop_id=shop_id, now=timezone.now())
    return [entry.item for entry in feed.entries if entry.item.key.startswith("deadline_failed:")]


def unrefundable_claim(order_in, open_case) -> AfterSaleCase:
    """A refund-only claim whose line claims more units than were bought (a case carried over from an old ERP): the refund
    service refuses it, so the clock cannot approve it."""
    order = order_in("delivered")
    case = AfterSaleCase.objects.get(pk=open_case(order, "refund_only")["id"])
    AfterSaleLine.objects.filter(case=case).update(quantity=99)
    return case


def test_a_claim_the_clock_cannot_approve_becomes_a_todo_of_its_shop_after_3_sweeps_and_goes_once_answered(
    order_in, open_case, shop, owner, settings
):
    assert settings.DEADLINE_FAILURES_VISIBLE_AFTER == 3
    case = unrefundable_claim(order_in, open_case)
    stranger_shop = make_shop("隔壁店")
    make_sku(stranger_shop)
    stranger = make_member(stranger_shop, username="stranger")
    after_deadline = case.reply_deadline + timedelta(minutes=1)

    for _ in range(2):
        assert "aftersale_reply_timeout: 0, skipped 1" in sweep(after_deadline)
    assert DeadlineFailure.objects.get(kind="aftersale_reply_timeout", row_id=case.pk).attempts == 2
    assert bell(owner, shop.pk) == []  # two tries: not yet a person's business

    sweep(after_deadline)

    [item] = bell(owner, shop.pk)
    assert item.url == f"/aftersales/{case.pk}/"
    assert "售后超时未处理自动同意" in item.detail and "已失败3次" in item.detail
    with translation.override("en"):
        [english] = bell(owner, shop.pk)
    assert "Approve unanswered after-sale cases" in english.detail and "退款商品有误" in item.detail
    assert "Invalid refund items" in english.detail and "failed 3 times" in english.detail
    assert bell(stranger, stranger_shop.pk) == []

    # when the merchant answers the claim, it is no longer due: the next sweep forgets the failure
    aftersale_reject(
        case=AfterSaleCase.objects.get(pk=case.pk), actor=Actor.for_user(owner), reason="已全额退款",
        evidence=["https://img.example.com/r.jpg"],
    )
    sweep(after_deadline)
    assert not DeadlineFailure.objects.exists()
    assert bell(owner, shop.pk) == []
