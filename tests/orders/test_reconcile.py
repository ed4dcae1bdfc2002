"""Daily reconciliation: a clean day passes, a planted mismatch is printed and exits 1, the daily job is scheduled."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.constants import LedgerKind
from orders.models import LedgerEntry, Order, ReconciliationRun
from orders.services.lifecycle import order_confirm_receipt, order_mark_delivered
from shop_admin.kernel.actors import Actor


def _run(day=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = ["--date", (day or timezone.localdate()).isoformat()]
    try:
        call_command("reconcile", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def _completed(sku, place_order, pay, merchant_api) -> Order:
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    merchant_api.post(f"/merchant/orders/{placed['order_no']}/ship", {"carrier": "中通", "tracking_no": "73100000000031"})
    order = order_mark_delivered(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.channel("ZTO"))
    return order_confirm_receipt(order=order, actor=Actor.system("test"))


def test_a_clean_day_exits_0_and_is_recorded(shop, sku, place_order, pay, merchant_api):
    from tests.factories import make_shop

    quiet = make_shop()
    _completed(sku, place_order, pay, merchant_api)
    pay(place_order((sku, 1))["order_no"])
    code, out, _err = _run()
    assert code == 0, out
    run = ReconciliationRun.objects.get(shop=shop, day=timezone.localdate())
    assert run.mismatches == [] and run.checked_orders == 2 and run.checked_payments == 2
    # every shop's day is recorded, a quiet one as clean with nothing checked
    other = ReconciliationRun.objects.get(shop=quiet, day=timezone.localdate())
    assert other.mismatches == [] and other.checked_orders == 0 and other.status == "done"


def test_a_planted_mismatch_is_printed_and_exits_1(sku, place_order, pay, merchant_api):
    order = _completed(sku, place_order, pay, merchant_api)
    # planted: the settlement pays the merchant more than the ledger says it did
    LedgerEntry.objects.filter(order=order, kind=LedgerKind.SETTLEMENT).update(amount=Decimal("1.00"))
    code, out, err = _run()
    assert code == 1
    assert "settlement_ledger_mismatch" in out and order.order_no in out
    assert "1 mismatches" in err
    assert ReconciliationRun.objects.get(shop=order.shop, day=timezone.localdate()).mismatches[0]["order_no"] == order.order_no


def test_money_kept_by_a_cancelled_order_is_a_mismatch_until_refunded(sku, place_order, buyer_api, api, merchant_api):
    from tests.orders.exception_helpers import stray_payment_order

    order, exception = stray_payment_order(sku=sku, place_order=place_order, buyer_api=buyer_api, api=api)
    code, out, _err = _run()
    assert code == 1 and "cancelled_order_holds_money" in out
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "cancel_refund", "note": "退回"})
    assert status == 200, body
    assert _run()[0] == 0


def test_escrow_without_a_payment_is_found(sku, place_order):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    LedgerEntry.objects.create(order=order, kind=LedgerKind.ESCROW_IN, amount=Decimal("59.90"), channel_txn_id="GHOST")
    code, out, _err = _run()
    assert code == 1 and "escrow_without_payment" in out and "GHOST" in out


def test_bad_date_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--date", "23/11/2026")


def test_default_is_yesterday_and_the_daily_job_is_scheduled(shop):
    from rq import cron

    import shop_admin.cron  # noqa: F401
    from orders.reconcile import reconcile_yesterday_job

    assert reconcile_yesterday_job() == 0
    assert ReconciliationRun.objects.filter(shop=shop, day=timezone.localdate() - timedelta(days=1), ran_at__isnull=False).exists()
    assert any(job["func"] is reconcile_yesterday_job and job["cron"] for job in cron._job_data_registry)


def test_the_console_page_lists_the_shops_mismatches_only(console, sku, place_order):
    from django.test import Client

    from tests.factories import make_member, make_shop

    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    LedgerEntry.objects.create(order=order, kind=LedgerKind.ESCROW_IN, amount=Decimal("59.90"), channel_txn_id="GHOST2")
    _run()
    page = console.get("/exceptions/reconciliation/").content.decode()
    assert order.order_no in page and "入账无对应支付" in page and "escrow_without_payment" not in page
    rival = Client()
    rival.force_login(make_member(make_shop(), username="rival2"))
    assert order.order_no not in rival.get("/exceptions/reconciliation/").content.decode()
