"""RQ jobs of logistics: bulk shipping and printing waybills from the console, the daily route statistics."""
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.services import shipment_create
from logistics.waybill import waybills_for_shop, waybills_render
from orders.selectors import order_get_in_shop
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import (
    background_job_begin,
    background_job_each,
    background_job_finish,
    background_job_language,
    background_job_step,
)


def logistics_bulk_ship(job_id: int) -> None:
    """Ship each row (order number, carrier, tracking number); a bad row is reported and the rest go on."""

    def apply(job, row: dict) -> None:
        order = order_get_in_shop(shop_id=job.shop_id, order_no=row["order_no"])
        shipment_create(order=order, actor=Actor.for_user(job.created_by), carrier=row["carrier"], tracking_no=row["tracking_no"])

    background_job_each(job_id, rows=lambda job: job.params["rows"], apply=apply, row_name=lambda row: row["order_no"])


def logistics_waybills_print(job_id: int) -> None:
    """The selected orders' waybills and packing slips as one PDF; a number that is no order of the shop is reported."""
    job = background_job_begin(job_id)
    if job is None:
        return
    order_nos = job.params["order_nos"]
    printed: set[str] = set()

    def counted(waybills):
        for waybill in waybills:
            yield waybill
            printed.add(waybill.order_no)
            background_job_step(job, ok=True)

    with background_job_language(job), tempfile.TemporaryFile() as pdf:
        # Pages go to a file as they are drawn; only the finished document is read back, to be stored.
        waybills_render(counted(waybills_for_shop(shop_id=job.shop_id, order_nos=order_nos)), pdf)
        for order_no in order_nos:
            if order_no not in printed:
                background_job_step(job, ok=False, error=_("%(row)s：%(message)s") % {"row": order_no, "message": _("订单不存在")})
        if not printed:  # nothing of the shop's was selected: no blank label to download
            background_job_finish(job)
            return
        pdf.seek(0)  # stored from the file in chunks, never read whole into memory
        background_job_finish(job, result_name=f"waybills-{timezone.localtime():%Y%m%d-%H%M%S}.pdf", result=pdf)


def route_stats_refresh_job() -> int:
    """The daily recomputation of every shop's route statistics (shop_admin/cron.py); `manage.py route_stats` runs it now."""
    from logistics.sql import route_stats_refresh

    return route_stats_refresh(now=timezone.now())
