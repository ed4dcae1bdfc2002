"""The platform's arbitrator in the admin: reads every record the admin shows, edits no money or stock, and resolves
an exception through the action that calls the service (the demo's `arbiter`, in the arbitrators group)."""
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from aftersale.roles import NOT_READ
from orders.constants import ExceptionStatus
from orders.models import LedgerEntry, OrderException, Payment, Settlement, StockLevel


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def arbiter_client(demo, db, client):
    client.force_login(get_user_model().objects.get(username="arbiter"))
    return client


def test_the_arbitrator_reads_the_list_and_a_record_of_every_model_the_admin_shows(arbiter_client):
    read = 0
    for model in admin.site._registry:
        meta = model._meta
        if (meta.app_label, meta.model_name) in NOT_READ:
            continue
        changelist = arbiter_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert changelist.status_code == 200, meta.label
        record = model._default_manager.order_by("pk").first()
        if record is not None:
            page = arbiter_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]))
            assert page.status_code == 200, meta.label
            read += 1
    assert read >= 10
    # Credentials stay platform ops' business.
    assert arbiter_client.get(reverse("admin:shop_admin_merchantapitoken_changelist")).status_code == 403


@pytest.mark.parametrize("model", [Payment, LedgerEntry, Settlement, StockLevel])
def test_money_and_stock_are_not_editable_by_the_arbitrator(arbiter_client, model):
    record = model._default_manager.order_by("pk").first()
    meta = model._meta
    page = arbiter_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    refused = arbiter_client.post(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]), {})
    assert refused.status_code == 403


def test_the_arbitrator_resolves_an_exception_through_the_admin_action(arbiter_client):
    exception = OrderException.objects.filter(status=ExceptionStatus.OPEN).order_by("pk").first()
    response = arbiter_client.post(
        reverse("admin:orders_orderexception_changelist"),
        {"action": "action", "_selected_action": [exception.pk], "index": 0},
    )
    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED
    # The service wrote the order's timeline, as the platform.
    assert exception.order.events.filter(kind="exception_resolved", actor_kind="platform").exists()
