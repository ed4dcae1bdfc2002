"""An exception still open at its deadline is escalated to the platform once: by its RQ wake-up or by the sweep (`--at`)."""
from datetime import timedelta
from io import StringIO

import django_rq
from django.core.management import call_command
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from orders.models import OrderException
from shop_admin.kernel.deadlines import deadline_run
from shop_admin.kernel.todos import todo_feed
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop
from tests.orders.exception_helpers import paid_order


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def reported(sku, place_order, pay, merchant_api) -> OrderException:
    """A paid order whose goods the merchant found damaged: held, with the ship-by as the exception's deadline."""
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    status, body = merchant_api.post(
        f"/merchant/orders/{order.order_no}/exceptions", {"kind": "merchant_reported", "description": "外箱压坏"}
    )
    assert status == 201, body
    return OrderException.objects.get(pk=body["id"])


def test_an_open_exception_past_its_deadline_is_escalated_once(sku, place_order, pay, merchant_api, owner, shop, console):
    # given: an open exception with a deadline (the held order's ship-by)
    exception = reported(sku, place_order, pay, merchant_api)
    assert exception.deadline == exception.order.ship_deadline
    # when: the sweep runs just before and at the deadline, then again
    assert "exception_deadline_passed: 0" in sweep(exception.deadline - timedelta(minutes=1))
    assert "exception_deadline_passed: 1" in sweep(exception.deadline)
    assert "exception_deadline_passed: 0" in sweep(exception.deadline + timedelta(days=3))
    # then: escalated at the deadline, still open for the merchant to settle, recorded once on the timeline
    exception.refresh_from_db()
    assert exception.status == "open" and exception.escalated_at == exception.deadline
    events = exception.order.events.filter(kind="exception_escalated")
    assert events.count() == 1 and events.get().actor_kind == "system" and events.get().data["exception_id"] == exception.pk
    # and: the merchant sees it in the API, the exception centre and the bell
    _status, body = merchant_api.get(f"/merchant/exceptions/{exception.pk}")
    assert body["escalated_at"] is not None
    assert "data-escalated" in console.get("/exceptions/").content.decode()
    assert "data-escalated" in console.get(f"/exceptions/{exception.pk}/").content.decode()
    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=exception.deadline + timedelta(minutes=1))
    assert f"exception_escalated:{exception.pk}" in [entry.item.key for entry in feed.entries]


def test_an_exception_resolved_in_time_is_never_escalated(sku, place_order, pay, merchant_api):
    exception = reported(sku, place_order, pay, merchant_api)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "no_action", "note": "已换新"})
    assert status == 200, body
    assert "exception_deadline_passed: 0" in sweep(exception.deadline + timedelta(days=1))
    exception.refresh_from_db()
    assert exception.escalated_at is None and not exception.order.events.filter(kind="exception_escalated").exists()


def test_opening_schedules_the_wake_up_which_does_nothing_before_the_deadline(
    sku, place_order, pay, merchant_api, redis_conn, django_capture_on_commit_callbacks
):
    # given: an exception opened and committed
    with django_capture_on_commit_callbacks(execute=True):
        exception = reported(sku, place_order, pay, merchant_api)
    # then: its wake-up waits in RQ at the deadline
    registry = ScheduledJobRegistry(queue=django_rq.get_queue("deadlines"))
    assert f"deadline-exception_deadline_passed-{exception.pk}-{int(exception.deadline.timestamp())}" in registry.get_job_ids()
    # and: run early (a clock skew, a retry), the job re-checks the deadline and changes nothing
    assert deadline_run("exception_deadline_passed", exception.pk) == 0
    exception.refresh_from_db()
    assert exception.escalated_at is None


def test_another_shop_sees_no_escalation_of_mine(sku, place_order, pay, merchant_api):
    exception = reported(sku, place_order, pay, merchant_api)
    sweep(exception.deadline + timedelta(hours=1))
    other_shop = make_shop("别家小店")
    other_owner = make_member(other_shop)
    other = ApiClient(other_owner.api_token.key)
    assert other.get(f"/merchant/exceptions/{exception.pk}")[0] == 404
    feed = todo_feed(user_id=other_owner.pk, shop_id=other_shop.pk, now=timezone.now() + timedelta(days=3))
    assert not [e for e in feed.entries if e.item.key.startswith("exception_escalated:")]
