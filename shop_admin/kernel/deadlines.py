"""The one deadline mechanism: the due time is a column, RQ wakes us at it, and a sweep catches what a lost job missed.

Each app registers its deadline kinds in `AppConfig.ready()` with the service
`apply_due(*, now, ids=None) -> int` whose name is the kind's name (one name for the
kind, the job and the service, e.g. `order_pay_timeout`). It locks the due rows (all of them when
`ids` is None, at most a batch), re-checks state and due time under the lock,
applies the service and returns how many it applied. Such a function is safe to
run any number of times, by a job or by the sweep, in any order.
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from shop_admin.kernel.queues import redis_after_commit, rq_queue

logger = logging.getLogger(__name__)

QUEUE_NAME = "deadlines"


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    apply_due: Callable[..., int]
    label: str


_kinds: dict[str, DeadlineKind] = {}


def deadline_register(*, apply_due: Callable[..., int], label: str) -> None:
    """Register the service that applies a deadline; the kind is named after it."""
    name = apply_due.__name__
    if name in _kinds and _kinds[name].apply_due is not apply_due:
        raise ValueError(f"deadline kind {name!r} is registered twice")
    _kinds[name] = DeadlineKind(name=name, apply_due=apply_due, label=label)


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


def deadlines_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Apply every deadline due by `now`, batch after batch, and report how many per kind."""
    now = now or timezone.now()
    applied: dict[str, int] = {}
    for kind in _kinds.values():
        total = 0
        while True:
            count = kind.apply_due(now=now, ids=None)
            total += count
            if count == 0:
                break
        applied[kind.name] = total
    return applied


def deadlines_sweep_job() -> dict[str, int]:
    """The periodic RQ job (see shop_admin/cron.py)."""
    return deadlines_sweep()
