"""The rules' console pages: the owner writes and dry-runs, a refused form keeps its input with the field named, customer
service reads and dry-runs but writes nothing, another shop's rule is a 404, and the case page names the rule that decided."""
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from aftersale.models import AfterSaleRule
from shop_admin.kernel.constants import Role
from tests.factories import make_member, make_shop

FORM = {"name": "小额秒退", "types": ["refund_only"], "order_states": ["received"], "max_amount": "50.00", "reasons": "", "action": "agree"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_refused_rule_keeps_what_was_typed_and_names_the_field(console, settings):
    settings.AFTERSALE_RULE_AMOUNT_MAX = Decimal("70.00")
    page = console.post(reverse("aftersale_rules:new"), {**FORM, "max_amount": "80.00", "intent": "save"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "不能超过平台上限70.00元" in body and 'value="小额秒退"' in body and 'value="80.00"' in body
    assert not AfterSaleRule.objects.exists()


def test_the_owner_dry_runs_saves_and_enables_a_rule_and_the_case_page_names_it(console, shop, order_in, open_case):
    decided_earlier = open_case(order_in("delivered"), "refund_only", amount="30.00")
    page = console.post(reverse("aftersale_rules:new"), {**FORM, "intent": "dry_run", "days": "30"})
    assert page.status_code == 200
    assert page.context["dry_run"]["outcome"].matched == 1 and page.context["dry_run"]["outcome"].sample == [decided_earlier["id"]]
    assert not AfterSaleRule.objects.exists()  # a dry run writes nothing

    assert console.post(reverse("aftersale_rules:new"), {**FORM, "intent": "save"}).status_code == 302
    rule = AfterSaleRule.objects.get(shop=shop)
    assert rule.enabled is False
    assert console.post(reverse("aftersale_rules:toggle", args=[rule.pk]), {"enabled": "1"}).status_code == 302
    assert AfterSaleRule.objects.get(pk=rule.pk).enabled is True

    case = open_case(order_in("delivered"), "refund_only", amount="20.00")
    call_command("sweep_deadlines", stdout=StringIO())
    detail = console.get(reverse("aftersale:detail", args=[case["id"]])).content.decode()
    assert "由规则「小额秒退」自动同意" in detail


def test_customer_service_reads_and_dry_runs_but_does_not_write(shop):
    rule = AfterSaleRule.objects.create(shop=shop, name="小额秒退", types=["refund_only"], order_states=["received"], max_amount="50.00")
    service = signed_in(make_member(shop, role=Role.SERVICE))
    assert "小额秒退" in service.get(reverse("aftersale_rules:list")).content.decode()
    assert service.get(reverse("aftersale_rules:dry_run", args=[rule.pk])).status_code == 200
    assert service.get(reverse("aftersale_rules:new")).status_code == 403
    assert service.post(reverse("aftersale_rules:toggle", args=[rule.pk]), {"enabled": "1"}).status_code == 403
    assert AfterSaleRule.objects.get(pk=rule.pk).enabled is False


def test_another_shops_rule_is_not_found(shop):
    rule = AfterSaleRule.objects.create(shop=shop, name="小额秒退", types=["refund_only"], order_states=["received"], max_amount="50.00")
    stranger = signed_in(make_member(make_shop("隔壁店")))
    assert stranger.get(reverse("aftersale_rules:edit", args=[rule.pk])).status_code == 404
    assert stranger.get(reverse("aftersale_rules:dry_run", args=[rule.pk])).status_code == 404
    assert stranger.post(reverse("aftersale_rules:delete", args=[rule.pk])).status_code == 404
    assert AfterSaleRule.objects.get(pk=rule.pk).deleted_at is None
