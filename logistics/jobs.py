"""RQ jobs of logistics: bulk shipping from the console."""
from logistics.services import shipment_create
from orders.selectors import order_get_in_shop
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import background_job_each


def logistics_bulk_ship(job_id: int) -> None:
    """Ship each row (order number, carrier, tracking number); a bad row is reported and the rest go on."""

    def apply(job, row: dict) -> None:
        order = order_get_in_shop(shop_id=job.shop_id, order_no=row["order_no"])
        shipment_create(order=order, actor=Actor.for_user(job.created_by), carrier=row["carrier"], tracking_no=row["tracking_no"])

    background_job_each(job_id, rows=lambda job: job.params["rows"], apply=apply, row_name=lambda row: row["order_no"])
