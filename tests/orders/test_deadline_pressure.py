"""Time pressure on the console: a passed deadline reads 已超时 / Overdue in red everywhere, and "due soon" means not yet passed."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.constants import ExceptionKind
from orders.models import Order, OrderException
from tests.factories import make_sku


def page(client: Client, url: str, language: str = "zh-hans", **query) -> str:
    client.cookies["django_language"] = language
    response = client.get(url, query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def red_badge(html: str, text: str) -> bool:
    return 'class="badge bad"' in html and text in html[html.index('class="badge bad"'):]


@pytest.fixture
def three_paid(shop, place_order, pay):
    """Paid orders shipping late (deadline passed an hour ago), soon (in 2 h) and later (in 40 h)."""
    now = timezone.now()
    orders = {}
    for name, offset in (("late", -timedelta(hours=1)), ("soon", timedelta(hours=2)), ("later", timedelta(hours=40))):
        placed = place_order((make_sku(shop), 1))
        pay(placed["order_no"])
        Order.objects.filter(order_no=placed["order_no"]).update(ship_deadline=now + offset)
        orders[name] = placed["order_no"]
    return orders


def test_the_list_filters_due_soon_without_the_late_ones_and_late_on_their_own(console, three_paid):
    soon = page(console, "/orders/", ship_due="soon")
    assert three_paid["soon"] in soon and three_paid["late"] not in soon and three_paid["later"] not in soon
    late = page(console, "/orders/", ship_due="overdue")
    assert three_paid["late"] in late and three_paid["soon"] not in late and three_paid["later"] not in late
    # and: the filter bar offers it in both languages
    assert "已超时发货" in soon and "Overdue to ship" in page(console, "/orders/", "en", ship_due="overdue")


@pytest.mark.parametrize(("language", "overdue", "left"), [("zh-hans", "已超时 1h 0m", "剩余"), ("en", "Overdue 1h 0m", "left")])
def test_the_list_shows_a_passed_ship_deadline_red_and_overdue_and_a_future_one_counting_down(console, three_paid, language, overdue, left):
    html = page(console, "/orders/", language, status="paid")
    late_row = html[html.index(f">{three_paid['late']}<"):]
    late_row = late_row[: late_row.index("</tr>")]
    assert 'class="badge bad"' in late_row and overdue in late_row.replace("59m", "0m")
    soon_row = html[html.index(f">{three_paid['soon']}<"):]
    soon_row = soon_row[: soon_row.index("</tr>")]
    assert 'class="badge warn"' in soon_row and left in soon_row and "badge bad" not in soon_row


@pytest.mark.parametrize(("language", "overdue"), [("zh-hans", "已超时"), ("en", "Overdue")])
def test_the_order_page_shows_its_passed_ship_deadline_as_overdue(console, three_paid, language, overdue):
    html = page(console, f"/orders/{three_paid['late']}/", language)
    cell = html[html.index('id="ship-deadline"'):]
    cell = cell[: cell.index("</dd>")]
    assert 'class="badge bad"' in cell and overdue in cell
    future = page(console, f"/orders/{three_paid['later']}/", language)
    cell = future[future.index('id="ship-deadline"'):]
    assert "badge bad" not in cell[: cell.index("</dd>")]


@pytest.mark.parametrize(("language", "soon", "late"), [("zh-hans", "即将超时发货", "已超时发货"), ("en", "Due to ship soon", "Overdue to ship")])
def test_the_dashboard_counts_due_soon_and_overdue_apart_and_marks_late_deadlines(console, three_paid, language, soon, late):
    html = page(console, "/", language)
    for label, url, count in ((soon, "/orders/?status=paid&amp;ship_due=soon", 1), (late, "/orders/?status=paid&amp;ship_due=overdue", 1)):
        tile = html[html.index(f'href="{url}"'):]
        tile = tile[: tile.index("</a>")]
        assert label in tile and f"<strong>{count}</strong>" in tile
    # the nearest deadlines: the late order's row is red and says so
    table = html[html.index('id="dl-h"'):]
    table = table[: table.index("</table>")]
    row = next(tr for tr in table.split("<tr>") if f">{three_paid['late']}<" in tr)
    assert 'class="badge bad"' in row and ("已超时" if language == "zh-hans" else "Overdue") in row


@pytest.mark.parametrize(("language", "overdue"), [("zh-hans", "已超时"), ("en", "Overdue")])
def test_the_exception_centre_shows_a_passed_exception_deadline_red_and_overdue(shop, console, three_paid, language, overdue):
    order = Order.objects.get(order_no=three_paid["late"])
    exception = OrderException.objects.create(
        order=order, shop=shop, kind=ExceptionKind.ADDRESS_ANOMALY, detail="缺少门牌号", deadline=timezone.now() - timedelta(hours=3)
    )
    listing = page(console, "/exceptions/", language)
    row = listing[listing.index(f">{order.order_no}<"):]
    row = row[: row.index("</tr>")]
    assert 'class="badge bad"' in row and overdue in row
    detail = page(console, f"/exceptions/{exception.pk}/", language)
    assert red_badge(detail, overdue)
