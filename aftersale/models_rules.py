"""After-sale rules (自动审核): what a shop lets approve itself, which rule decided each new case, and every change of a rule."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersale.constants import RuleAction, RuleEventKind
from orders.models import MONEY
from shop_admin.kernel.models import Shop


class AfterSaleRule(models.Model):
    """A shop's rule: cases of these types, opened in these order states, for at most this amount (and these reasons)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("规则名称"), max_length=60)
    enabled = models.BooleanField(_("启用"), default=False)
    types = models.JSONField(_("售后类型"), default=list)
    order_states = models.JSONField(_("订单状态"), default=list)
    max_amount = models.DecimalField(_("金额上限"), **MONEY)
    reasons = models.JSONField(_("售后原因"), default=list, blank=True)  # empty: any reason
    # Kept as the merchant sent it; flagged buyers are excluded whatever it says (rule_cases_matching).
    exclude_flagged_buyers = models.BooleanField(_("排除风险买家"), default=True)
    action = models.CharField(_("处理方式"), max_length=30, choices=RuleAction.choices, default=RuleAction.AGREE)
    # Only cases opened since the rule was last enabled are new to it: enabling a rule never reaches back into the queue.
    enabled_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # a rule that decided cases is kept for them, out of every list
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("售后自动审核规则")
        verbose_name_plural = _("售后自动审核规则")
        indexes = [models.Index(fields=["shop", "enabled_at"], name="aftersale_rule_shop_enabled", condition=Q(enabled=True, deleted_at__isnull=True))]

    def __str__(self) -> str:
        return self.name


class RuleDecision(models.Model):
    """A new case the rules looked at, once: the rule that approved it, or none matched (or the approval was refused)."""

    case = models.OneToOneField("aftersale.AfterSaleCase", on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(AfterSaleRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rule_name = models.CharField(max_length=60, blank=True)  # as it was named when it decided
    approved = models.BooleanField(default=False)
    outcome = models.CharField(max_length=60)  # approved / no_match / the refusal's code
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自动审核记录")
        verbose_name_plural = _("自动审核记录")


class AfterSaleRuleEvent(models.Model):
    """Who changed a rule, when and what: append-only."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(AfterSaleRule, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事件"), max_length=20, choices=RuleEventKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("规则操作记录")
        verbose_name_plural = _("规则操作记录")
        indexes = [models.Index(fields=["rule", "created_at"], name="aftersale_rule_event_rule")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("rule events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("rule events are append-only")
