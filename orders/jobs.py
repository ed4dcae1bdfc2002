"""RQ jobs of orders: each fetches its rows and calls a service or a selector; the kernel's job helpers do the rest."""
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.exports import (
    SETTLEMENT_HEADERS,
    order_export_lines,
    order_export_write,
    order_filters_from_params,
    settlement_export_lines,
    settlement_export_rows,
)
from orders.imports.apply import orders_import_apply
from orders.imports.check import orders_import_plan
from orders.imports.service import import_error_texts, import_errors_stored, import_file_read, import_summary
from orders.reconcile import RECONCILE_STEPS, reconcile_day
from orders.selectors import order_get_in_shop
from orders.services.lifecycle import order_remark_set
from orders.services.privacy import orders_contact_export_log
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import (
    background_job_begin,
    background_job_csv,
    background_job_each,
    background_job_file,
    background_job_finish,
    background_job_language,
    background_job_progress,
    background_job_side_progress,
)
from shop_admin.kernel.csvio import CsvUnreadable, csv_read
from shop_admin.kernel.errors import DomainError


def orders_bulk_remark(job_id: int) -> None:
    """The same remark and flag on each selected order."""

    def apply(job, order_no: str) -> None:
        order = order_get_in_shop(shop_id=job.shop_id, order_no=order_no)
        order_remark_set(order=order, actor=Actor.for_user(job.created_by), remark=job.params["remark"], flag=job.params["flag"])

    background_job_each(job_id, rows=lambda job: job.params["order_nos"], apply=apply, row_name=str)


def _stamp() -> str:
    return f"{timezone.localtime():%Y%m%d-%H%M%S}"


def _orders_export_file(job, lines) -> None:
    """The lines as the contract's CSV, contact details masked unless the job asked for them in clear (logged first)."""
    full_contact = bool(job.params.get("full_contact")) and job.created_by is not None
    if full_contact:
        try:
            orders_contact_export_log(shop_id=job.shop_id, actor=Actor.for_user(job.created_by), lines=lines, job_id=job.pk)
        except DomainError as exc:  # the role lost the right since the form was sent
            job.errors.append(exc.message)
            background_job_finish(job, failed=True)
            return
    background_job_progress(job, done=0, total=lines.count())  # rows done / total on the job page
    background_job_file(
        job,
        result_name=f"orders-{_stamp()}.csv",
        write=lambda out, progress: order_export_write(lines, out, shop_id=job.shop_id, progress=progress, full_contact=full_contact),
    )


def orders_export_selected(job_id: int) -> None:
    """The selected orders as the contract's CSV."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        _orders_export_file(job, order_export_lines(shop_id=job.shop_id, order_nos=job.params["order_nos"]))


def orders_export(job_id: int) -> None:
    """The orders a list's filters select, as the contract's CSV, streamed to storage (a killed run starts over)."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        _orders_export_file(job, order_export_lines(shop_id=job.shop_id, filters=order_filters_from_params(job.params["filters"])))


def settlements_export(job_id: int) -> None:
    """The shop's settlements in a date range."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        params = order_filters_from_params(job.params.get("filters", {}))
        settlements = settlement_export_lines(shop_id=job.shop_id, created_from=params.created_from, created_to=params.created_to)
        headers = [str(h) for h in SETTLEMENT_HEADERS]
        background_job_progress(job, done=0, total=settlements.count())  # rows done / total on the job page
        background_job_csv(job, result_name=f"settlements-{_stamp()}.csv", headers=headers, rows=settlement_export_rows(settlements))


# --- the order import: a check (the preview), then, once confirmed, the write ---


def _import_table(job):
    """The uploaded file, read; None (the job failed, saying why) when it is no CSV we can read."""
    try:
        return csv_read(import_file_read(job.params["path"]))
    except CsvUnreadable:
        job.errors.append(_("无法读取文件：请上传 UTF-8 或 GBK 编码的 CSV 文件"))
        background_job_finish(job, failed=True)
        return None


def orders_import_check(job_id: int) -> None:
    """Check every row and keep the bad ones (the preview, and its error CSV); write nothing."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        table = _import_table(job)
        if table is None:
            return
        background_job_progress(job, done=0, total=len(table.rows))
        plan = orders_import_plan(shop_id=job.shop_id, table=table, progress=lambda n: background_job_progress(job, done=n))
        report = import_errors_stored(plan) if plan.errors else None
        background_job_finish(
            job, result_name="errors.csv" if report else "", result=report, done=plan.rows, summary=import_summary(plan)
        )


def orders_import(job_id: int) -> None:
    """Write the confirmed file, all or nothing; the job's outcome commits with the orders (a re-run changes nothing twice)."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        table = _import_table(job)
        if table is None:
            return
        background_job_progress(job, done=0, total=len(table.rows))
        plan = orders_import_apply(
            shop_id=job.shop_id,
            actor=Actor.for_user(job.created_by),
            table=table,
            source=job.params.get("filename", ""),
            on_written=lambda plan: background_job_finish(job, done=plan.rows, summary=import_summary(plan)),
        )
        if plan.errors:  # the shop changed since the preview: nothing was written, and the page says why
            job.errors = import_error_texts(plan)
            background_job_finish(job, failed=True, result_name="errors.csv", result=import_errors_stored(plan), summary=import_summary(plan))


def orders_reconcile_day(job_id: int) -> None:
    """A shop's reconciliation of one day asked for on the page: the one reconciliation rule for the job's shop only,
    its checks reported as progress; the shop's row of the day is replaced, so a re-run changes nothing twice."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job), background_job_side_progress(job) as progress:
        result = reconcile_day(day=date.fromisoformat(job.params["day"]), shop_ids=[job.shop_id], progress=progress)
        background_job_finish(
            job,
            done=RECONCILE_STEPS,
            summary={"mismatches": len(result.found), "orders": result.checked_orders, "payments": result.checked_payments},
        )
