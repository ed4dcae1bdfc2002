"""The numbers each shop sets for its own rules within the platform's bounds: one reader per number, set-wise for batches.

A rule asks `shop_rule(shop_id, "ship_promise")` where it once read the process-wide setting; a path that handles many
orders at once reads every shop it touches in one statement (`shop_rules_of`). The platform's defaults and bounds stay
in Django settings; a shop's empty column follows the default, so changing a default moves every shop that kept it.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.events import rules_changed_event
from shop_admin.kernel.models import Shop, ShopRules


def _hours(value: timedelta) -> int:
    return int(value.total_seconds() // 3600)


@dataclass(frozen=True)
class Rule:
    name: str
    column: str  # the ShopRules column; also the form's and the API's field name
    unit: str  # "hours", "days" or "count": how a column's number becomes the rule's value
    label: Any
    default: Callable[[], int]  # the platform's default, in the column's unit
    bounds: Callable[[], tuple[int, int]]  # inclusive (least, most) a shop may set
    choices: Callable[[], tuple[int, ...]] | None = None  # when only these values are allowed

    def value(self, number: int) -> Any:
        if self.unit == "hours":
            return timedelta(hours=number)
        if self.unit == "days":
            return timedelta(days=number)
        return number


def _days(value: timedelta) -> int:
    return value.days


def _hours_rule(name: str, column: str, setting: str, max_setting: str, label) -> Rule:
    """A window in hours: the platform's setting by default, a shop may set it between the minimum and `max_setting`."""
    return Rule(
        name=name,
        column=column,
        unit="hours",
        label=label,
        default=lambda: _hours(getattr(settings, setting)),
        bounds=lambda: (settings.SHOP_RULE_MIN_HOURS, _hours(getattr(settings, max_setting))),
    )


def _confirm(name: str, column: str, category: str, setting: str, label) -> Rule:
    return Rule(
        name=name,
        column=column,
        unit="days",
        label=label,
        default=lambda: _days(getattr(settings, setting)),
        # a buyer never gets less time than the platform's rule to check the goods before the money moves
        bounds=lambda: (_days(getattr(settings, setting)), settings.SHOP_AUTO_CONFIRM_DAYS_MAX[category]),
    )


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            name="ship_promise",
            column="ship_promise_hours",
            unit="hours",
            label=gettext_lazy("发货时效（小时）"),
            default=lambda: _hours(settings.SHIP_DEADLINE),
            bounds=lambda: (min(settings.SHOP_SHIP_PROMISE_HOURS), max(settings.SHOP_SHIP_PROMISE_HOURS)),
            choices=lambda: tuple(settings.SHOP_SHIP_PROMISE_HOURS),
        ),
        _hours_rule("aftersale_reply", "aftersale_reply_hours", "AFTERSALE_REPLY_WINDOW", "AFTERSALE_REPLY_WINDOW", gettext_lazy("售后审核时限（小时）")),
        _hours_rule(
            "aftersale_reply_fragile", "aftersale_reply_hours_fragile", "AFTERSALE_REPLY_WINDOW_FRAGILE", "AFTERSALE_REPLY_WINDOW_FRAGILE",
            gettext_lazy("生鲜易碎售后审核时限（小时）"),
        ),
        _hours_rule("recovery_window", "recovery_window_hours", "ORDER_RECOVERY_WINDOW", "ORDER_RECOVERY_WINDOW_MAX", gettext_lazy("订单召回时限（小时）")),
        _confirm("auto_confirm", "auto_confirm_days", "normal", "AUTO_CONFIRM_AFTER", gettext_lazy("自动确认收货（天）")),
        _confirm("auto_confirm_remote", "auto_confirm_days_remote", "remote", "AUTO_CONFIRM_AFTER_REMOTE", gettext_lazy("偏远地区自动确认收货（天）")),
        _confirm("auto_confirm_fresh", "auto_confirm_days_fresh", "fresh", "AUTO_CONFIRM_AFTER_FRESH", gettext_lazy("生鲜自动确认收货（天）")),
        _confirm("auto_confirm_presale", "auto_confirm_days_presale", "presale", "AUTO_CONFIRM_AFTER_PRESALE", gettext_lazy("预售自动确认收货（天）")),
        Rule(
            name="review_reply",
            column="review_reply_hours",
            unit="hours",
            label=gettext_lazy("差评回复时限（小时）"),
            default=lambda: _hours(settings.REVIEW_REPLY_WITHIN),
            bounds=lambda: (settings.SHOP_RULE_MIN_HOURS, _hours(settings.REVIEW_REPLY_WITHIN_MAX)),
        ),
        Rule(
            name="low_stock_threshold",
            column="low_stock_threshold",
            unit="count",
            label=gettext_lazy("低库存阈值"),
            default=lambda: settings.LOW_STOCK_THRESHOLD,
            bounds=lambda: (0, settings.SHOP_LOW_STOCK_THRESHOLD_MAX),
        ),
    )
}


