"""RQ jobs of after-sale: the cases export."""
from django.utils import timezone

from aftersale.exports import AFTERSALE_HEADERS, aftersale_export_cases, aftersale_export_rows
from orders.exports import order_filters_from_params
from shop_admin.kernel.background import (
    background_job_begin,
    background_job_csv,
    background_job_language,
    background_job_progress,
)


def aftersale_export(job_id: int) -> None:
    """The shop's after-sale cases in a date range, streamed to storage."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        filters = order_filters_from_params(job.params.get("filters", {}))
        cases = aftersale_export_cases(shop_id=job.shop_id, created_from=filters.created_from, created_to=filters.created_to)
        background_job_progress(job, done=0, total=cases.count())  # rows done / total on the job page
        background_job_csv(
            job, result_name=f"aftersales-{timezone.localtime():%Y%m%d-%H%M%S}.csv", headers=AFTERSALE_HEADERS, rows=aftersale_export_rows(cases)
        )
