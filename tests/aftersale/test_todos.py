"""After-sale's to-dos in the bell: a case opened and a reply deadline within 2 h, for its own shop only."""
from datetime import timedelta

from django.utils import timezone

from aftersale.models import AfterSaleCase
from shop_admin.kernel.todos import todo_feed
from tests.factories import make_member, make_shop


def test_a_case_opened_is_a_todo_linking_to_the_case(shop, owner, order_in, open_case):
    case = open_case(order_in("delivered"))

    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())

    entry = next(e for e in feed.entries if e.item.key == f"aftersale_opened:{case['id']}")
    assert entry.unread and entry.item.url == f"/aftersales/{case['id']}/"
    other = make_member(make_shop("隔壁店"), username="neighbour")
    assert todo_feed(user_id=other.pk, shop_id=other.memberships.get().shop_id, now=timezone.now()).entries == []


def test_a_reply_deadline_within_two_hours_is_a_todo_until_answered(shop, owner, order_in, open_case, merchant_api):
    case = AfterSaleCase.objects.get(pk=open_case(order_in("delivered"), "refund_only", amount="20.00")["id"])
    due_key = f"aftersale_reply_due:{case.pk}"

    early = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=case.reply_deadline - timedelta(hours=3))
    close = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=case.reply_deadline - timedelta(minutes=30))

    assert due_key not in [e.item.key for e in early.entries]
    entry = next(e for e in close.entries if e.item.key == due_key)
    assert entry.unread and entry.item.deadline == case.reply_deadline

    status, body = merchant_api.post(f"/merchant/aftersales/{case.pk}/operate", {"action": "agree"})
    assert status == 200, body
    answered = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=case.reply_deadline - timedelta(minutes=30))
    assert due_key not in [e.item.key for e in answered.entries]
