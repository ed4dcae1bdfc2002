"""RQ jobs of orders: each fetches its rows, re-checks state under lock through a service, and reports progress."""
from datetime import datetime

from django.utils import timezone

from orders.models import Order, OrderLine
from orders.resources import order_lines_csv
from orders.services.lifecycle import (
    order_remark_set,
    orders_auto_confirm,
    orders_expire_balance,
    orders_expire_unpaid,
)
from shop_admin.actors import Actor
from shop_admin.background import (
    background_job_begin,
    background_job_finish,
    background_job_step,
)
from shop_admin.errors import DomainError

# --- deadlines (registered in OrdersConfig.ready) ---


def order_pay_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_expire_unpaid(now=now, ids=ids)


def presale_balance_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_expire_balance(now=now, ids=ids)


def order_auto_confirm(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_auto_confirm(now=now, ids=ids)


# --- console bulk work (BackgroundJob) ---


def orders_bulk_remark(job_id: int) -> None:
    """The same remark and flag on each selected order."""
    job = background_job_begin(job_id)
    if job is None:
        return
    actor = Actor.for_user(job.created_by)
    for order_no in job.params["order_nos"]:
        order = Order.objects.filter(shop_id=job.shop_id, order_no=order_no).first()
        if order is None:
            background_job_step(job, ok=False, error=f"{order_no}: 订单不存在")
            continue
        try:
            order_remark_set(order=order, actor=actor, remark=job.params["remark"], flag=job.params["flag"])
            background_job_step(job, ok=True)
        except DomainError as exc:
            background_job_step(job, ok=False, error=f"{order_no}: {exc.message}")
    background_job_finish(job)


def orders_export_selected(job_id: int) -> None:
    """The selected orders as the contract's CSV."""
    job = background_job_begin(job_id)
    if job is None:
        return
    lines = (
        OrderLine.objects.filter(order__shop_id=job.shop_id, order__order_no__in=job.params["order_nos"])
        .select_related("order")
        .prefetch_related("order__shipments")
        .order_by("order__created_at", "order_id", "pk")
    )
    content = order_lines_csv(lines)
    background_job_finish(
        job, result_name=f"orders-{timezone.localtime():%Y%m%d-%H%M%S}.csv", result=content, done=job.total
    )
