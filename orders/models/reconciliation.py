"""The reconciliation's result per shop and shop-time day, and the run on demand that may be producing it."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.models import BackgroundJob, Shop


class ReconciliationRun(models.Model):
    """One shop's reconciliation of one shop-time day.

    One row per (shop, day): the nightly run writes every shop's row, a run asked for on the
    page writes its shop's; either replaces the row's result, so a day re-run never counts a
    mismatch twice. The row also names the latest run on demand (who, when, its job), whose
    job is the one truth of whether it is queued, running or failed: a crashed or killed
    worker fails the job (`shop_admin.kernel.background`), and the row follows.
    """

    Status = BackgroundJob.Status

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("对账日期"))
    # When the result below was computed; None until the first run of the day has finished.
    ran_at = models.DateTimeField(_("对账时间"), null=True, blank=True)
    checked_orders = models.PositiveIntegerField(_("核对订单数"), default=0)
    checked_payments = models.PositiveIntegerField(_("核对支付数"), default=0)
    # [{code, order_no, shop_id, message, params, expected, actual}]: message ids, read in the reader's language
    mismatches = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("发起人")
    )
    requested_at = models.DateTimeField(_("发起时间"), null=True, blank=True)
    job = models.ForeignKey(BackgroundJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="reconciliation_one_run_per_shop_day")]

    def __str__(self) -> str:
        return _("%(day)s 的对账") % {"day": self.day}

    @property
    def status(self) -> str:
        """queued / running / failed while the latest request has not produced the result shown; done otherwise."""
        job = self.job
        if job is not None and job.status in (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING):
            return job.status
        if job is not None and job.status == BackgroundJob.Status.FAILED and (self.ran_at is None or job.created_at > self.ran_at):
            return job.status  # the nightly run may have written a newer result since: then that one stands
        return BackgroundJob.Status.DONE if self.ran_at else BackgroundJob.Status.QUEUED

    @property
    def in_progress(self) -> bool:
        """A run on demand is queued or running (a row the request has just made has no job yet: not in progress)."""
        return self.job is not None and self.job.status in (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING)

    def get_status_display(self) -> str:
        return str(BackgroundJob.Status(self.status).label)