class ShopRuleValues:
    """One shop's rules as values (timedelta or count); `values.ship_promise`."""

    def __init__(self, numbers: dict[str, int | None]):
        self._numbers = numbers

    def __getattr__(self, name: str) -> Any:
        rule = RULES.get(name)
        if rule is None:
            raise AttributeError(name)
        number = self._numbers.get(rule.column)
        return rule.value(rule.default() if number is None else number)


def shop_rules_of(shop_ids: Iterable[int]) -> dict[int, ShopRuleValues]:
    """Every listed shop's rules, read in one statement: the set-wise paths (imports, listings) ask this once per batch."""
    ids = set(shop_ids)
    columns = [rule.column for rule in RULES.values()]
    rows = {row["shop_id"]: row for row in ShopRules.objects.filter(shop_id__in=ids).values("shop_id", *columns)}
    return {shop_id: ShopRuleValues(rows.get(shop_id, {})) for shop_id in ids}


def shop_rule(shop_id: int, name: str) -> Any:
    """One number of one shop's rules: a timedelta for a window, an int for a count. The one place a rule reads it."""
    rule = RULES[name]
    number = ShopRules.objects.filter(shop_id=shop_id).values_list(rule.column, flat=True).first()
    return rule.value(rule.default() if number is None else number)


def shop_rules_numbers(*, shop_id: int) -> dict[str, dict]:
    """What the settings page shows per rule: the shop's number (None: the default), the default and the bounds."""
    row = ShopRules.objects.filter(shop_id=shop_id).values(*[rule.column for rule in RULES.values()]).first() or {}
    return {
        rule.column: {"rule": rule, "number": row.get(rule.column), "default": rule.default(), "bounds": rule.bounds()}
        for rule in RULES.values()
    }


def _refusal(rule: Rule, number: Any) -> str | None:
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        return _("须为整数")
    if rule.choices is not None and number not in rule.choices():
        return _("只能选择 %(choices)s") % {"choices": " / ".join(str(c) for c in rule.choices())}
    least, most = rule.bounds()
    if not least <= number <= most:
        return _("须在平台允许的 %(least)d 至 %(most)d 之间") % {"least": least, "most": most}
    return None


def shop_rules_update(*, shop: Shop, actor: Actor, numbers: dict[str, int | None]) -> ShopRules:
    """Set some of the shop's numbers (by column; None: back to the platform's default), each within the platform's bounds.

    Refused as a whole, every bad field named, when any is out of bounds; a change writes one audit event listing
    each field's before and after.
    """
    unknown = [column for column in numbers if column not in {rule.column for rule in RULES.values()}]
    if unknown:
        raise Invalid(_("未知的设置项"), code="invalid_input", details={"fields": {column: _("未知的设置项") for column in unknown}})
    rules = {rule.column: rule for rule in RULES.values()}
    errors = {column: reason for column, number in numbers.items() if (reason := _refusal(rules[column], number))}
    if errors:
        raise Invalid(_("店铺设置超出平台允许的范围"), code="invalid_input", details={"fields": errors})
    with transaction.atomic():
        Shop.objects.select_for_update().filter(pk=shop.pk).first()  # two owners saving at once: one after the other
        row, _created = ShopRules.objects.get_or_create(shop=shop)
        changes = {column: [getattr(row, column), number] for column, number in numbers.items() if getattr(row, column) != number}
        if changes:
            for column, (_before, after) in changes.items():
                setattr(row, column, after)
            row.save()
            rules_changed_event(shop=shop, actor=actor, changes=changes)
    return row
