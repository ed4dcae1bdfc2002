"""The one deadline mechanism: the due time is a column, RQ wakes us at it, and a sweep catches what a lost job missed.

Each app registers its deadline kinds in `AppConfig.ready()` with the service
`apply_due(*, now, ids=None) -> int` whose name is the kind's name (one name for the
kind, the job and the service, e.g. `order_pay_timeout`). It locks the due rows (all of them when
`ids` is None, at most a batch), re-checks state and due time under the lock,
applies the service and returns how many it applied. Such a function is safe to
run any number of times, by a job or by the sweep, in any order.

A kind also registers `due(now)`, the queryset of its rows due by `now` (the same filter
its service locks), and the path from such a row to its shop. The sweep walks those ids
in order with a cursor and hands them to the service a batch at a time, so rows it cannot
apply (held by another process, refused, raising) never hide the rows behind them. A
batch that raises is applied again row by row; a row that raises alone, or that the kind
refuses (`deadline_failure_record`), is counted in a `DeadlineFailure`, which shows on its
shop's to-dos after DEADLINE_FAILURES_VISIBLE_AFTER tries and goes once the row is no
longer due. One kind breaking never stops the kinds after it.
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from redis.exceptions import RedisError

from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import DeadlineFailure
from shop_admin.kernel.queues import redis_after_commit, rq_queue
from shop_admin.kernel.todos import TodoItem, todo_key

logger = logging.getLogger(__name__)

QUEUE_NAME = "deadlines"


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    apply_due: Callable[..., int]
    label: Any  # a lazy translation, shown in the reader's language
    due: Callable[[datetime], QuerySet]  # the rows due by `now`, not sliced
    shop: str | None  # the lookup from a due row to its shop's id; None for rows of no shop (a buyer's, the platform's)
    url: Callable[[int], str]  # the console page of a row, for the to-do of a row that keeps failing


_kinds: dict[str, DeadlineKind] = {}


def deadline_register(
    *,
    apply_due: Callable[..., int],
    label: Any,
    due: Callable[[datetime], QuerySet],
    shop: str | None = "shop_id",
    url: Callable[[int], str] = lambda pk: "/",
) -> None:
    """Register the service that applies a deadline, the read of its due rows and their shop; the kind is named after it."""
    name = apply_due.__name__
    if name in _kinds and _kinds[name].apply_due is not apply_due:
        raise ValueError(f"deadline kind {name!r} is registered twice")
    _kinds[name] = DeadlineKind(name=name, apply_due=apply_due, label=label, due=due, shop=shop, url=url)


def deadline_label(name: str) -> str:
    """The kind's name for people (the timeline's actor of what the clock did); empty for a name not registered."""
    kind = _kinds.get(name)
    return str(kind.label) if kind else ""


_last_warning = 0.0


def _warn_once_a_minute(message: str) -> None:
    # A Redis outage would otherwise log one line per order.
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        logger.warning(message)


def deadline_schedule(*, name: str, pk: int, at: datetime) -> None:
    """Ask RQ to apply deadline `name` to row `pk` at `at`, once the current transaction commits.

    If Redis is down the row still carries its deadline and the sweep applies it;
    losing the wake-up only costs up to one sweep interval.
    """
    if name not in _kinds:
        raise KeyError(f"unknown deadline kind {name!r}")

    def enqueue(pipe) -> None:
        rq_queue(QUEUE_NAME).enqueue_at(
            at, deadline_run, name, pk, job_id=f"deadline-{name}-{pk}-{int(at.timestamp())}", pipeline=pipe
        )

    def lost(exc: RedisError) -> None:  # the sweep covers it
        _warn_once_a_minute(f"deadlines not scheduled in Redis ({exc}); the sweep will apply them")

    # With whatever else the transaction sends Redis after its commit (an order's tab-count invalidation): one round trip.
    redis_after_commit(settings.RQ_QUEUES[QUEUE_NAME]["URL"], enqueue, on_error=lost)


def deadline_run(name: str, pk: int) -> int:
    """The RQ job enqueued at a deadline: applies it to one row if it is still due."""
    return _kinds[name].apply_due(now=timezone.now(), ids=[pk])


# --- rows a kind cannot apply ---


def deadline_failure_record(*, kind: str, row_id: int, shop_id: int | None, error: Exception) -> None:
    """One more failed try of a due row: the sweep calls it for a row that raises, a kind for a row it refuses.

    The row stays due and the next sweep tries again; after DEADLINE_FAILURES_VISIBLE_AFTER tries
    it is a to-do of its shop, so a stuck deadline is seen by a person and not only in a log.
    """
    now = timezone.now()
    if isinstance(error, DomainError):
        code, reason = error.code, str(error.message)
    else:  # a bug or an outage: its text is for the log, not for the merchant
        code, reason = type(error).__name__, ""
    threshold = settings.DEADLINE_FAILURES_VISIBLE_AFTER
    updated = DeadlineFailure.objects.filter(kind=kind, row_id=row_id).update(
        attempts=F("attempts") + 1,
        shop_id=shop_id,
        reason_code=code[:60],
        reason=reason,
        last_failed_at=now,
        # The SET reads the attempts before this one: the try that reaches the threshold makes it visible.
        visible_at=Case(When(visible_at__isnull=True, attempts__gte=threshold - 1, then=Value(now)), default=F("visible_at")),
    )
    if not updated:
        DeadlineFailure.objects.bulk_create(
            [
                DeadlineFailure(
                    kind=kind, row_id=row_id, shop_id=shop_id, attempts=1, reason_code=code[:60], reason=reason,
                    first_failed_at=now, last_failed_at=now, visible_at=now if threshold <= 1 else None,
                )
            ],
            ignore_conflicts=True,  # a second sweep recorded it meanwhile: its count stands
        )


def deadline_failure_reason(failure: DeadlineFailure) -> str:
    """Why the row could not be applied, in the reader's language."""
    if not failure.reason:
        return gettext("系统处理出错（%(error)s），已记录日志") % {"error": failure.reason_code}
    # A refusal is stored as raised, in the source language; a message without parameters is its own msgid.
    return gettext(failure.reason)


