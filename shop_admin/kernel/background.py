"""Long work as RQ jobs with progress in the database: kinds registered by the apps, started, stepped, finished.

An app registers each kind of job in `AppConfig.ready()` with `background_job_kind_register`:
the function RQ runs (named like the kind, e.g. `orders_bulk_remark`) and the label the
job page shows. A job that applies one service per row uses `background_job_each`.
A job runs in the language of the user who started it, so what it records reads in theirs.
"""
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import BackgroundJob, Shop
from shop_admin.kernel.queues import rq_queue
from shop_admin.kernel.text import join_messages

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackgroundJobKind:
    name: str
    run: Callable[[int], None]
    label: Any  # a lazy translation, shown in the reader's language


_kinds: dict[str, BackgroundJobKind] = {}


def background_job_kind_register(*, run: Callable[[int], None], label) -> None:
    """Register a kind of job; it is named after the function RQ runs."""
    name = run.__name__
    if name in _kinds and _kinds[name].run is not run:
        raise ValueError(f"background job kind {name!r} is registered twice")
    _kinds[name] = BackgroundJobKind(name=name, run=run, label=label)


def background_job_kind_label(kind: str) -> str:
    return str(_kinds[kind].label) if kind in _kinds else kind


def background_job_start(*, shop: Shop, user, kind: str, params: dict, total: int) -> BackgroundJob:
    """Record the job and enqueue its kind's function on RQ once the record is committed."""
    run = _kinds[kind].run
    params = {**params, "language": translation.get_language()}
    job = BackgroundJob.objects.create(shop=shop, created_by=user, kind=kind, params=params, total=total)

    def enqueue() -> None:
        try:
            rq_queue("default").enqueue(
                run, job.pk, job_id=f"background-{job.pk}", job_timeout=3600, on_failure=background_job_crashed
            )
        except RedisError as exc:
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=BackgroundJob.Status.FAILED,
                errors=[_("任务队列不可用：%(error)s") % {"error": exc}],
                finished_at=timezone.now(),
            )

    transaction.on_commit(enqueue)
    return job


def background_job_crashed(rq_job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: the page says the job failed instead of spinning forever."""
    BackgroundJob.objects.filter(pk=rq_job.args[0]).update(
        status=BackgroundJob.Status.FAILED,
        errors=[f"{exc_type.__name__}: {exc_value}"],
        finished_at=timezone.now(),
    )


def background_job_begin(job_id: int) -> BackgroundJob | None:
    """Mark a queued job running; None if it already ran (a re-delivered RQ job does nothing)."""
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != BackgroundJob.Status.QUEUED:
            return None
        job.status = BackgroundJob.Status.RUNNING
        job.save(update_fields=["status"])
    return job


def background_job_step(job: BackgroundJob, *, ok: bool, error: str | None = None) -> None:
    """One item done, or failed with a message naming it."""
    if ok:
        BackgroundJob.objects.filter(pk=job.pk).update(done=F("done") + 1)
    else:
        job.errors.append(error or "")
        BackgroundJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1, errors=job.errors)


def background_job_finish(
    job: BackgroundJob, *, result_name: str = "", result: bytes | None = None, done: int | None = None
) -> None:
    extra = {"done": done} if done is not None else {}
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.DONE, finished_at=timezone.now(), result_name=result_name, result=result, **extra
    )


def background_job_language(job: BackgroundJob):
    """Run the job's work in the language of the user who started it."""
    return translation.override(job.params.get("language") or None)


def background_job_each(
    job_id: int,
    *,
    rows: Callable[[BackgroundJob], Iterable],
    apply: Callable[[BackgroundJob, Any], None],
    row_name: Callable[[Any], str],
) -> None:
    """The loop of every per-row job: apply a service to each row; a refused row is reported by name and the rest go on."""
    job = background_job_begin(job_id)
    if job is None:
        return
    with background_job_language(job):
        for row in rows(job):
            try:
                apply(job, row)
            except DomainError as exc:
                background_job_step(job, ok=False, error=domain_error_text(exc, row=row_name(row)))
            else:
                background_job_step(job, ok=True)
    background_job_finish(job)


def domain_error_text(exc: DomainError, *, row: str) -> str:
    """A refusal as a job reports it: the row, the message and the fields it names."""
    fields = exc.details.get("fields")
    detail = join_messages(fields.values()) if isinstance(fields, dict) and fields else ""
    return _("%(row)s：%(message)s") % {"row": row, "message": exc.message} + (_("（%(detail)s）") % {"detail": detail} if detail else "")
