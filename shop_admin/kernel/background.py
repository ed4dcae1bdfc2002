"""Long work as RQ jobs with progress in the database: kinds registered by the apps, started, stepped, finished.

An app registers each kind of job in `AppConfig.ready()` with `background_job_kind_register`:
the function RQ runs (named like the kind, e.g. `orders_bulk_remark`) and the label the
job page shows. A job that applies one service per row uses `background_job_each`.
A job runs in the language of the user who started it, so what it records reads in theirs.
"""
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rq import Callback

from shop_admin.kernel.csvio import CsvWriter
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import BackgroundJob, Shop
from shop_admin.kernel.queues import rq_queue
from shop_admin.kernel.text import domain_error_text

logger = logging.getLogger(__name__)

CSV_PROGRESS_EVERY = 5000  # rows between two progress updates of an export


@dataclass(frozen=True)
class BackgroundJobKind:
    name: str
    run: Callable[[int], None]
    label: Any  # a lazy translation, shown in the reader's language
    # A kind whose result file keeps codes (message ids and parameters) rather than words: it turns the stored file
    # into the download, at download time, in the downloader's language.
    render_result: Callable[[BackgroundJob], bytes] | None = None


_kinds: dict[str, BackgroundJobKind] = {}


def background_job_kind_register(*, run: Callable[[int], None], label, render_result: Callable[[BackgroundJob], bytes] | None = None) -> None:
    """Register a kind of job; it is named after the function RQ runs."""
    name = run.__name__
    if name in _kinds and _kinds[name].run is not run:
        raise ValueError(f"background job kind {name!r} is registered twice")
    _kinds[name] = BackgroundJobKind(name=name, run=run, label=label, render_result=render_result)


def background_job_result_rendered(job: BackgroundJob) -> bytes | None:
    """The download of a kind that keeps its result as codes, in the current language; None: the stored file is the download."""
    kind = _kinds.get(job.kind)
    if kind is None or kind.render_result is None:
        return None
    return kind.render_result(job)


def background_job_kind_label(kind: str) -> str:
    return str(_kinds[kind].label) if kind in _kinds else kind


def background_job_start(*, shop: Shop, user, kind: str, params: dict, total: int) -> BackgroundJob:
    """Record the job and enqueue its kind's function on RQ once the record is committed."""
    if kind not in _kinds:
        raise KeyError(f"unknown background job kind {kind!r}")
    params = {**params, "language": translation.get_language()}
    job = BackgroundJob.objects.create(shop=shop, created_by=user, kind=kind, params=params, total=total)
    transaction.on_commit(partial(_enqueue, job))
    return job


def _enqueue(job: BackgroundJob) -> None:
    try:
        rq_queue("default").enqueue(
            _kinds[job.kind].run,
            job.pk,
            job_id=f"background-{job.pk}-{job.attempts}",
            job_timeout=3 * 3600,
            on_failure=Callback(background_job_crashed),
        )
    except RedisError as exc:
        BackgroundJob.objects.filter(pk=job.pk).update(
            status=BackgroundJob.Status.FAILED,
            errors=[_("任务队列不可用：%(error)s") % {"error": exc}],
            finished_at=timezone.now(),
        )


