"""The team (子账号): the owner adds staff by username or invite link, changes roles, disables them, never the last
owner; every change is on the append-only audit trail; finance opens the money's record and nothing else."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.test import Client

from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role, ShopEventKind
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.models import Membership, ShopEvent
from shop_admin.kernel.team import (
    invite_accept,
    invite_create,
    member_add,
    member_disable,
    member_enable,
    member_role_change,
)
from tests import factories
from tests.conftest import ApiClient


@pytest.fixture
def newcomer(db):
    return get_user_model().objects.create_user(username="newcomer", password="pw-123456")


def test_the_owner_adds_an_account_by_username_with_a_role_and_it_is_audited(shop, owner, newcomer):
    membership = member_add(shop=shop, actor=Actor.for_user(owner), username="newcomer", role=Role.WAREHOUSE)
    assert (membership.role, membership.is_active) == (Role.WAREHOUSE, True)
    event = ShopEvent.objects.get(shop=shop, kind=ShopEventKind.MEMBER_ADDED)
    assert (event.actor_user, event.member_user, event.data) == (owner, newcomer, {"role": "warehouse"})


def test_an_unknown_username_or_role_is_refused_naming_the_field(shop, owner):
    with pytest.raises(Invalid) as unknown:
        member_add(shop=shop, actor=Actor.for_user(owner), username="nobody", role=Role.SERVICE)
    assert "username" in unknown.value.details["fields"]
    with pytest.raises(Invalid) as bad_role:
        member_add(shop=shop, actor=Actor.for_user(owner), username="owner", role="boss")
    assert "role" in bad_role.value.details["fields"]


def test_adding_a_member_twice_is_a_conflict(shop, owner, newcomer):
    member_add(shop=shop, actor=Actor.for_user(owner), username="newcomer", role=Role.SERVICE)
    with pytest.raises(Conflict):
        member_add(shop=shop, actor=Actor.for_user(owner), username="newcomer", role=Role.OWNER)


def test_an_invite_link_joins_the_user_who_opens_it_with_its_role(shop, owner, newcomer):
    token = invite_create(shop=shop, actor=Actor.for_user(owner), role=Role.FINANCE)
    client = Client()
    client.force_login(newcomer)
    page = client.get(f"/settings/team/join/{token}/")
    assert page.status_code == 200 and shop.name in page.content.decode()
    assert client.post(f"/settings/team/join/{token}/").status_code == 302
    membership = Membership.objects.get(shop=shop, user=newcomer)
    assert membership.role == Role.FINANCE
    joined = ShopEvent.objects.get(shop=shop, kind=ShopEventKind.MEMBER_JOINED)
    assert joined.data == {"role": "finance", "invited_by": owner.pk}


def test_a_new_user_opening_the_invite_creates_an_account_and_joins(shop, owner):
    token = invite_create(shop=shop, actor=Actor.for_user(owner), role=Role.SERVICE)
    client = Client()
    response = client.post(f"/settings/team/join/{token}/", {"username": "fresh", "password1": "Long-pass-2024", "password2": "Long-pass-2024"})
    assert response.status_code == 302, response.content.decode()
    assert Membership.objects.get(shop=shop, user__username="fresh").role == Role.SERVICE
    assert client.get("/orders/").status_code == 200  # signed in, working in the shop


def test_an_expired_or_forged_invite_is_refused(shop, owner, newcomer, settings):
    token = invite_create(shop=shop, actor=Actor.for_user(owner), role=Role.SERVICE)
    with pytest.raises(Invalid) as forged:
        invite_accept(token=token[:-2] + "xx", user=newcomer)
    assert forged.value.code == "invite_invalid"
    settings.TEAM_INVITE_MAX_AGE = timedelta(seconds=-1)
    with pytest.raises(Invalid) as expired:
        invite_accept(token=token, user=newcomer)
    assert expired.value.code == "invite_expired"
    assert not Membership.objects.filter(user=newcomer).exists()


def test_an_invite_dies_with_its_owners_right_to_manage_the_team(shop, owner, newcomer):
    second = factories.make_member(shop, role=Role.OWNER)
    token = invite_create(shop=shop, actor=Actor.for_user(second), role=Role.OWNER)
    member_role_change(membership=Membership.objects.get(user=second), actor=Actor.for_user(owner), role=Role.SERVICE)
    with pytest.raises(Invalid):
        invite_accept(token=token, user=newcomer)


def test_changing_a_role_changes_what_the_member_may_open(shop, owner):
    service = factories.make_member(shop, role=Role.SERVICE)
    client = Client()
    client.force_login(service)
    assert client.get("/exceptions/reconciliation/").status_code == 403
    member_role_change(membership=Membership.objects.get(user=service), actor=Actor.for_user(owner), role=Role.FINANCE)
    assert client.get("/exceptions/reconciliation/").status_code == 200
    event = ShopEvent.objects.get(kind=ShopEventKind.MEMBER_ROLE_CHANGED)
    assert event.data == {"from": "service", "to": "finance"}


def test_a_disabled_member_no_longer_opens_the_shop_nor_its_api(shop, owner, sku, place_order):
    order = place_order((sku, 1))
    service = factories.make_member(shop, role=Role.SERVICE)
    client, api = Client(), ApiClient(service.api_token.key)
    client.force_login(service)
    assert client.get("/orders/").status_code == 200
    assert api.get(f"/merchant/orders/{order['order_no']}")[0] == 200
    member_disable(membership=Membership.objects.get(user=service), actor=Actor.for_user(owner))
    assert client.get("/orders/").status_code == 302  # no shop to work in any more: off to the (empty) chooser
    assert api.get(f"/merchant/orders/{order['order_no']}")[0] == 404
    member_enable(membership=Membership.objects.get(user=service), actor=Actor.for_user(owner))
    assert client.get("/orders/").status_code == 200
    kinds = list(ShopEvent.objects.filter(shop=shop).order_by("pk").values_list("kind", flat=True))
    assert kinds == [ShopEventKind.MEMBER_DISABLED, ShopEventKind.MEMBER_ENABLED]


def test_finance_reads_no_order_through_the_api(shop, sku, place_order):
    order = place_order((sku, 1))
    finance = factories.make_member(shop, role=Role.FINANCE)
    assert ApiClient(finance.api_token.key).get(f"/merchant/orders/{order['order_no']}")[0] == 404


def test_the_last_active_owner_can_be_neither_demoted_nor_disabled(shop, owner):
    membership = Membership.objects.get(user=owner)
    with pytest.raises(Invalid) as demoted:
        member_role_change(membership=membership, actor=Actor.for_user(owner), role=Role.SERVICE)
    assert demoted.value.code == "last_owner" and demoted.value.status == 422
    with pytest.raises(Invalid):
        member_disable(membership=membership, actor=Actor.for_user(owner))
    # a second owner, disabled, does not count
    second = factories.make_member(shop, role=Role.OWNER)
    member_disable(membership=Membership.objects.get(user=second), actor=Actor.for_user(owner))
    with pytest.raises(Invalid):
        member_disable(membership=membership, actor=Actor.for_user(owner))
    assert Membership.objects.get(user=owner).is_active and Membership.objects.get(user=owner).role == Role.OWNER


def test_the_last_owner_refusal_in_the_console_names_why(shop, owner, console):
    membership = Membership.objects.get(user=owner)
    response = console.post(f"/settings/team/{membership.pk}/disable/", follow=True)
    assert "店铺至少要保留一名启用的店主" in response.content.decode()
    assert Membership.objects.get(user=owner).is_active


def test_the_team_audit_is_append_only(shop, owner, newcomer):
    member_add(shop=shop, actor=Actor.for_user(owner), username="newcomer", role=Role.SERVICE)
    event = ShopEvent.objects.get()
    # committed rows only are on the record: the trigger refuses a change to a row of an earlier transaction
    with pytest.raises(DatabaseError), transaction.atomic():
        ShopEvent.objects.filter(pk=event.pk).delete()


def test_another_shops_member_is_a_404_and_its_owner_cannot_touch_ours(shop, owner):
    other = factories.make_shop()
    other_owner = factories.make_member(other, role=Role.OWNER)
    ours = factories.make_member(shop, role=Role.SERVICE)
    client = Client()
    client.force_login(other_owner)
    membership = Membership.objects.get(user=ours)
    assert client.post(f"/settings/team/{membership.pk}/disable/").status_code == 404
    assert client.post(f"/settings/team/{membership.pk}/role/", {"role": "owner"}).status_code == 404
    assert Membership.objects.get(user=ours).is_active
    assert ours.username not in client.get("/settings/team/").content.decode()


def test_only_the_owner_opens_the_team_and_shop_settings(shop, owner):
    for role in (Role.SERVICE, Role.WAREHOUSE, Role.FINANCE):
        client = Client()
        client.force_login(factories.make_member(shop, role=role))
        assert client.get("/settings/team/").status_code == 403
        assert client.get("/settings/shop/").status_code == 403
        assert "/settings/team/" not in client.get("/settings/").content.decode()


def test_finance_is_offered_and_let_into_reconciliation_and_settlements_only(shop, owner):
    finance = factories.make_member(shop, role=Role.FINANCE)
    client = Client()
    client.force_login(finance)
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == "/exceptions/reconciliation/"
    nav = home.content.decode()
    assert 'href="/exceptions/reconciliation/"' in nav and 'href="/exports/"' in nav
    for hidden in ("/orders/", "/aftersales/", "/logistics/", "/products/", "/imports/", "/marketing/coupons/"):
        assert f'href="{hidden}"' not in nav, hidden
        assert client.get(hidden).status_code == 403, hidden
    exports = client.get("/exports/").content.decode()
    assert 'value="settlements"' in exports and 'value="orders"' not in exports
    assert client.post("/exports/", {"what": "orders"}).status_code == 403
    assert client.post("/exports/", {"what": "settlements"}).status_code == 302


def test_a_disabled_members_enable_button_and_an_active_members_state_read_differently_in_english(shop, owner, newcomer, console):
    # 启用 is both the state ("Active") and the button ("Enable"): the button's text has a context of its own.
    member_add(shop=shop, actor=Actor.for_user(owner), username="newcomer", role=Role.SERVICE)
    member_disable(membership=Membership.objects.get(user=newcomer), actor=Actor.for_user(owner))
    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = console.get("/settings/team/").content.decode()
    assert ">Enable</button>" in page and ">Active</td>" in page
