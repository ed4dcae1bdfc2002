"""Reads of the after-sale rules: a shop's rules, the one test of "does this rule match this case", and the dry run."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from aftersale.constants import AfterSaleStatus, RuleOrderState
from aftersale.models import AfterSaleCase, AfterSaleRule, RuleDecision
from shop_admin.kernel.errors import NotFound

ZERO = Decimal("0.00")
DRY_RUN_SAMPLE = 10

# Where the order stood when the case was opened, from the order's own times: a case replayed a month later reads the
# same state it was opened in, so the dry run and the live rule judge a case alike.
_ORDER_STATE_AT_OPENING = {
    RuleOrderState.NOT_SHIPPED: Q(order__shipped_at__isnull=True) | Q(order__shipped_at__gt=F("created_at")),
    RuleOrderState.SHIPPED: Q(order__shipped_at__lte=F("created_at"))
    & (Q(order__delivered_at__isnull=True) | Q(order__delivered_at__gt=F("created_at")))
    & (Q(order__completed_at__isnull=True) | Q(order__completed_at__gt=F("created_at"))),
    RuleOrderState.RECEIVED: Q(order__delivered_at__lte=F("created_at")) | Q(order__completed_at__lte=F("created_at")),
}


def rule_amount_cap(rule: AfterSaleRule) -> Decimal:
    """The most the rule approves: its own amount, never beyond the platform's cap (which may have been lowered since)."""
    return min(rule.max_amount, settings.AFTERSALE_RULE_AMOUNT_MAX)


def rule_cases_matching(*, rule: AfterSaleRule, cases: QuerySet) -> QuerySet:
    """The one test of a rule against cases, set-wise: the dry run, the job and the sweep all ask here.

    Of `cases`: the rule's shop, types, order states at opening and reasons (none: any), a claimed amount within the
    rule's cap; never a flagged buyer's (whatever the rule says: `buyers_flagged` decides who is flagged).
    """
    from aftersale.services.clock_batch import buyers_flagged  # the services import this module: read at call time

    state = Q()
    for name in rule.order_states:
        state |= _ORDER_STATE_AT_OPENING[name]
    matched = cases.filter(state, shop_id=rule.shop_id, type__in=list(rule.types), amount__gt=0, amount__lte=rule_amount_cap(rule))
    if rule.reasons:
        matched = matched.filter(reason__in=list(rule.reasons))
    flagged = buyers_flagged(buyer_ids=list(matched.order_by().values_list("buyer_id", flat=True).distinct()))
    return matched.exclude(buyer_id__in=flagged) if flagged else matched


def rules_for_shops(*, shop_ids) -> QuerySet:
    return AfterSaleRule.objects.filter(shop_id__in=list(shop_ids), deleted_at__isnull=True).order_by("shop_id", "pk")


def rule_get_for_shops(*, shop_ids, rule_id: int) -> AfterSaleRule:
    """A rule of one of these shops; another shop's or a deleted one is not found (the same 404)."""
    rule = rules_for_shops(shop_ids=shop_ids).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("售后规则不存在"), code="rule_not_found")
    return rule


def rules_enabled(*, shop_id: int) -> list[AfterSaleRule]:
    """The shop's enabled rules in the order they are tried: the first that matches decides."""
    return list(AfterSaleRule.objects.filter(shop_id=shop_id, enabled=True, deleted_at__isnull=True).order_by("pk"))


def rule_due(now: datetime) -> QuerySet:
    """New cases the rules have not looked at yet, of shops with a rule enabled before the case was opened."""
    enabled_before = AfterSaleRule.objects.filter(
        shop_id=OuterRef("shop_id"), enabled=True, deleted_at__isnull=True, enabled_at__lte=OuterRef("created_at")
    )
    return AfterSaleCase.objects.filter(
        Exists(enabled_before), ~Exists(RuleDecision.objects.filter(case_id=OuterRef("pk"))),
        status=AfterSaleStatus.REQUESTED, created_at__lte=now,
    )


@dataclass(frozen=True)
class DryRun:
    matched: int
    amount_total: Decimal
    by_type: dict[str, int]
    sample: list[int]


def rule_dry_run(*, rule: AfterSaleRule, days: int, now: datetime) -> DryRun:
    """What the rule would have approved among the shop's cases opened in the last `days` days; reads only."""
    recent = AfterSaleCase.objects.filter(shop_id=rule.shop_id, created_at__gt=now - timedelta(days=days), created_at__lte=now)
    matched = rule_cases_matching(rule=rule, cases=recent)
    by_type = dict(matched.order_by().values("type").annotate(n=Count("pk")).values_list("type", "n"))
    return DryRun(
        matched=sum(by_type.values()),
        amount_total=matched.aggregate(total=Sum("amount"))["total"] or ZERO,
        by_type=dict(by_type),
        sample=list(matched.order_by("-created_at", "-pk").values_list("pk", flat=True)[:DRY_RUN_SAMPLE]),
    )


def rule_approvals_of(*, case_ids) -> dict[int, dict]:
    """The rule that approved each of these cases, as {id, name} (the name it had when it decided)."""
    return {
        case_id: {"id": rule_id, "name": name}
        for case_id, rule_id, name in RuleDecision.objects.filter(case_id__in=list(case_ids), approved=True).values_list(
            "case_id", "rule_id", "rule_name"
        )
    }
