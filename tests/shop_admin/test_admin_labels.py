"""The platform's admin names every row by what it is and shows times in shop time."""
import re
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def superuser(demo, db, client):
    client.force_login(get_user_model().objects.create_superuser("walker", "", "pw-123456"))
    return client


def test_every_changelist_and_a_change_page_name_their_rows(superuser):
    unnamed = []
    for model in admin.site._registry:
        meta = model._meta
        pages = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
        record = model._default_manager.order_by("pk").first()
        if record is not None:
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]))
        for url in pages:
            page = superuser.get(url)
            assert page.status_code == 200, url
            text = page.content.decode()
            for hit in re.findall(r".{60}object \(.{20}", text):
                unnamed.append((url, hit))
    assert unnamed == []


HAN_OFFSET = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} \+0800")


@pytest.mark.parametrize("model_name", ["orders.order", "aftersale.aftersalecase"])
def test_an_order_and_a_case_read_in_shop_time_with_their_rows_named(superuser, model_name):
    from django.apps import apps
    from django.utils import timezone

    model = apps.get_model(model_name)
    record = model._default_manager.filter(**({"lines__isnull": False} if model_name == "aftersale.aftersalecase" else {})).order_by("pk").first()
    page = superuser.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[record.pk])).content.decode()
    assert "object (" not in page
    # the inline rows say what they are: the lines by product and quantity
    line = record.lines.order_by("pk").first()
    assert escape(str(line)) in page and f"×{line.quantity}" in str(line)
    created = timezone.localtime(record.created_at)
    assert f"{created.year}年{created.month}月{created.day}日 {created:%H:%M} +0800" in page
    # no time on the page is drawn without its offset (a strftime of a UTC value would be)
    assert HAN_OFFSET.search(page)
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?! \+0800)", page)
