"""Console pages of the after-sale rules (自动审核) under /settings/aftersale-rules/.

Whoever answers after-sales (owner, customer service) sees the rules and dry-runs them; only the owner writes them,
as in the API: a rule spends the shop's money without a person looking.
"""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.constants import AfterSaleType, RuleOrderState
from aftersale.forms import RuleForm
from aftersale.models import AfterSaleRule
from aftersale.rule_selectors import rule_amount_cap, rule_dry_run, rule_get_for_shops, rules_for_shops
from aftersale.services.rules import RULE_FIELDS, rule_clean, rule_create, rule_delete, rule_enable, rule_update
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can
from shop_admin.kernel.text import domain_error_text

DRY_RUN_DAYS = 30


def _shop_rule(request, rule_id: int) -> AfterSaleRule:
    return shop_record_or_404(request, lambda shop_ids: rule_get_for_shops(shop_ids=shop_ids, rule_id=rule_id))


def _refused(form: RuleForm, exc: DomainError) -> None:
    # Each field the service named is marked on its input; anything else heads the form.
    named = {f: reason for f, reason in (exc.details.get("fields") or {}).items() if f in form.fields and isinstance(reason, str)}
    for field, reason in named.items():
        form.add_error(field, reason)
    if not named:
        form.add_error(None, domain_error_text(exc, labels=form))


def _dry_run(request, form: RuleForm):
    """The form's rule replayed over the shop's recent cases (nothing written), or None with the form's errors marked."""
    try:
        rule = AfterSaleRule(shop=request.shop, **rule_clean(form.rule_data()))
    except DomainError as exc:
        _refused(form, exc)
        return None
    days = form.cleaned_data.get("days") or DRY_RUN_DAYS
    outcome = rule_dry_run(rule=rule, days=days, now=timezone.now())
    by_type = [(AfterSaleType(code).label, n) for code, n in sorted(outcome.by_type.items())]
    return {"days": days, "outcome": outcome, "by_type": by_type}


def _rule_row(rule: AfterSaleRule) -> dict:
    """A rule as the list reads it: its choices by their labels, in the reader's language."""
    return {
        "rule": rule,
        "types": [AfterSaleType(code).label for code in rule.types],
        "order_states": [RuleOrderState(code).label for code in rule.order_states],
        "cap": rule_amount_cap(rule),
    }


@shop_required(perm=Perm.AFTERSALE)
def rule_list_view(request):
    rows = [_rule_row(rule) for rule in rules_for_shops(shop_ids={request.shop.pk})]
    can_edit = user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.SHOP_MANAGE)
    return render(request, "aftersale/rules.html", {"rows": rows, "can_edit": can_edit, "platform_cap": settings.AFTERSALE_RULE_AMOUNT_MAX})


@shop_required(perm=Perm.AFTERSALE)
def rule_dry_run_view(request, rule_id: int):
    """A saved rule replayed over the last 30 days (or `days`): what it would have approved."""
    rule = _shop_rule(request, rule_id)
    form = RuleForm({**{name: getattr(rule, name) for name in RULE_FIELDS}, "reasons": "\n".join(rule.reasons), "days": request.GET.get("days") or DRY_RUN_DAYS})
    dry_run = _dry_run(request, form) if form.is_valid() else None
    return render(request, "aftersale/rule_dry_run.html", {"rule": rule, "form": form, "dry_run": dry_run})


def _rule_form_page(request, rule: AfterSaleRule | None):
    """GET: the form; POST: a dry run of what is typed (intent=dry_run), or save it. Refused: the form keeps its input."""
    dry_run = None
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            if request.POST.get("intent") == "dry_run":
                dry_run = _dry_run(request, form)
            else:
                actor = Actor.for_user(request.user)
                try:
                    if rule is None:
                        rule_create(shop=request.shop, actor=actor, data=form.rule_data())
                    else:
                        rule_update(rule=rule, actor=actor, data=form.rule_data())
                except DomainError as exc:
                    _refused(form, exc)
                else:
                    messages.success(request, _("规则已保存"))
                    return redirect("aftersale_rules:list")
    elif rule is not None:
        form = RuleForm(initial={**{name: getattr(rule, name) for name in RULE_FIELDS}, "reasons": "\n".join(rule.reasons)})
    else:
        form = RuleForm()
    return render(
        request, "aftersale/rule_edit.html", {"form": form, "rule": rule, "dry_run": dry_run, "platform_cap": settings.AFTERSALE_RULE_AMOUNT_MAX}
    )


@shop_required(perm=Perm.SHOP_MANAGE)
def rule_create_view(request):
    return _rule_form_page(request, None)


@shop_required(perm=Perm.SHOP_MANAGE)
def rule_edit_view(request, rule_id: int):
    return _rule_form_page(request, _shop_rule(request, rule_id))


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def rule_toggle_view(request, rule_id: int):
    rule = rule_enable(rule=_shop_rule(request, rule_id), actor=Actor.for_user(request.user), enabled=request.POST.get("enabled") == "1")
    messages.success(request, _("规则已启用") if rule.enabled else _("规则已停用"))
    return redirect("aftersale_rules:list")


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def rule_delete_view(request, rule_id: int):
    rule_delete(rule=_shop_rule(request, rule_id), actor=Actor.for_user(request.user))
    messages.success(request, _("规则已删除"))
    return redirect("aftersale_rules:list")
