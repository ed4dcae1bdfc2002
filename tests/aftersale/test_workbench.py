"""The after-sale workbench in the console: the list by deadline, a case with exactly its actions, each action audited."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersale.models import AfterSaleCase
from orders.models import OrderEvent
from shop_admin.kernel.constants import Role
from tests.factories import make_member, make_shop


def test_the_list_sorts_by_nearest_deadline_with_a_countdown_and_filters(order_in, open_case, console, tea):
    first = open_case(order_in("delivered"), "return_refund")
    second = open_case(order_in("delivered"), "exchange", items=[{"sku_id": tea.pk, "quantity": 1}])
    AfterSaleCase.objects.filter(pk=second["id"]).update(due_at=timezone.now() + timedelta(hours=2))
    page = console.get("/aftersales/").content.decode()
    assert page.index(f"#{second['id']}") < page.index(f"#{first['id']}")
    assert "data-deadline=" in page and "console/deadline.js" in page
    only_exchange = console.get("/aftersales/?type=exchange").content.decode()
    assert f"#{second['id']}" in only_exchange and f"#{first['id']}<" not in only_exchange
    by_order = console.get(f"/aftersales/?order={first['order_no']}").content.decode()
    assert f"#{first['id']}" in by_order and f"#{second['id']}<" not in by_order
    assert console.get("/aftersales/?order=abc&status=nope").status_code == 200  # a bad filter is an error on the page


def test_the_case_page_shows_evidence_thread_timeline_and_only_allowed_actions(order_in, open_case, console):
    case = open_case(order_in("delivered"), "return_refund", description="杯子有裂纹")
    page = console.get(f"/aftersales/{case['id']}/").content.decode()
    assert '<img src="https://img.example.com/a.jpg"' in page
    assert "杯子有裂纹" in page and "申请售后" in page
    assert 'value="agree"' in page and 'value="reject"' in page and 'value="message"' in page
    assert 'value="refund"' not in page and 'value="confirm_return"' not in page


def test_actions_from_the_console_move_the_case_and_are_audited(order_in, open_case, console):
    case = open_case(order_in("delivered"), "return_refund")
    url = f"/aftersales/{case['id']}/operate/"
    console.post(url, {"action": "message", "message": "请补充照片"})
    response = console.post(url, {"action": "agree"}, follow=True)
    assert "已同意" in response.content.decode()
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "awaiting_return"
    # an action the state no longer allows is refused with the reason, not a 500
    response = console.post(url, {"action": "refund"}, follow=True)
    assert response.status_code == 200 and "不能退款" in response.content.decode()
    kinds = set(OrderEvent.objects.filter(data__aftersale_id=case["id"]).values_list("kind", flat=True))
    assert {"aftersale_opened", "aftersale_message", "aftersale_agreed"} <= kinds
    agreed = OrderEvent.objects.get(kind="aftersale_agreed", data__aftersale_id=case["id"])
    assert agreed.actor_label == "owner" and agreed.from_status == "negotiating" and agreed.to_status == "awaiting_return"


def test_reject_from_the_console_needs_reason_and_evidence(order_in, open_case, console):
    case = open_case(order_in("delivered"), "refund_only")
    url = f"/aftersales/{case['id']}/operate/"
    response = console.post(url, {"action": "reject", "reason": "无质量问题"}, follow=True)
    assert "拒绝须提供凭证" in response.content.decode()
    console.post(url, {"action": "reject", "reason": "无质量问题", "evidence": "https://img.example.com/qc.jpg"})
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "rejected"


def test_another_shop_gets_a_404_and_a_warehouse_clerk_cannot_act(order_in, open_case, shop):
    case = open_case(order_in("delivered"), "return_refund")
    stranger = Client()
    stranger.force_login(make_member(make_shop("隔壁店")))
    assert stranger.get(f"/aftersales/{case['id']}/").status_code == 404
    assert stranger.post(f"/aftersales/{case['id']}/operate/", {"action": "agree"}).status_code == 404
    assert f"#{case['id']}" not in stranger.get("/aftersales/").content.decode()
    clerk = Client()
    clerk.force_login(make_member(shop, role=Role.WAREHOUSE))
    assert 'value="agree"' not in clerk.get(f"/aftersales/{case['id']}/").content.decode()
    assert clerk.post(f"/aftersales/{case['id']}/operate/", {"action": "agree"}).status_code == 403
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "requested"


def test_the_dashboard_shows_the_after_sale_rate_and_median_times(order_in, open_case, console, merchant_api):
    case = open_case(order_in("paid"), "refund_only")
    merchant_api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": "agree"})
    page = console.get("/").content.decode()
    metrics = page.split('id="aftersale-metrics"')[1].split("</dl>")[0]
    assert "100.0%" in metrics  # one case for one paid order
    assert "0分" in metrics  # answered and refunded within the minute


def test_the_list_prints_each_row_and_its_queries_do_not_grow_with_the_rows(order_in, open_case, console):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    late = open_case(order_in("delivered"), "refund_only", amount="12.50")
    AfterSaleCase.objects.filter(pk=late["id"]).update(due_at=timezone.now() - timedelta(minutes=5))
    with CaptureQueriesContext(connection) as one_row_queries:
        page = console.get("/aftersales/?type=refund_only").content.decode()
    due = timezone.localtime(AfterSaleCase.objects.get(pk=late["id"]).due_at)
    assert "¥12.50" in page and "仅退款" in page and "抖店码 6" in page  # label, money, 抖店 status code
    assert due.strftime("%m-%d %H:%M") in page and f'data-deadline="{due.isoformat()}"' in page and 'class="badge bad"' in page and "已超时 " in page
    for _ in range(4):
        open_case(order_in("paid"), "refund_only")
    with CaptureQueriesContext(connection) as five_row_queries:
        page = console.get("/aftersales/?type=refund_only").content.decode()
    assert page.count('<tr><td><a href="/aftersales/') == 5
    assert len(five_row_queries) == len(one_row_queries)


def test_the_after_sale_medians_are_the_middle_of_the_shops_own_cases(order_in, open_case, shop):
    from decimal import Decimal

    from django.db.models import F

    from aftersale.selectors import aftersale_metrics
    from orders.models import Refund

    # given four cases of this month answered 10, 30, 50 and 70 minutes after they were opened
    cases = [AfterSaleCase.objects.get(pk=open_case(order_in("paid"), "refund_only")["id"]) for _ in range(4)]
    for case, minutes in zip(cases, [10, 30, 50, 70], strict=True):
        AfterSaleCase.objects.filter(pk=case.pk).update(first_response_at=F("created_at") + timedelta(minutes=minutes))
    # and two refunded 2 and 4 hours after opening, one whose refund has not arrived (not a refund time)
    for case, hours, status in zip(cases, [2, 4, None], ["succeeded", "succeeded", "pending"]):
        refund = Refund.objects.create(
            order_id=case.order_id, amount=Decimal("1.00"), status=status,
            succeeded_at=case.created_at + timedelta(hours=hours) if hours else None,
        )
        AfterSaleCase.objects.filter(pk=case.pk).update(refund=refund)
    # and a case opened before the month, answered at once (neither counted nor in a median)
    old = AfterSaleCase.objects.get(pk=open_case(order_in("paid"), "refund_only")["id"])
    AfterSaleCase.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    AfterSaleCase.objects.filter(pk=old.pk).update(first_response_at=F("created_at"))
    # when the shop's scores are read
    metrics = aftersale_metrics(shop_id=shop.pk, now=timezone.now())
    # then the month's four cases; an even count's median is the mean of the middle two
    assert metrics["cases"] == 4
    assert metrics["median_response"] == timedelta(minutes=40)
    assert metrics["median_refund"] == timedelta(hours=3)
    other = make_shop(name="隔壁店")
    assert aftersale_metrics(shop_id=other.pk, now=timezone.now()) == {
        "days": 30, "cases": 0, "aftersale_rate": 0, "median_response": None, "median_refund": None
    }


@pytest.mark.parametrize(("language", "overdue"), [("zh-hans", "已超时"), ("en", "Overdue")])
def test_a_case_past_its_deadline_reads_overdue_in_red_on_the_workbench_and_its_page(order_in, open_case, console, language, overdue):
    late = open_case(order_in("delivered"), "return_refund")
    AfterSaleCase.objects.filter(pk=late["id"]).update(due_at=timezone.now() - timedelta(hours=2))
    console.cookies["django_language"] = language
    listing = console.get("/aftersales/").content.decode()
    row = listing[listing.index(f"#{late['id']}<"):]
    row = row[: row.index("</tr>")]
    assert 'class="badge bad"' in row and overdue in row
    case_page = console.get(f"/aftersales/{late['id']}/").content.decode()
    assert 'class="badge bad"' in case_page and overdue in case_page[case_page.index('class="badge bad"'):]


def test_the_exported_deadline_is_the_one_the_workbench_shows_after_the_case_moved_on(order_in, open_case, console, run_jobs):
    import re

    from shop_admin.kernel.models import BackgroundJob
    from tests.orders.csv_files import read_csv

    # given a case agreed to: it waits for the return parcel now, not for the merchant's reply
    case = open_case(order_in("delivered"), "return_refund")
    console.post(f"/aftersales/{case['id']}/operate/", {"action": "agree"})
    agreed = AfterSaleCase.objects.get(pk=case["id"])
    assert agreed.status == "awaiting_return" and agreed.due_at != agreed.reply_deadline
    # when the cases are exported
    with run_jobs():
        response = console.post("/exports/", {"what": "aftersales"})
    job = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    download = console.get(f"/jobs/{job.pk}/download/")
    exported = read_csv(b"".join(download.streaming_content))[0]["处理截止"]
    # then it is the deadline /aftersales/ shows for that case
    shown = re.search(r'data-deadline="([^"]+)"', console.get("/aftersales/").content.decode()).group(1)
    assert exported == timezone.datetime.fromisoformat(shown).strftime("%Y-%m-%d %H:%M:%S")
    assert exported == timezone.localtime(agreed.return_deadline).strftime("%Y-%m-%d %H:%M:%S")
