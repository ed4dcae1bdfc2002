"""The return address book (退货地址库): a shop's addresses for returns, one of them the default."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.models import Shop


class ReturnAddress(models.Model):
    """One address of the shop's return address book (退货地址库); agreeing to a return sends the buyer one of them."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("收件人"), max_length=40)
    phone = models.CharField(_("手机号"), max_length=11)
    province = models.CharField(_("省"), max_length=30)
    city = models.CharField(_("市"), max_length=30)
    district = models.CharField(_("区"), max_length=30)
    detail = models.CharField(_("详细地址"), max_length=200)
    is_default = models.BooleanField(_("默认"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("退货地址")
        verbose_name_plural = _("退货地址")
        ordering = ["-is_default", "id"]
        constraints = [
            # A shop has at most one default; the service unsets the old one in the same transaction as it sets the new.
            models.UniqueConstraint(fields=["shop"], condition=Q(is_default=True), name="aftersale_one_default_return_address"),
        ]
        indexes = [models.Index(fields=["shop", "id"], name="aftersale_return_address_shop")]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The address as the buyer writes it on the parcel (what a case keeps)."""
        return f"{self.province}{self.city}{self.district}{self.detail} {self.name} {self.phone}"
