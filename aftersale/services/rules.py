"""After-sale rules (自动审核): a shop's rules written and audited, and a new case approved by the first rule that matches.

A rule approves through `aftersale_agree`, the merchant's own agree, with the rule named on its event. The
RQ wake-up (enqueued when a case is opened) and the sweep take the same path, `aftersale_rule_apply`, a
deadline kind whose due rows are the new cases no rule has looked at yet; looking at a case writes its
`RuleDecision` (approved or not) in the same transaction, which is what makes a second run do nothing.
"""
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersale.constants import REFUND_TYPES, AfterSaleStatus, AfterSaleType, RuleAction, RuleEventKind, RuleOrderState
from aftersale.models import AfterSaleCase, AfterSaleRule, AfterSaleRuleEvent, RuleDecision
from aftersale.rule_selectors import rule_cases_matching, rule_due, rules_enabled
from aftersale.services.review import aftersale_agree
from orders.models import Order
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import DomainError, Invalid

logger = logging.getLogger(__name__)

RULE_FIELDS = ("name", "enabled", "types", "order_states", "max_amount", "reasons", "exclude_flagged_buyers", "action")
RULE_ACTOR = "aftersale_rule"  # the timeline's actor of what a rule did (its label is registered by the app)


def _choices(value, allowed, field: str, errors: dict) -> list[str]:
    items = list(dict.fromkeys(value or []))
    if not items:
        errors[field] = _("至少选择一项")
    elif any(item not in allowed for item in items):
        errors[field] = _("包含不支持的选项")
    return items


def rule_clean(data: dict) -> dict:
    """A rule's fields checked (422 naming each wrong field): refund types only, an amount within the platform's cap."""
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写规则名称")
    elif len(name) > 60:
        errors["name"] = _("最多60个字")
    # Rules approve money claims only: the amount is what bounds them (exchange, repair and reship claim goods).
    types = _choices(data.get("types"), REFUND_TYPES, "types", errors)
    states = _choices(data.get("order_states"), RuleOrderState.values, "order_states", errors)
    reasons = [str(r).strip()[:100] for r in (data.get("reasons") or []) if str(r).strip()]
    if len(reasons) > 20:
        errors["reasons"] = _("最多20个原因")
    cap = settings.AFTERSALE_RULE_AMOUNT_MAX
    try:
        amount = Decimal(str(data.get("max_amount")))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        errors["max_amount"] = _("须为大于0的金额，最多两位小数")
    elif amount > cap:
        errors["max_amount"] = _("不能超过平台上限%(cap)s元") % {"cap": cap}
    action = data.get("action") or RuleAction.AGREE
    if action not in RuleAction.values:
        errors["action"] = _("不支持的处理方式")
    if errors:
        raise Invalid(_("规则有误"), code="invalid_input", details={"fields": errors})
    return {
        "name": name, "enabled": bool(data.get("enabled")), "types": types, "order_states": states, "max_amount": amount,
        "reasons": reasons, "exclude_flagged_buyers": True, "action": action,
    }


def _plain(value):
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def _event(rule: AfterSaleRule, kind: str, actor: Actor, data: dict) -> None:
    AfterSaleRuleEvent.objects.create(shop_id=rule.shop_id, rule=rule, kind=kind, actor_user=actor.user, data=data)


def rule_create(*, shop, actor: Actor, data: dict) -> AfterSaleRule:
    fields = rule_clean(data)
    with transaction.atomic():
        rule = AfterSaleRule.objects.create(shop=shop, enabled_at=timezone.now() if fields["enabled"] else None, **fields)
        _event(rule, RuleEventKind.CREATED, actor, {name: _plain(fields[name]) for name in RULE_FIELDS})
    return rule


def rule_update(*, rule: AfterSaleRule, actor: Actor, data: dict) -> AfterSaleRule:
    """Change a rule (the whole body); the event holds each field that changed, [before, after]. Enabling starts it now."""
    fields = rule_clean(data)
    with transaction.atomic():
        rule = AfterSaleRule.objects.select_for_update().get(pk=rule.pk)
        changes = {name: [_plain(getattr(rule, name)), _plain(value)] for name, value in fields.items() if getattr(rule, name) != value}
        if not changes:
            return rule
        if fields["enabled"] and not rule.enabled:
            rule.enabled_at = timezone.now()
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.save()
        _event(rule, RuleEventKind.CHANGED, actor, {"changes": changes})
    return rule


def rule_enable(*, rule: AfterSaleRule, actor: Actor, enabled: bool) -> AfterSaleRule:
    """The console's switch: the rule as it is, enabled or not."""
    return rule_update(rule=rule, actor=actor, data={**{name: getattr(rule, name) for name in RULE_FIELDS}, "enabled": enabled})


def rule_delete(*, rule: AfterSaleRule, actor: Actor) -> None:
    """Gone from every list and never applied again; kept for the cases it decided and its audit."""
    with transaction.atomic():
        rule = AfterSaleRule.objects.select_for_update().get(pk=rule.pk)
        rule.enabled, rule.deleted_at = False, timezone.now()
        rule.save()
        _event(rule, RuleEventKind.DELETED, actor, {"name": rule.name})


def rule_wake_schedule(*, case: AfterSaleCase) -> None:
    """A case just opened in a shop with a rule enabled: the rules look at it as soon as the transaction commits."""
    if rules_enabled(shop_id=case.shop_id):
        deadline_schedule(name="aftersale_rule_apply", pk=case.pk, at=case.created_at)


def _decide(case: AfterSaleCase, now: datetime) -> None:
    """The first enabled rule that matches approves the case, as the merchant's agree; no match leaves it to the merchant."""
    rule = next(
        (
            r for r in rules_enabled(shop_id=case.shop_id)
            if r.enabled_at <= case.created_at and rule_cases_matching(rule=r, cases=AfterSaleCase.objects.filter(pk=case.pk)).exists()
        ),
        None,
    )
    if rule is None:
        RuleDecision.objects.create(case=case, outcome="no_match")
        return
    try:
        with transaction.atomic():
            without_return = rule.action == RuleAction.REFUND_WITHOUT_RETURN and case.type == AfterSaleType.RETURN_REFUND
            aftersale_agree(case=case, actor=Actor.system(RULE_ACTOR), without_return=without_return, rule=rule)
            RuleDecision.objects.create(case=case, rule=rule, rule_name=rule.name, approved=True, outcome="approved")
    except DomainError as exc:
        # Refused (no return address, the money already gone): the merchant answers it as any case; noted once.
        logger.warning("after-sale case %s: rule %s refused: %s", case.pk, rule.pk, exc.message)
        RuleDecision.objects.create(case=case, rule=rule, rule_name=rule.name, outcome=exc.code[:60])


def aftersale_rule_apply(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: the rules look at each new case once (a wake-up for one case, or the sweep's batch); returns how many.

    Each case in its own transaction: its order and the case locked (SKIP LOCKED: one a clerk is answering is left to
    the next sweep), re-checked under the lock (still waiting, still undecided), then decided.
    """
    due = rule_due(now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    looked = 0
    for case_id, order_id in due.order_by("pk").values_list("pk", "order_id")[: settings.SWEEP_BATCH_SIZE]:
        with transaction.atomic():
            if Order.objects.select_for_update(skip_locked=True).filter(pk=order_id).values_list("pk", flat=True).first() is None:
                continue
            case = (
                rule_due(now).select_for_update(skip_locked=True, of=("self",)).filter(pk=case_id, status=AfterSaleStatus.REQUESTED).first()
            )
            if case is None:
                continue
            _decide(case, now)
            looked += 1
    return looked
