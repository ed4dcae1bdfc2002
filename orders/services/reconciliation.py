"""A shop's reconciliation of one day run on demand: asked for on the page, run as a job, one at a time per shop and day."""
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import ReconciliationRun
from orders.reconcile import RECONCILE_STEPS
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.events import reconciliation_requested_event
from shop_admin.kernel.models import Shop


def reconciliation_day_refusal(day: date) -> Invalid | None:
    """A day that cannot be reconciled: one still to come (shop time; today so far may be), or one past the archive."""
    today = timezone.localdate()
    if day > today:
        return Invalid(
            _("不能对未来的日期对账"), code="reconcile_day_in_future", details={"fields": {"day": _("请选择今天或之前的日期")}}
        )
    if day < today - timedelta(days=settings.RECONCILE_MAX_DAYS_BACK):
        days = settings.RECONCILE_MAX_DAYS_BACK
        return Invalid(
            _("只能对最近%(days)d天内的日期对账") % {"days": days}, code="reconcile_day_too_old", details={"fields": {"day": days}}
        )
    return None


def reconciliation_run_request(*, shop: Shop, actor: Actor, day: date) -> tuple[ReconciliationRun, bool]:
    """Queue the shop's reconciliation of `day`; (the run, whether a new one was queued).

    Asked again while one is queued or running, it answers that run and queues nothing. A day
    already reconciled runs again: its result is replaced (`reconcile_day`), never added to.
    """
    if refusal := reconciliation_day_refusal(day):
        raise refusal
    with transaction.atomic():
        run = _run_locked(shop=shop, day=day)
        if run.in_progress:
            return run, False
        job = background_job_start(
            shop=shop, user=actor.user, kind="orders_reconcile_day", params={"day": day.isoformat()}, total=RECONCILE_STEPS
        )
        run.job, run.requested_by, run.requested_at = job, actor.user, timezone.now()
        run.save(update_fields=["job", "requested_by", "requested_at"])
        reconciliation_requested_event(shop=shop, actor=actor, day=day.isoformat(), job_id=job.pk)
    return run, True


def _run_locked(*, shop: Shop, day: date) -> ReconciliationRun:
    """The shop's row of the day, locked (two clicks at once queue one run); made when the day has none yet."""
    run = ReconciliationRun.objects.select_for_update().filter(shop=shop, day=day).first()
    if run is not None:
        return run
    try:
        with transaction.atomic():
            ReconciliationRun.objects.create(shop=shop, day=day)
    except IntegrityError:
        pass  # made meanwhile by another click or the nightly run: lock that one
    return ReconciliationRun.objects.select_for_update().get(shop=shop, day=day)