def _failures_clear(now: datetime) -> None:
    """Forget the failures of rows no longer due (applied, or the world moved on): their to-do goes with them.

    Run after every kind has had its turn, since one kind's work (a cancelled order) can end another's row.
    """
    failing: dict[str, list[int]] = {}
    for name, row_id in DeadlineFailure.objects.values_list("kind", "row_id"):  # usually none: one empty read
        failing.setdefault(name, []).append(row_id)
    for name, row_ids in failing.items():
        kind = _kinds.get(name)
        try:
            still_due = list(kind.due(now).filter(pk__in=row_ids).values_list("pk", flat=True)) if kind else []
        except Exception:
            logger.exception("deadline %s: could not tell which failed rows are still due; kept them", name)
            continue
        DeadlineFailure.objects.filter(kind=name).exclude(row_id__in=still_due).delete()


def deadline_failure_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Due rows of the shop that failed DEADLINE_FAILURES_VISIBLE_AFTER times and are still due, newest first."""
    failures = DeadlineFailure.objects.filter(shop_id=shop_id, visible_at__gt=since, visible_at__lte=now).order_by(
        "-visible_at", "-id"
    )[:limit]
    items = []
    for failure in failures:
        kind = _kinds.get(failure.kind)
        items.append(
            TodoItem(
                key=todo_key("deadline_failed", failure.pk),
                at=failure.visible_at,
                title=gettext_lazy("到期处理多次失败"),
                detail=gettext("%(kind)s · 已失败%(n)d次 · %(reason)s")
                % {"kind": kind.label if kind else failure.kind, "n": failure.attempts, "reason": deadline_failure_reason(failure)},
                url=kind.url(failure.row_id) if kind else "/",
            )
        )
    return items


# --- the sweep ---


@dataclass
class SweepOutcome:
    applied: int = 0
    skipped: int = 0  # due rows walked past: held by another process, refused, or raising
    failed: int = 0  # of those, rows that raised even alone (each counted in a DeadlineFailure)
    broken: bool = False  # the kind itself raised (its due read, say); the kinds after it ran all the same


def _batch_apply(kind: DeadlineKind, rows: list[tuple[int, int | None]], now: datetime, outcome: SweepOutcome) -> int:
    try:
        return kind.apply_due(now=now, ids=[pk for pk, _shop_id in rows])
    except Exception:
        # One row's error rolled the whole batch back: a batch of one each finds the culprit and applies the rest.
        logger.warning("deadline %s: a batch of %d raised; applying its rows one by one", kind.name, len(rows), exc_info=True)
    applied = 0
    for pk, shop_id in rows:
        try:
            applied += kind.apply_due(now=now, ids=[pk])
        except Exception as exc:
            logger.warning("deadline %s: row %s raised; skipped until the next sweep", kind.name, pk, exc_info=True)
            deadline_failure_record(kind=kind.name, row_id=pk, shop_id=shop_id, error=exc)
            outcome.failed += 1
    return applied


def _kind_sweep(kind: DeadlineKind, now: datetime) -> SweepOutcome:
    outcome = SweepOutcome()
    after = 0
    while True:
        # Id order with a cursor: whatever this batch could not apply, the next batch starts after it.
        batch = kind.due(now).filter(pk__gt=after).order_by("pk")
        if kind.shop:
            rows = list(batch.values_list("pk", kind.shop)[: settings.SWEEP_BATCH_SIZE])
        else:
            rows = [(pk, None) for pk in batch.values_list("pk", flat=True)[: settings.SWEEP_BATCH_SIZE]]
        if not rows:
            break
        after = rows[-1][0]
        applied = _batch_apply(kind, rows, now, outcome)
        outcome.applied += applied
        outcome.skipped += len(rows) - applied
    return outcome


def deadlines_sweep_outcomes(*, now: datetime | None = None) -> dict[str, SweepOutcome]:
    """Apply every deadline due by `now`, walking past rows that cannot be applied, and report per kind what it did."""
    now = now or timezone.now()
    outcomes: dict[str, SweepOutcome] = {}
    for kind in _kinds.values():
        try:
            outcome = _kind_sweep(kind, now)
        except Exception:
            logger.exception("deadline %s: the sweep of this kind failed; the other kinds go on", kind.name)
            outcome = SweepOutcome(broken=True)
        if outcome.skipped:
            # A row another process holds is routine (a running job, a clerk's click); a row that raised is not.
            logger.log(
                logging.WARNING if outcome.failed else logging.INFO,
                "deadline %s: %d due rows skipped (held elsewhere, refused or failing), %d of them raised",
                kind.name, outcome.skipped, outcome.failed,
            )
        outcomes[kind.name] = outcome
    _failures_clear(now)
    return outcomes


def deadlines_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Apply every deadline due by `now` and report how many rows per kind were applied."""
    return {name: outcome.applied for name, outcome in deadlines_sweep_outcomes(now=now).items()}


def deadlines_sweep_job() -> dict[str, int]:
    """The periodic RQ job (see shop_admin/cron.py)."""
    return deadlines_sweep()
