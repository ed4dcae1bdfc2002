"""Logistics forms in the console: a refused form comes back with what was typed; the reship remedy picks a carrier from the list."""
import re

from logistics.forms import ShipForm
from logistics.models import Shipment
from orders.models import Order
from tests.logistics.test_remedies import _not_received


def _form(page: str, action: str) -> str:
    return page.split(f'action="{action}"')[1].split("</form>")[0]


def test_the_reship_remedy_picks_its_carrier_from_the_ship_forms_list(console, sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    page = console.get(f"/exceptions/{exception.pk}/").content.decode()
    reship = page.split('data-remedy="reship"')[1].split("</form>")[0]
    options = re.findall(r'<option value="([^"]+)"', reship.split('name="carrier"')[1].split("</select>")[0])
    assert options == [code for code, _label in ShipForm.base_fields["carrier"].choices]
    assert '<input name="carrier"' not in reship
    # the chosen code ships the new parcel with that carrier
    console.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "reship", "carrier": "SF", "tracking_no": "SF1234567890123"})
    assert Shipment.objects.filter(order=exception.order, is_reship=True).get().carrier == "SF"


def test_a_refused_reship_remedy_keeps_what_was_typed_and_opens_its_form(console, sku, place_order, pay, merchant_api, buyer_api):
    exception = _not_received(sku, place_order, pay, merchant_api, buyer_api)
    response = console.post(
        f"/exceptions/{exception.pk}/resolve/",
        {"remedy": "reship", "carrier": "YTO", "tracking_no": "bad#no", "note": "买家说没收到", "evidence": "https://x.example/a.png"},
        follow=True,
    )
    page = response.content.decode()
    assert 'class="messages"' in page
    reship = page.split('data-remedy="reship"')[0].rsplit("<details", 1)[1] + page.split('data-remedy="reship"')[1].split("</form>")[0]
    assert "open" in reship.split(">")[0]
    assert '<option value="YTO" selected>' in reship and 'value="bad#no"' in reship
    assert 'value="买家说没收到"' in reship and ">https://x.example/a.png</textarea>" in reship
    # the next visit starts clean
    assert "bad#no" not in console.get(f"/exceptions/{exception.pk}/").content.decode()


def test_a_refused_shipment_on_the_order_page_keeps_the_carrier_and_number(console, sku, place_order, pay):
    placed = place_order((sku, 1))
    pay(placed["order_no"])
    response = console.post(
        f"/orders/{placed['order_no']}/ship/", {"carrier": "YTO", "tracking_no": "12", "door_delivery": "on"}, follow=True
    )
    form = _form(response.content.decode(), f"/orders/{placed['order_no']}/ship/")
    assert '<option value="YTO" selected>' in form and 'value="12"' in form and 'value="on" checked' in form
    assert Order.objects.get(order_no=placed["order_no"]).status == "paid"


def test_bulk_shipping_with_a_missing_number_keeps_the_rows_typed(console, sku, place_order, pay):
    numbers = []
    for _ in range(2):
        placed = place_order((sku, 1))
        pay(placed["order_no"])
        numbers.append(placed["order_no"])
    first, second = numbers
    response = console.post(
        "/logistics/bulk-ship/",
        {"order_no": numbers, f"carrier_{first}": "SF", f"tracking_{first}": "SF1234567890123", f"carrier_{second}": "YTO", f"tracking_{second}": ""},
    )
    page = response.content.decode()
    assert response.status_code == 200 and f"{second}：请填写快递单号" in page
    assert 'value="SF1234567890123"' in page
    row = page.split(f'name="carrier_{second}"')[1].split("</select>")[0]
    assert '<option value="YTO" selected>' in row
