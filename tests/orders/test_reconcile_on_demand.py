"""A day's reconciliation run on demand from the page: owner and finance only, this shop only, one at a time, idempotent."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from orders.constants import LedgerKind
from orders.models import LedgerEntry, Order, ReconciliationRun
from shop_admin.kernel.constants import Role, ShopEventKind
from shop_admin.kernel.models import BackgroundJob, ShopEvent
from tests.factories import make_member, make_shop, make_sku, order_payload

PAGE = "/exceptions/reconciliation/"
RUN = "/exceptions/reconciliation/run/"


def _ghost_escrow(order: Order, txn: str) -> None:
    """Planted: money booked into escrow today with no payment behind it (an escrow_without_payment mismatch)."""
    LedgerEntry.objects.create(order=order, kind=LedgerKind.ESCROW_IN, amount=Decimal("59.90"), channel_txn_id=txn)


@pytest.fixture
def rival_order(buyer_api):
    """Another shop's order with its own planted mismatch on the same day."""
    rival = make_shop("别家店")
    status, body = buyer_api.post("/orders", order_payload(rival, (make_sku(rival, price="59.90"), 1)))
    assert status == 201, body
    order = Order.objects.get(order_no=body["order_no"])
    _ghost_escrow(order, "RIVAL-GHOST")
    return order


@pytest.fixture
def our_order(sku, place_order):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    _ghost_escrow(order, "OUR-GHOST")
    return order


def _member(shop, role) -> Client:
    client = Client()
    client.force_login(make_member(shop, role=role))
    return client


