"""Long work as RQ jobs with progress in the database: start one, report progress, finish it."""
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from shop_admin.models import BackgroundJob, Shop
from shop_admin.queues import rq_queue

logger = logging.getLogger(__name__)


def background_job_start(*, shop: Shop, user, kind: str, params: dict, total: int, func: Callable[[int], None]) -> BackgroundJob:
    """Record the job and enqueue `func(job_id)` on RQ once the record is committed."""
    job = BackgroundJob.objects.create(shop=shop, created_by=user, kind=kind, params=params, total=total)

    def enqueue() -> None:
        try:
            rq_queue("default").enqueue(
                func, job.pk, job_id=f"background-{job.pk}", job_timeout=3600, on_failure=background_job_crashed
            )
        except RedisError as exc:
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=BackgroundJob.Status.FAILED, errors=[f"任务队列不可用：{exc}"], finished_at=timezone.now()
            )

    transaction.on_commit(enqueue)
    return job


def background_job_crashed(rq_job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: the page says the job failed instead of spinning forever."""
    BackgroundJob.objects.filter(pk=rq_job.args[0]).update(
        status=BackgroundJob.Status.FAILED, errors=[f"{exc_type.__name__}: {exc_value}"], finished_at=timezone.now()
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
    """One item done (or failed, with a message naming it)."""
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
