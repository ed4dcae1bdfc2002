"""Every console page of the demo shop reads in one language: no Han text in English, no English UI in Chinese, no raw codes.

The demo is seeded once for the module inside a transaction rolled back at the end. What the shop's people wrote
(names, products, addresses, buyers' texts, order numbers) is data and allowed in either language; everything else a
person reads on the page must be in the language the console was asked for.
"""
import html
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from django.utils import timezone, translation

from aftersale import constants as aftersale_constants
from aftersale.models import AfterSaleCase, AfterSaleMessage, AfterSaleRule, ReturnAddress
from logistics import constants as logistics_constants
from logistics.models import Shipment, TrackingEvent
from orders import constants as orders_constants
from orders.constants import ExceptionKind, LedgerKind, OrderStatus
from orders.imports.plan import DOUDIAN_HEADERS, DOUDIAN_KNOWN
from orders.models import Buyer, LedgerEntry, Order, OrderEvent, OrderException, OrderLine, Product, Sku
from orders.reconcile import reconcile_day
from orders.remedies import remedies_all
from orders.resources import EXPORT_HEADERS
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.models import BackgroundJob, Shop, Warehouse
from shop_admin.kernel.text import address_detail_mask, name_mask
from tests.orders.csv_files import csv_file, row

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
SCRIPT = re.compile(r"<(script|style|template)\b.*?</\1>", re.S | re.I)
TITLE = re.compile(r"""\b(?:title|placeholder|aria-label|alt)="([^"]*)\"""")
TAG = re.compile(r"<[^>]+>")
URL = re.compile(r"https?://\S+")
# Words that read the same in both languages: units, formats, brands and the product's own names for things.
ENGLISH_IN_CHINESE = {
    "SKU", "CSV", "PDF", "GMV", "ERP", "API", "ID", "UTF", "GBK", "BOM", "YYYY", "MM", "DD", "HH", "EMS", "ZTO", "YTO",
    "YUNDA", "STO", "SF", "JD", "JT", "SKUs", "GB", "Excel", "manage", "py", "reconcile", "date", "htmx",
    "English", "admin", "csv", "pdf", "Douyin", "App", "UTC",
}


def choice_codes() -> set[str]:
    """Every stored value of the choices in each app's constants.py: the raw codes a person must never read."""
    codes = set()
    for module in (orders_constants, aftersale_constants, logistics_constants):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, models.Choices) and value is not models.Choices:
                codes.update(str(v) for v in value.values)
    codes.update(remedy.name for remedy in remedies_all())
    return codes


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo shop with a reconciliation that found something; rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        # a day the money did not add up: one settlement paid out more than its entry says, and a refund overdue
        completed = Order.objects.filter(shop__name="抖店演示旗舰店", status=OrderStatus.COMPLETED).first()
        entry = LedgerEntry.objects.filter(order=completed, kind=LedgerKind.SETTLEMENT).first()
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("0.01"))
        reconcile_day(day=timezone.localtime(entry.created_at).date())
        yield
        transaction.set_rollback(True)


def data_strings() -> list[str]:
    """What the shop's people wrote or named, longest first (so a name inside an address goes with the address)."""
    strings: set[str] = set()
    strings.update(Shop.objects.values_list("name", flat=True))
    strings.update(Warehouse.objects.values_list("name", flat=True))
    strings.update(Product.objects.values_list("name", flat=True))
    strings.update(Product.objects.values_list("category", flat=True))
    for values in Sku.objects.values_list("spec", "code"):
        strings.update(values)
    for values in OrderLine.objects.values_list("product_name", "spec", "sku_code"):
        strings.update(values)
    for values in Order.objects.values_list(
        "order_no", "recipient_name", "province", "city", "district", "address_detail", "buyer_message", "merchant_remark"
    ):
        strings.update(values)
    # Contact details as pages show them before a reveal: masked, and still the buyer's data.
    for name, detail in Order.objects.values_list("recipient_name", "address_detail"):
        strings.update((name_mask(name), address_detail_mask(detail)))
    strings.update(Buyer.objects.values_list("name", flat=True))
    strings.update(get_user_model().objects.values_list("username", flat=True))
    for values in ReturnAddress.objects.values_list("name", "province", "city", "district", "detail"):
        strings.update(values)
    for values in AfterSaleCase.objects.values_list(
        "reason", "description", "reject_reason", "arbitration_reason", "ruling_note", "return_address"
    ):
        strings.update(values)
    strings.update(AfterSaleMessage.objects.exclude(author="system").values_list("body", flat=True))
    strings.update(AfterSaleRule.objects.values_list("name", flat=True))
    for reasons in AfterSaleRule.objects.values_list("reasons", flat=True):
        strings.update(reasons)
    for values in TrackingEvent.objects.values_list("location", "description"):
        strings.update(values)
    strings.update(Shipment.objects.values_list("tracking_no", flat=True))
    strings.update(OrderException.objects.values_list("note", flat=True))
    for regions in Product.objects.values_list("excluded_regions", flat=True):
        strings.update(regions)
    # What people wrote into the record: a merchant's or buyer's report, a reviewer's note, a refund's reason
    strings.update(OrderException.objects.filter(kind__in=PEOPLES_KINDS).values_list("detail", flat=True))
    strings.update(
        OrderEvent.objects.filter(actor_kind__in=[ActorKind.USER, ActorKind.BUYER, ActorKind.PLATFORM])
        .exclude(data__has_key="reason_params")
        .values_list("reason", flat=True)
    )
    strings.add("简体中文")  # the language menu names each language in itself
    return sorted((s for s in strings if s and len(s) > 1), key=len, reverse=True)


