"""JSON endpoints of the after-sale rules (自动审核): merchants list, write and dry-run their shops' rules.

Customer service may read the rules and dry-run them; only the owner (shop.manage) writes them.
"""
from typing import Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Status

from aftersale.models import AfterSaleRule
from aftersale.rule_selectors import rule_dry_run, rule_get_for_shops, rules_for_shops
from aftersale.services.rules import rule_clean, rule_create, rule_delete, rule_update
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth, RowId, Schema, money_str, time_str
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.permissions import Perm, require_perm, user_can
from shop_admin.kernel.selectors import shop_get, user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant after-sale rules"])


class RuleIn(Schema):
    # The shapes here document the API; `rule_clean` checks the values again (the console's form goes there too), with
    # the platform's cap, and names the field in the reader's language.
    name: str = Field(..., min_length=1, max_length=60)
    enabled: bool = False
    types: list[Literal["refund_only", "return_refund"]] = Field(..., min_length=1, max_length=2, description="claims of money only")
    order_states: list[Literal["not_shipped", "shipped", "received"]] = Field(..., min_length=1, max_length=3)
    max_amount: str = Field(..., pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$", description="yuan, at most the platform's cap")
    reasons: list[str] = Field([], max_length=20, description="empty: any reason")
    exclude_flagged_buyers: bool = Field(True, description="always true in effect: a flagged buyer's case is never approved by a rule")
    action: Literal["agree", "refund_without_return"] = "agree"


class RuleCreateIn(RuleIn):
    shop_id: RowId


class RuleDryRunIn(RuleCreateIn):
    days: int = Field(30, ge=1, le=settings.AFTERSALE_RULE_DRY_RUN_DAYS_MAX)


class RuleOut(Schema):
    id: int
    shop_id: int
    name: str
    enabled: bool
    types: list[str]
    order_states: list[str]
    max_amount: str
    amount_cap: str
    reasons: list[str]
    exclude_flagged_buyers: bool
    action: str
    enabled_at: str | None
    updated_at: str


class RuleListOut(Schema):
    rules: list[RuleOut]


class DryRunOut(Schema):
    matched: int
    amount_total: str
    by_type: dict[str, int]
    sample: list[int]
    days: int


def rule_out(rule: AfterSaleRule) -> dict:
    return {
        "id": rule.pk,
        "shop_id": rule.shop_id,
        "name": rule.name,
        "enabled": rule.enabled,
        "types": rule.types,
        "order_states": rule.order_states,
        "max_amount": money_str(rule.max_amount),
        "amount_cap": money_str(settings.AFTERSALE_RULE_AMOUNT_MAX),
        "reasons": rule.reasons,
        "exclude_flagged_buyers": True,
        "action": rule.action,
        "enabled_at": time_str(rule.enabled_at),
        "updated_at": time_str(rule.updated_at),
    }


def _shop_id_checked(request, shop_id: int, perm: str) -> int:
    if shop_id not in user_shop_ids(user=request.auth):
        raise NotFound(_("店铺不存在"), code="shop_not_found")  # another shop's, or none: the same answer
    require_perm(user=request.auth, shop_id=shop_id, perm=perm)
    return shop_id


def _rule(request, rule_id: int) -> AfterSaleRule:
    rule = rule_get_for_shops(shop_ids=user_shop_ids(user=request.auth), rule_id=rule_id)
    require_perm(user=request.auth, shop_id=rule.shop_id, perm=Perm.SHOP_MANAGE)
    return rule


@merchant_router.get("/aftersale-rules", response={200: RuleListOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_aftersale_rules(request, shop_id: RowId | None = None):
    user = request.auth
    shop_ids = {pk for pk in user_shop_ids(user=user) if user_can(user=user, shop_id=pk, perm=Perm.AFTERSALE)}
    if shop_id is not None:
        shop_ids &= {shop_id}
    return {"rules": [rule_out(rule) for rule in rules_for_shops(shop_ids=shop_ids)]}


@merchant_router.post("/aftersale-rules", response={201: RuleOut, **ERRORS})
def merchant_aftersale_rule_create(request, payload: RuleCreateIn):
    shop_id = _shop_id_checked(request, payload.shop_id, Perm.SHOP_MANAGE)
    rule = rule_create(shop=shop_get(shop_id=shop_id), actor=Actor.for_user(request.auth), data=payload.model_dump(exclude={"shop_id"}))
    return Status(201, rule_out(rule))


@merchant_router.post("/aftersale-rules/dry-run", response={200: DryRunOut, **ERRORS})
def merchant_aftersale_rule_dry_run(request, payload: RuleDryRunIn):
    """The rule as sent, replayed over the shop's cases of the last `days` days; nothing is written."""
    shop_id = _shop_id_checked(request, payload.shop_id, Perm.AFTERSALE)
    rule = AfterSaleRule(shop_id=shop_id, **rule_clean(payload.model_dump(exclude={"shop_id", "days"})))
    outcome = rule_dry_run(rule=rule, days=payload.days, now=timezone.now())
    return {
        "matched": outcome.matched, "amount_total": money_str(outcome.amount_total), "by_type": outcome.by_type,
        "sample": outcome.sample, "days": payload.days,
    }


@merchant_router.put("/aftersale-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def merchant_aftersale_rule_update(request, rule_id: RowId, payload: RuleIn):
    rule = rule_update(rule=_rule(request, rule_id), actor=Actor.for_user(request.auth), data=payload.model_dump())
    return rule_out(rule)


@merchant_router.delete("/aftersale-rules/{rule_id}", response={204: None, **ERRORS})
def merchant_aftersale_rule_delete(request, rule_id: RowId):
    rule_delete(rule=_rule(request, rule_id), actor=Actor.for_user(request.auth))
    return Status(204, None)
