"""RQ jobs of orders: each fetches its rows and calls a service, which re-checks state under lock."""
from django.utils import timezone

from orders.resources import order_lines_csv
from orders.selectors import order_get_in_shop, order_lines_for_export
from orders.services.lifecycle import order_remark_set
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import (
    background_job_begin,
    background_job_each,
    background_job_finish,
    background_job_language,
)


def orders_bulk_remark(job_id: int) -> None:
    """The same remark and flag on each selected order."""

    def apply(job, order_no: str) -> None:
        order = order_get_in_shop(shop_id=job.shop_id, order_no=order_no)
        order_remark_set(order=order, actor=Actor.for_user(job.created_by), remark=job.params["remark"], flag=job.params["flag"])

    background_job_each(job_id, rows=lambda job: job.params["order_nos"], apply=apply, row_name=str)


def orders_export_selected(job_id: int) -> None:
    """The selected orders as the contract's CSV."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        content = order_lines_csv(order_lines_for_export(shop_id=job.shop_id, order_nos=job.params["order_nos"]))
    background_job_finish(
        job, result_name=f"orders-{timezone.localtime():%Y%m%d-%H%M%S}.csv", result=content, done=job.total
    )