def readable_text(page: str, data: list[str]) -> str:
    """What a person reads on the page, without markup, scripts and the shop's own data."""
    page = SCRIPT.sub(" ", page)
    titles = " ".join(TITLE.findall(page))
    text = html.unescape(TAG.sub(" ", page) + " " + titles)
    for value in data:
        text = text.replace(value, " ")
    return URL.sub(" ", text)


def context(text: str, match: re.Match) -> str:
    return " ".join(text[max(0, match.start() - 40) : match.end() + 40].split())


def problems(text: str, *, language: str, codes: set[str]) -> list[str]:
    found = []
    for match in re.finditer(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text):
        if match.group() in codes:
            found.append(f"raw code {match.group()!r}: …{context(text, match)}…")
    if language == "en":
        found += [f"Chinese {m.group()!r}: …{context(text, m)}…" for m in HAN.finditer(text)]
    else:
        for match in re.finditer(r"\b[A-Za-z][A-Za-z]+\b", text):
            word = match.group()
            if word not in ENGLISH_IN_CHINESE:
                found.append(f"English {word!r}: …{context(text, match)}…")
    return found


def summary(report: dict[str, list[str]]) -> str:
    """Each problem once, with the pages showing it (a timeline entry repeats on every order page)."""
    pages: dict[str, list[str]] = {}
    for path, found in report.items():
        for problem in found:
            pages.setdefault(problem.split(":", 1)[0], []).append(f"{path}: {problem.split(':', 1)[1]}")
    return "\n".join(f"{problem} on {len(where)} page(s), e.g. {where[0]}" for problem, where in sorted(pages.items()))


def csv_vocabulary() -> list[str]:
    """What the merchant writes in an order CSV whatever the console's language: its column names, its statuses
    (Chinese source labels), and what the bad file said. Data on the import pages only."""
    with translation.override("zh-hans"):
        words = {*EXPORT_HEADERS, *DOUDIAN_HEADERS, *DOUDIAN_KNOWN, *(str(label) for label in OrderStatus.labels), *BAD_FILE_VALUES}
    return sorted(words, key=len, reverse=True)


def walk(client: Client, language: str, paths: list[str]) -> dict[str, list[str]]:
    client.cookies["django_language"] = language
    data, codes = data_strings(), choice_codes()
    imports_data = sorted(data + csv_vocabulary(), key=len, reverse=True)
    report = {}
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, (path, response.status_code)
        page_data = imports_data if path.startswith("/imports/") else data
        found = problems(readable_text(response.content.decode(), page_data), language=language, codes=codes)
        if found:
            report[path] = sorted(set(found))
    return report


