"""The rows each hand-written statement of aftersale/sql.py returns."""
from datetime import timedelta

from django.utils import timezone

from aftersale.models import AfterSaleCase
from aftersale.sql import aftersale_metrics_row, cases_end_rows


def test_cases_end_rows_end_each_case_with_its_refund_or_the_one_it_had(order_in, open_case):
    first, second = order_in("paid"), order_in("paid")
    a = AfterSaleCase.objects.get(pk=open_case(first, "refund_only")["id"])
    b = AfterSaleCase.objects.get(pk=open_case(second, "refund_only")["id"])
    refund = first.refunds.create(amount="1.00", channel="douyin_pay")
    now = timezone.now()
    cases_end_rows(case_ids=[a.pk, b.pk], refund_ids=[refund.pk, None], status="refunded", now=now)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.refund_id, a.closed_at, a.due_at) == ("refunded", refund.pk, now, None)
    assert (b.status, b.refund_id, b.closed_at) == ("refunded", None, now)


def test_metrics_row_counts_the_periods_cases_and_the_median_first_answer(order_in, open_case, shop):
    now = timezone.now()
    for minutes in (10, 30):
        case = AfterSaleCase.objects.get(pk=open_case(order_in("paid"), "refund_only")["id"])
        AfterSaleCase.objects.filter(pk=case.pk).update(first_response_at=case.created_at + timedelta(minutes=minutes))
    opened, median_response, median_refund = aftersale_metrics_row(shop_id=shop.pk, since=now - timedelta(days=1))
    assert (opened, median_response, median_refund) == (2, timedelta(minutes=20), None)
    assert aftersale_metrics_row(shop_id=shop.pk, since=now + timedelta(days=1))[0] == 0
