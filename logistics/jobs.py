"""RQ jobs of logistics: bulk shipping from the console."""
from logistics.services import shipment_create
from orders.models import Order
from shop_admin.actors import Actor
from shop_admin.background import (
    background_job_begin,
    background_job_finish,
    background_job_step,
)
from shop_admin.errors import DomainError
from shop_admin.text import join_messages


def orders_bulk_ship(job_id: int) -> None:
    """Ship each row (order number, carrier, tracking number); a bad row is reported and the rest go on."""
    job = background_job_begin(job_id)
    if job is None:
        return
    actor = Actor.for_user(job.created_by)
    for row in job.params["rows"]:
        order = Order.objects.filter(shop_id=job.shop_id, order_no=row["order_no"]).first()
        if order is None:
            background_job_step(job, ok=False, error=f"{row['order_no']}: 订单不存在")
            continue
        try:
            shipment_create(order=order, actor=actor, carrier=row["carrier"], tracking_no=row["tracking_no"])
            background_job_step(job, ok=True)
        except DomainError as exc:
            detail = join_messages(exc.details.get("fields", {}).values())
            background_job_step(job, ok=False, error=f"{row['order_no']}: {exc.message}{': ' + detail if detail else ''}")
    background_job_finish(job)
