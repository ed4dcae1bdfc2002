"""Buyers' contact details: masked on every page and in every export, in clear only for roles that may reveal them, each reveal logged."""
import pytest
from django.test import Client

from orders.constants import EventKind
from orders.models import ContactExport, Order, OrderEvent
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import BackgroundJob, Membership
from tests.factories import make_member
from tests.orders.csv_files import read_csv
from tests.orders.exception_helpers import oversold_order

FULL = ("张三", "13800138000", "文三路478号华星时代广场A座1201")  # tests.factories.ADDRESS
MASKED = ("张*", "138****8000", "文三****")


def as_role(shop, role: str) -> Client:
    client = Client()
    client.force_login(make_member(shop, role=role))
    return client


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def export(client: Client, run_jobs, data: dict) -> tuple[BackgroundJob, list[dict]]:
    with run_jobs():
        response = client.post("/exports/", data)
    assert response.status_code == 302, response.status_code
    job = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    content = client.get(f"/jobs/{job.pk}/download/")
    return job, read_csv(b"".join(content.streaming_content))


@pytest.fixture
def two_paid_orders(sku, place_order, pay) -> list[str]:
    numbers = []
    for _n in range(2):
        placed = place_order((sku, 1))
        pay(placed["order_no"])
        numbers.append(placed["order_no"])
    return numbers


def contact(row: dict) -> tuple[str, str, str]:
    return row["收件人"], row["手机号"], row["详细地址"]


def test_an_export_masks_name_phone_and_street_by_default_and_logs_no_reveal(console, run_jobs, two_paid_orders):
    job, rows = export(console, run_jobs, {"what": "orders"})
    assert [contact(r) for r in rows] == [MASKED, MASKED]
    assert (rows[0]["省"], rows[0]["市"], rows[0]["区"]) == ("浙江省", "杭州市", "西湖区")  # the region stays whole
    assert not ContactExport.objects.exists()


def test_a_role_without_reveal_is_not_offered_an_export_in_clear_and_cannot_ask_for_one(shop, run_jobs, two_paid_orders):
    warehouse = as_role(shop, Role.WAREHOUSE)
    assert 'name="full_contact"' not in page(warehouse, "/exports/")
    assert warehouse.post("/exports/", {"what": "orders", "full_contact": "on"}).status_code == 403
    assert not BackgroundJob.objects.filter(kind="orders_export").exists()
    assert not ContactExport.objects.exists()


def test_an_owner_asking_gets_the_export_in_clear_and_one_logged_reveal_with_the_count(console, owner, run_jobs, two_paid_orders):
    assert 'name="full_contact"' in page(console, "/exports/")
    job, rows = export(console, run_jobs, {"what": "orders", "full_contact": "on"})
    assert [contact(r) for r in rows] == [FULL, FULL]
    reveal = ContactExport.objects.get()  # one for the file, whatever the number of orders in it
    assert (reveal.shop_id, reveal.actor_user, reveal.actor_label, reveal.orders, reveal.job_id) == (job.shop_id, owner, owner.username, 2, job.pk)
    assert not OrderEvent.objects.filter(kind=EventKind.PHONE_REVEALED).exists()


def test_the_job_checks_the_role_again_when_it_runs(shop, run_jobs, two_paid_orders):
    """The form was sent by customer service; the role was taken away before the worker got to the job."""
    client = Client()
    user = make_member(shop, role=Role.SERVICE)
    client.force_login(user)
    with run_jobs():
        client.post("/exports/", {"what": "orders", "full_contact": "on"})
        Membership.objects.filter(user=user).update(role=Role.WAREHOUSE)
    job = BackgroundJob.objects.get(kind="orders_export")
    assert job.status == "failed" and not job.result_file
    assert not ContactExport.objects.exists()


def test_pages_mask_name_and_street_as_they_mask_the_phone(console, two_paid_orders):
    listing = page(console, "/orders/")
    assert "张*" in listing and "138****8000" in listing
    detail = page(console, f"/orders/{two_paid_orders[0]}/")
    for shown in MASKED:
        assert shown in detail
    for hidden in FULL:
        assert hidden not in detail and hidden not in listing


def test_the_reveal_shows_name_phone_and_address_together_and_is_logged_once(console, owner, two_paid_orders):
    no = two_paid_orders[0]
    revealed = console.post(f"/orders/{no}/reveal-phone/")
    assert revealed.status_code == 200
    for shown in FULL:
        assert shown in revealed.content.decode()
    event = OrderEvent.objects.get(order__order_no=no, kind=EventKind.PHONE_REVEALED)
    assert (event.actor_user, event.data) == (owner, {"fields": ["name", "phone", "address"]})


def test_a_warehouse_clerk_sees_no_reveal_button_and_cannot_reveal(shop, two_paid_orders):
    warehouse = as_role(shop, Role.WAREHOUSE)
    no = two_paid_orders[0]
    assert f"/orders/{no}/reveal-phone/" not in page(warehouse, f"/orders/{no}/")
    assert warehouse.post(f"/orders/{no}/reveal-phone/").status_code == 403
    assert not OrderEvent.objects.filter(kind=EventKind.PHONE_REVEALED).exists()


def test_the_exception_centre_masks_the_contact_and_offers_the_same_reveal(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    shown = page(console, f"/exceptions/{exception.pk}/")
    for masked in MASKED:
        assert masked in shown
    for hidden in FULL:
        assert hidden not in shown
    assert f'hx-post="/orders/{order.order_no}/reveal-phone/"' in shown


def test_the_merchant_api_stays_unmasked(merchant_api, two_paid_orders):
    status, body = merchant_api.get(f"/merchant/orders/{two_paid_orders[0]}")
    assert status == 200
    assert (body["address"]["name"], body["address"]["phone"]) == ("张三", "13800138000")
    assert Order.objects.get(order_no=two_paid_orders[0]).phone == "13800138000"