def console_paths(shop: Shop, bad_import: BackgroundJob) -> list[str]:
    orders = Order.objects.filter(shop=shop)
    paths = ["/", "/orders/", "/logistics/", "/products/", "/exceptions/", "/exceptions/reconciliation/", "/aftersales/",
             "/imports/", f"/imports/{bad_import.pk}/", "/exports/", "/todos/bell/", "/settings/", "/settings/return-addresses/", "/settings/team/",
             "/settings/shop/"]
    paths += [f"/settings/return-addresses/{pk}/" for pk in ReturnAddress.objects.filter(shop=shop).values_list("pk", flat=True)]
    # the after-sale rules: the list, the form, a rule's form and its dry run (a rule of the shop, made if it has none)
    rule = AfterSaleRule.objects.filter(shop=shop, deleted_at__isnull=True).first() or AfterSaleRule.objects.create(
        shop=shop, name="小额秒退", types=["refund_only", "return_refund"], order_states=["received"], max_amount="50.00"
    )
    paths += ["/settings/aftersale-rules/", "/settings/aftersale-rules/new/", f"/settings/aftersale-rules/{rule.pk}/",
              f"/settings/aftersale-rules/{rule.pk}/dry-run/?days=90"]
    paths += [f"/orders/?status={status}" for status in OrderStatus.values]
    # an order of each state, and every one with an exception or an after-sale (the busiest pages)
    picked = {orders.filter(status=status).values_list("order_no", flat=True).first() for status in OrderStatus.values}
    picked.update(OrderException.objects.filter(order__shop=shop).values_list("order__order_no", flat=True))
    picked.update(AfterSaleCase.objects.filter(order__shop=shop).values_list("order__order_no", flat=True))
    paths += [f"/orders/{no}/" for no in sorted(n for n in picked if n)]
    paths += [f"/exceptions/{pk}/" for pk in OrderException.objects.filter(order__shop=shop).values_list("pk", flat=True)]
    paths += [f"/aftersales/{pk}/" for pk in AfterSaleCase.objects.filter(order__shop=shop).values_list("pk", flat=True)]
    return paths


BAD_ROWS = [
    {"订单号": "202611229001", "SKU编码": "NO-SUCH-SKU"},
    {"订单号": "202611229002", "手机号": "12345"},
    {"订单号": "202611229003", "数量": "两个", "下单时间": "昨天"},
    {"订单号": "202611229004", "订单状态": "不知道", "快递公司": "神行快递", "快递单号": "X"},
]
BAD_FILE_VALUES = {"bad.csv", "TEA-1", *(value for changes in BAD_ROWS for value in changes.values())}
PEOPLES_KINDS = [ExceptionKind.MERCHANT_REPORTED, ExceptionKind.NOT_RECEIVED]


def import_with_bad_rows(client: Client, run_jobs) -> BackgroundJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = csv_file([row(**changes) for changes in BAD_ROWS])
    with run_jobs():
        response = client.post("/imports/", {"file": SimpleUploadedFile("bad.csv", content, content_type="text/csv")})
    assert response.status_code == 302, response.content
    job = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.summary["error_count"] >= 4
    return job


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_console_page_reads_in_the_one_language_asked(demo, db, run_jobs, language):
    # given the demo shop's owner, signed in, with an import whose file has bad rows
    shop = Shop.objects.get(name="抖店演示旗舰店")
    client = Client()
    client.force_login(get_user_model().objects.get(username="merchant"))
    client.cookies["django_language"] = language
    bad_import = import_with_bad_rows(client, run_jobs)
    # a day reconciled on demand (who asked shows) and another still queued (its progress shows)
    today = timezone.localdate()
    with run_jobs():
        assert client.post("/exceptions/reconciliation/run/", {"day": today.isoformat()}).status_code == 302
    assert client.post("/exceptions/reconciliation/run/", {"day": (today - timedelta(days=3)).isoformat()}).status_code == 302
    # when every page is read in the language
    report = walk(client, language, console_paths(shop, bad_import))
    # then none shows the other language's text or a raw code
    assert not report, summary(report)


def test_the_arbitrators_dispute_pages_read_in_english_when_asked(demo, db):
    # given the platform's arbitrator in the admin (in Chinese the admin's own chrome has words Django's catalogue
    # leaves in English, "Add link", "Model name": not ours to check here)
    client = Client()
    client.force_login(get_user_model().objects.get(username="arbiter"))
    paths = ["/admin/aftersale/aftersalecase/"]
    paths += [f"/admin/aftersale/aftersalecase/{pk}/change/" for pk in AfterSaleCase.objects.values_list("pk", flat=True)[:6]]
    # when the dispute pages are read, then only the language asked shows
    report = walk(client, "en", paths)
    assert not report, summary(report)
