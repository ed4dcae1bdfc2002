"""Each role is offered exactly what it may do: every link, button and form of the console's pages answers it, and
what its role may not do is not drawn (the owner, customer service and the warehouse of the demo shop)."""
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from aftersale.models import AfterSaleCase
from orders.constants import ExceptionStatus, OrderStatus
from orders.models import Order, OrderException
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import page_perm
from shop_admin.kernel.permissions import user_perms
from shop_admin.shell.demo.people import SHOP_1

# Leaving the console or its language is offered to everyone and ends the walk's session: not followed.
NOT_FOLLOWED = ("/logout/", "/i18n/setlang/", "/admin/", "/static/")


class Offers(HTMLParser):
    """The links (GET) and form actions (POST) a page offers, with each form's fields as drawn."""

    def __init__(self):
        super().__init__()
        self.gets: set[str] = set()
        self.posts: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "hx-get"):
            if attrs.get(name) and tag != "link":
                self.gets.add(attrs[name])
        if tag == "form":
            action = attrs.get("action") or ""
            if (attrs.get("method") or "get").lower() == "post":
                self._form = self.posts.setdefault(action, {})
            else:
                self.gets.add(action)
        if tag in ("button", "input") and attrs.get("formaction"):
            self.posts.setdefault(attrs["formaction"], {})
        if attrs.get("hx-post"):
            self.posts.setdefault(attrs["hx-post"], {})
        if tag in ("input", "textarea", "select") and self._form is not None and attrs.get("name"):
            self._form.setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def offers(html: str) -> Offers:
    parser = Offers()
    parser.feed(html)
    return parser


def followed(url: str, page: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("#") or url.startswith("mailto:"):
        return None
    path = parts.path or urlsplit(page).path
    if not path.startswith("/") or path.startswith(NOT_FOLLOWED):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def demo_shop(django_db_setup, django_db_blocker):
    """The demo (orders in every state, exceptions, after-sales) once for the module, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        yield
        transaction.set_rollback(True)


def pages() -> list[str]:
    """Dashboard, lists, and one page of each kind that draws actions: orders in each state, an exception, a case."""
    shop_orders = Order.objects.filter(shop__name=SHOP_1)
    order_pages = [
        f"/orders/{no}/"
        for status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PENDING_PAYMENT)
        for no in shop_orders.filter(status=status).values_list("order_no", flat=True)[:1]
    ]
    exception = OrderException.objects.filter(shop__name=SHOP_1, status=ExceptionStatus.OPEN).first()
    case = AfterSaleCase.objects.filter(shop__name=SHOP_1, status="requested").first()
    return [
        "/", "/orders/", *order_pages, "/exports/", "/imports/", "/logistics/", "/aftersales/", f"/aftersales/{case.pk}/",
        "/exceptions/", f"/exceptions/{exception.pk}/", "/products/",
    ]


def walk(client, username: str) -> tuple[dict[str, Offers], list[tuple[str, str, str, int]]]:
    """Signs in as `username`, opens every page and every link and form action they offer; returns each page's
    offers and the offers answered 403 (method, url, page, status)."""
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    allowed = user_perms(user=user, shop_id=user.memberships.get().shop_id) | {None}
    seen, refused = {}, []
    for page in pages():
        response = client.get(page)
        if page_perm(page) not in allowed:  # a page of another role: refused (and, below, never offered)
            assert response.status_code == 403, (username, page)
            continue
        assert response.status_code == 200, (username, page, response.status_code)
        seen[page] = found = offers(response.content.decode())
        for url in found.gets:
            target = followed(url, page)
            if target and client.get(target).status_code == 403:
                refused.append(("GET", target, page, 403))
        for url, data in found.posts.items():
            target = followed(url, page)
            if target is None:
                continue
            status = client.post(target, data).status_code
            if status == 403:
                refused.append(("POST", target, page, status))
    return seen, refused


def offered(seen: dict[str, Offers]) -> set[str]:
    return {urlsplit(url).path for found in seen.values() for url in (*found.gets, *found.posts)}


@pytest.mark.parametrize("username", ["merchant", "service", "warehouse"])
def test_every_offer_on_every_page_answers_the_role(demo_shop, db, client, username):
    _seen, refused = walk(client, username)
    assert refused == []


def test_the_warehouse_is_not_offered_the_import_nor_after_sale_answers(demo_shop, db, client):
    seen, _refused = walk(client, "warehouse")
    paths = offered(seen)
    assert "/imports/" not in paths
    assert not any(path.endswith("/operate/") for path in paths)
    # It ships: the order page of a paid order offers the ship form, the list the bulk ship.
    assert any(path.endswith("/ship/") for path in paths) and "/logistics/bulk-ship/" in paths


def test_customer_service_is_offered_no_shipping_and_no_settlement_export(demo_shop, db, client):
    seen, _refused = walk(client, "service")
    paths = offered(seen)
    assert not any(path.endswith(("/ship/", "/reship/")) for path in paths)
    assert "/logistics/bulk-ship/" not in paths
    assert "/imports/" in paths
    exports = client.get("/exports/").content.decode()
    assert 'value="orders"' in exports and 'value="aftersales"' in exports
    assert 'value="settlements"' not in exports


def test_the_owner_is_offered_everything(demo_shop, db, client):
    seen, _refused = walk(client, "merchant")
    paths = offered(seen)
    assert {"/imports/", "/exports/", "/logistics/bulk-ship/"} <= paths
    assert 'value="settlements"' in client.get("/exports/").content.decode()


def test_a_settlements_export_is_the_owners_alone(demo_shop, db, client):
    User = get_user_model()
    owner, service = User.objects.get(username="merchant"), User.objects.get(username="service")
    job = background_job_start(shop=owner.memberships.get().shop, user=owner, kind="settlements_export", total=0, params={"filters": {}})
    client.force_login(service)
    assert f"/jobs/{job.pk}/" not in client.get("/exports/").content.decode()
    assert client.get(f"/jobs/{job.pk}/").status_code == 403
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 403
    # A crafted post for the kind it is not offered is refused, not run.
    assert client.post("/exports/", {"what": "settlements"}).status_code == 403