def background_job_crashed(rq_job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: the page says the job failed instead of spinning forever."""
    job_id = rq_job.args[0]
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.FAILED,
        errors=[f"{exc_type.__name__}: {exc_value}"],
        finished_at=timezone.now(),
    )
    _run_lock_release(job_id)


# --- who is running a job: a PostgreSQL session lock held by the worker's connection ---
# A worker killed with SIGKILL drops its connection, and PostgreSQL drops the lock with it and rolls back
# whatever the job had not committed; the sweep then knows for certain nobody runs the job any more.
_LOCK_CLASS = 0x6A6F62  # "job"


def _run_lock_take(job_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, job_id])
        return cursor.fetchone()[0]


def _run_lock_release(job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, job_id])


def background_job_alive(job: BackgroundJob) -> bool:
    """Whether some worker still runs this job: its lock is held."""
    if not _run_lock_take(job.pk):
        return True
    _run_lock_release(job.pk)
    return False


def background_job_begin(job_id: int, *, resume: bool = False) -> BackgroundJob | None:
    """Mark a queued job running; None if it already ran or runs elsewhere (a re-delivered RQ job does nothing).

    A job run again after a killed worker starts over with fresh counts, unless it can `resume`.
    """
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != BackgroundJob.Status.QUEUED:
            return None
        if not _run_lock_take(job_id):
            return None
        job.status = BackgroundJob.Status.RUNNING
        job.attempts += 1
        job.heartbeat_at = timezone.now()
        if not resume:
            job.done, job.failed, job.errors = 0, 0, []
        job.save(update_fields=["status", "attempts", "heartbeat_at", "done", "failed", "errors"])
    return job


def background_job_step(job: BackgroundJob, *, ok: bool, error: str | None = None) -> None:
    """One item done, or failed with a message naming it."""
    now = timezone.now()
    if ok:
        BackgroundJob.objects.filter(pk=job.pk).update(done=F("done") + 1, heartbeat_at=now)
    else:
        job.errors.append(error or "")
        BackgroundJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1, errors=job.errors, heartbeat_at=now)


def background_job_progress(job: BackgroundJob, *, done: int, total: int | None = None) -> None:
    """Where a job that counts by itself stands (rows read, rows written)."""
    extra = {"total": total} if total is not None else {}
    job.done = done
    BackgroundJob.objects.filter(pk=job.pk).update(done=done, heartbeat_at=timezone.now(), **extra)


def background_job_finish(
    job: BackgroundJob,
    *,
    result_name: str = "",
    result: bytes | IO[bytes] | None = None,
    done: int | None = None,
    summary: dict | None = None,
    failed: bool = False,
) -> None:
    """The job ended: its file (bytes, or an open binary file read in chunks) goes to storage, never into the row."""
    # A job that counted its own rows ends with done == total: a count taken before it ran (or none, 0) would
    # otherwise stay on the page beside what it really wrote ("96 succeeded, 0 total").
    extra: dict[str, Any] = {"done": done, "total": done} if done is not None else {}
    if summary is not None:
        extra["summary"] = summary
    if result is not None:
        content = ContentFile(result) if isinstance(result, bytes) else File(result)
        job.result_file.save(result_name, content, save=False)
        extra["result_file"] = job.result_file.name
    status = BackgroundJob.Status.FAILED if failed else BackgroundJob.Status.DONE
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=status, finished_at=timezone.now(), result_name=result_name, errors=job.errors, **extra
    )
    _run_lock_release(job.pk)


@contextmanager
def background_job_side_progress(job: BackgroundJob) -> Iterator[Callable[[int], None]]:
    """`progress(done)` for work inside one long transaction (or a COPY) that the job page must still see move.

    The progress goes through a connection of its own, opened at the first report: the
    writer may hold the job's connection in a COPY the whole time (orders.exports), or in a
    transaction whose writes nobody sees before it commits (orders.reconcile).
    """
    side = None

    def progress(done: int) -> None:
        nonlocal side
        job.done = done
        if side is None:
            side = connections.create_connection(DEFAULT_DB_ALIAS)
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {BackgroundJob._meta.db_table} SET done = %s, heartbeat_at = %s WHERE id = %s", [done, timezone.now(), job.pk]
            )

    try:
        yield progress
    finally:
        if side is not None:
            side.close()


def background_job_file(job: BackgroundJob, *, result_name: str, write: Callable[[IO[bytes], Callable[[int], None]], int]) -> int:
    """The job's result written by `write(file, progress)` (which returns its row count) to a temporary file, then
    to storage; `progress(rows done)` shows on the job page while it writes (`background_job_side_progress`).
    """
    with background_job_side_progress(job) as progress, tempfile.TemporaryFile() as out:
        written = write(out, progress)
        out.seek(0)
        background_job_finish(job, result_name=result_name, result=out, done=written, summary={"rows": written})
    return written


def background_job_csv(job: BackgroundJob, *, result_name: str, headers: list[str], rows: Iterable[list]) -> int:
    """Write rows as the job's CSV result: through a temporary file into storage, a chunk at a time, with progress."""
    written = 0
    with tempfile.TemporaryFile() as out:
        writer = CsvWriter(out)
        writer.header(headers)
        rows = iter(rows)
        while chunk := list(islice(rows, CSV_PROGRESS_EVERY)):
            writer.rows(chunk)
            written += len(chunk)
            background_job_progress(job, done=written)
        writer.close()
        out.seek(0)
        background_job_finish(job, result_name=result_name, result=out, done=written, summary={"rows": written})
    return written


def background_jobs_running(now) -> QuerySet:
    """What the revival deadline looks at: every job marked running (it then asks each whether its worker is alive)."""
    return BackgroundJob.objects.filter(status=BackgroundJob.Status.RUNNING)


def background_job_revive(*, now, ids: list[int] | None = None) -> int:
    """Jobs left running by a killed worker: queue them again to go on where they stopped, or fail them visibly.

    A deadline kind of the kernel: the sweep runs it, so nothing stays "running" for ever.
    Each kind of job is written to be run again: per-row jobs commit each row with its
    progress and resume after it; imports commit all or nothing; exports start over.
    """
    revived = 0
    with transaction.atomic():
        running = background_jobs_running(now).select_for_update(skip_locked=True)
        if ids is not None:
            running = running.filter(pk__in=ids)
        for job in running.order_by("pk")[: settings.SWEEP_BATCH_SIZE]:
            if background_job_alive(job):
                continue
            revived += 1
            if job.attempts >= settings.BACKGROUND_JOB_MAX_ATTEMPTS:
                job.errors.append(
                    _("工作进程%(n)d次中断，任务停止；已完成 %(done)d，失败 %(failed)d")
                    % {"n": job.attempts, "done": job.done, "failed": job.failed}
                )
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=BackgroundJob.Status.FAILED, errors=job.errors, finished_at=timezone.now()
                )
                continue
            BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.QUEUED)
            transaction.on_commit(partial(_enqueue, job))
    return revived


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
    """The loop of every per-row job: apply a service to each row; a refused row is reported by name and the rest go on.

    Each row commits together with the step that counts it, so a run after a killed
    worker starts exactly at the first row not yet counted: nothing is applied twice.
    """
    job = background_job_begin(job_id, resume=True)
    if job is None:
        return
    with background_job_language(job):
        for position, row in enumerate(rows(job)):
            if position < job.done + job.failed:
                continue
            try:
                with transaction.atomic():
                    apply(job, row)
                    background_job_step(job, ok=True)
            except DomainError as exc:
                background_job_step(job, ok=False, error=row_error_text(exc, row=row_name(row)))
    background_job_finish(job)


def row_error_text(exc: DomainError, *, row: str) -> str:
    """A refusal as a job reports it: the row, then the refusal as the console shows it."""
    return _("%(row)s：%(message)s") % {"row": row, "message": domain_error_text(exc)}
