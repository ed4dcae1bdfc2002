"""The one audit trail of an order, written by every app through its events module."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.order import Order
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.text import stored_text


class OrderEvent(models.Model):
    """The audit trail: who, when, from, to, why. Append-only; kept at least AUDIT_RETENTION."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    # No choices: every app registers its own kinds (orders.events), so a new kind needs no migration here.
    kind = models.CharField(max_length=40)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