def test_the_owner_runs_today_and_sees_progress_then_this_shops_result_only(console, run_jobs, shop, owner, our_order, rival_order):
    today = timezone.localdate()
    # given the page offers the form with yesterday (shop time) chosen
    page = console.get(PAGE).content.decode()
    assert 'id="reconcile-form"' in page and f'value="{(today - timedelta(days=1)).isoformat()}"' in page
    # when the owner asks for today, the run is queued and the page shows its progress, polling for it
    with run_jobs():
        response = console.post(RUN, {"day": today.isoformat()})
        assert response.status_code == 302
        run = ReconciliationRun.objects.get(shop=shop, day=today)
        assert run.status == "queued" and run.requested_by == owner
        waiting = console.get(PAGE).content.decode()
        assert f'hx-get="/exceptions/reconciliation/runs/{run.pk}/"' in waiting and "<progress" in waiting
        assert our_order.order_no not in waiting  # no result yet
    # then a real worker ran it: the day's result is this shop's mismatch, and the partial stops polling
    run.refresh_from_db()
    assert run.status == "done" and run.job.status == BackgroundJob.Status.DONE and run.job.done == run.job.total == 3
    assert {m["order_no"] for m in run.mismatches} == {our_order.order_no}
    partial = console.get(f"/exceptions/reconciliation/runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert our_order.order_no in partial and "入账无对应支付" in partial and "hx-get" not in partial
    page = console.get(PAGE).content.decode()
    assert our_order.order_no in page and rival_order.order_no not in page and "RIVAL-GHOST" not in page
    # the run was for this shop only: the other shop's day is not touched
    assert not ReconciliationRun.objects.filter(shop=rival_order.shop).exists()
    # and it is on the shop's audit trail: who asked for which day
    event = ShopEvent.objects.get(shop=shop, kind=ShopEventKind.RECONCILIATION_REQUESTED)
    assert event.actor_user == owner and event.data == {"day": today.isoformat(), "job": run.job_id}


def test_finance_may_run_a_day(shop, run_jobs, our_order):
    finance = _member(shop, Role.FINANCE)
    assert 'id="reconcile-form"' in finance.get(PAGE).content.decode()
    with run_jobs():
        assert finance.post(RUN, {"day": timezone.localdate().isoformat()}).status_code == 302
    run = ReconciliationRun.objects.get(shop=shop, day=timezone.localdate())
    assert run.status == "done" and run.mismatches[0]["order_no"] == our_order.order_no
    # finance reads the order number but is not offered the order page it may not open
    page = finance.get(PAGE).content.decode()
    assert our_order.order_no in page and f'href="/orders/{our_order.order_no}/"' not in page


@pytest.mark.parametrize("role", [Role.SERVICE, Role.WAREHOUSE])
def test_customer_service_and_warehouse_are_refused(shop, run_jobs, role):
    client = _member(shop, role)
    assert client.get(PAGE).status_code == 403
    with run_jobs():
        assert client.post(RUN, {"day": timezone.localdate().isoformat()}).status_code == 403
    assert not ReconciliationRun.objects.exists() and not BackgroundJob.objects.exists()


def test_another_shops_run_is_a_404(console, shop, run_jobs, rival_order):
    rival_owner = _member(rival_order.shop, Role.OWNER)
    with run_jobs():
        rival_owner.post(RUN, {"day": timezone.localdate().isoformat()})
    theirs = ReconciliationRun.objects.get(shop=rival_order.shop)
    assert console.get(f"/exceptions/reconciliation/runs/{theirs.pk}/").status_code == 404
    assert rival_order.order_no not in console.get(PAGE).content.decode()


@pytest.mark.parametrize("day", ["tomorrow", "2026-13-40", "", "0001-01-01"])
def test_a_future_old_or_unreadable_day_is_refused_naming_the_field_and_kept(console, shop, run_jobs, day):
    typed = (timezone.localdate() + timedelta(days=1)).isoformat() if day == "tomorrow" else day
    with run_jobs():
        response = console.post(RUN, {"day": typed}, follow=True)
    page = response.content.decode()
    assert "对账日期：" in page, page
    if day == "tomorrow":
        assert "不能对未来的日期对账" in page and f'value="{typed}"' in page
    if day == "0001-01-01":
        assert "只能对最近1098天内的日期对账" in page
    assert not ReconciliationRun.objects.exists() and not BackgroundJob.objects.exists()


def test_asking_again_while_it_runs_shows_the_running_one(console, shop, redis_conn, django_capture_on_commit_callbacks):
    today = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        console.post(RUN, {"day": today})
    # when asked again before any worker took it
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(RUN, {"day": today}, follow=True)
    # then nothing more is queued, and the page says a run is under way and shows it
    assert BackgroundJob.objects.filter(kind="orders_reconcile_day").count() == 1
    assert ShopEvent.objects.filter(kind=ShopEventKind.RECONCILIATION_REQUESTED).count() == 1
    page = response.content.decode()
    assert "正在进行" in page and "<progress" in page


def test_a_re_run_replaces_the_days_result_without_doubling_it(console, shop, run_jobs, our_order):
    today = timezone.localdate()
    with run_jobs():
        console.post(RUN, {"day": today.isoformat()})
    run = ReconciliationRun.objects.get(shop=shop, day=today)
    first = list(run.mismatches)
    assert {m["order_no"] for m in first} == {our_order.order_no}
    with run_jobs():
        console.post(RUN, {"day": today.isoformat()})
    run.refresh_from_db()
    assert run.mismatches == first  # the same findings, not twice as many
    assert len(re.findall("OUR-GHOST", console.get(PAGE).content.decode())) == 1
    # the nightly run of the same day writes the same row: still one mismatch, and the request it did not make stays
    from orders.reconcile import reconcile_day

    reconcile_day(day=today)
    run.refresh_from_db()
    assert run.mismatches == first and run.requested_by is not None
    assert ReconciliationRun.objects.filter(shop=shop, day=today).count() == 1
    # when the day changes (a second stray booking) and is run again, the result is the day as it is now, not added to
    _ghost_escrow(our_order, "OUR-GHOST-2")
    with run_jobs():
        console.post(RUN, {"day": today.isoformat()})
    run.refresh_from_db()
    codes = sorted(m["code"] for m in run.mismatches)
    assert codes == ["escrow_without_payment", "escrow_without_payment", "paid_amount_mismatch"]
    assert ReconciliationRun.objects.filter(shop=shop, day=today).count() == 1


def test_a_run_that_crashed_says_so_and_may_be_asked_again(console, shop, run_jobs, monkeypatch):
    import orders.jobs

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(orders.jobs, "reconcile_day", broken)
    with run_jobs():
        console.post(RUN, {"day": timezone.localdate().isoformat()})
    run = ReconciliationRun.objects.get(shop=shop)
    assert run.status == "failed" and "对账失败" in console.get(PAGE).content.decode()
    monkeypatch.undo()
    with run_jobs():
        console.post(RUN, {"day": timezone.localdate().isoformat()})
    run.refresh_from_db()
    assert run.status == "done" and BackgroundJob.objects.filter(kind="orders_reconcile_day").count() == 2


@pytest.mark.django_db(transaction=True)
def test_eight_clicks_at_once_queue_one_run(redis_conn):
    from orders.services.reconciliation import reconciliation_run_request
    from shop_admin.kernel.actors import Actor
    from tests.concurrency import run_concurrently

    shop = make_shop()
    finance = make_member(shop, role=Role.FINANCE)
    day = timezone.localdate() - timedelta(days=1)
    # the day has no row yet: every click races to make it as well as to queue the run
    results = run_concurrently(8, lambda i: reconciliation_run_request(shop=shop, actor=Actor.for_user(finance), day=day))
    assert sorted(queued for _run, queued in results) == [False] * 7 + [True]
    assert {run.pk for run, _queued in results} == {ReconciliationRun.objects.get(shop=shop, day=day).pk}
    assert BackgroundJob.objects.filter(kind="orders_reconcile_day").count() == 1
    assert ShopEvent.objects.filter(kind=ShopEventKind.RECONCILIATION_REQUESTED).count() == 1
