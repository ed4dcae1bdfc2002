"""Every hand-written SQL statement of the after-sale app, each returning plain rows (tests/aftersale/test_sql.py reads them)."""
from django.db import connection
from django.utils import timezone

from aftersale.models import AfterSaleCase
from orders.constants import RefundStatus
from orders.models import Refund


def cases_end_rows(*, case_ids: list[int], refund_ids: list[int | None], status: str, now) -> None:
    """Many cases end at once: their new status, refund (`refund_ids[i]` of `case_ids[i]`, None keeps the case's), closed
    at `now`, no deadline. One UPDATE joined to the (case, refund) pairs: a CASE of 500 branches took long to compile."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AfterSaleCase._meta.db_table} AS c SET status = %s, refund_id = COALESCE(v.refund_id, c.refund_id),"
            " closed_at = %s, due_at = NULL, updated_at = %s FROM unnest(%s::bigint[], %s::bigint[]) AS v(case_id, refund_id)"
            " WHERE c.id = v.case_id",
            [status, now, timezone.now(), case_ids, refund_ids],
        )


def aftersale_metrics_row(*, shop_id: int, since) -> tuple:
    """(cases opened since, median first answer, median time to a succeeded refund) of the shop, from one read of the
    period's cases. percentile_cont(0.5) is the median (the mean of the middle two for an even count); NULLs
    (unanswered, not refunded) are left out."""
    cases, refunds = AfterSaleCase._meta.db_table, Refund._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COUNT(*),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_response_at - c.created_at),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.succeeded_at - c.created_at) FILTER (WHERE r.status = %s)
                  FROM {cases} c LEFT JOIN {refunds} r ON r.id = c.refund_id
                 WHERE c.shop_id = %s AND c.created_at >= %s""",
            [RefundStatus.SUCCEEDED, shop_id, since],
        )
        return cursor.fetchone()
