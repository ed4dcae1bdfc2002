"""Exports of buyers' contact details in clear: one append-only row per file, who asked, when and how many orders."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.models import BackgroundJob, Shop


class ContactExport(models.Model):
    """A file of many orders has no one order's timeline to sit on: its reveal is logged here, once per file."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("操作人"), max_length=64, blank=True)
    orders = models.PositiveIntegerField(_("订单数"))
    job = models.ForeignKey(BackgroundJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("明文导出记录")
        verbose_name_plural = _("明文导出记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="contact_export_shop_created")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("contact exports are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("contact exports are append-only")

    def __str__(self) -> str:
        return _("明文导出 #%(id)s（%(orders)s笔订单）") % {"id": self.pk, "orders": self.orders}
