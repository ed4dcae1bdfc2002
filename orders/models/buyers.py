"""Buyers of the app and the answers given to their retried requests."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models.base import _new_token


class Buyer(models.Model):
    name = models.CharField(_("买家"), max_length=64, unique=True)
    api_token = models.CharField(max_length=40, unique=True, default=_new_token)
    is_flagged = models.BooleanField(_("风险标记"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("买家")
        verbose_name_plural = _("买家")

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(models.Model):
    """The answer given to one `Idempotency-Key`, replayed for a retried request."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["buyer", "key"], name="idempotency_unique_buyer_key")]
        # The expiry sweep reads the oldest keys every minute.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return _("幂等记录 %(key)s") % {"key": self.key}
