"""The one audit trail of an order, written by every app through its events module."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.order import Order
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.text import stored_text


class OrderEvent(models.Model):
    """The audit trail: who, when, from, to, why. Append-only; kept at least AUDIT_RETENTION."""

    # PROTECT: an order with a history is never deleted; the database refuses changes to the rows themselves too
    # (migration 0021's trigger), so only `manage.py audit_prune` ever removes one, past AUDIT_RETENTION.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    # No choices: every app registers its own kinds (orders.events), so a new kind needs no migration here.
    kind = models.CharField(max_length=40)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # PROTECT, not SET_NULL: nulling "who" would rewrite a committed audit row, which the database refuses; a user
    # who acted is deactivated, never deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("订单日志")
        verbose_name_plural = _("订单日志")
        ordering = ["created_at", "id"]

    @property
    def reason_text(self) -> str:
        """Why, in the reader's language: a system's reason is a message id with data's reason_params, a person's as written."""
        return stored_text(self.reason, self.data.get("reason_params"))

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("order events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("order events are append-only")

    def __str__(self) -> str:
        return _("订单 %(order)s 的日志 #%(id)s") % {"order": self.order, "id": self.pk}


class AuditPrune(models.Model):
    """One run of `manage.py audit_prune`: who ran it, the cutoff and what it removed. Never pruned itself."""

    ran_by = models.CharField(_("执行人"), max_length=64)
    retention_days = models.PositiveIntegerField(_("保留天数"))
    cutoff = models.DateTimeField(_("删除此前的日志"))
    events_removed = models.PositiveIntegerField(_("删除订单日志条数"))
    adjustments_removed = models.PositiveIntegerField(_("删除库存调整条数"))
    created_at = models.DateTimeField(_("执行时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("日志清理记录")
        verbose_name_plural = _("日志清理记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("日志清理 #%(id)s（保留%(days)s天）") % {"id": self.pk, "days": self.retention_days}
