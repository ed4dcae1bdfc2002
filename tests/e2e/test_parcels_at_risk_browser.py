"""The /logistics/ at-risk filter in a real browser: the merchant clicks the tab and sees the parcel silent beyond its
route's p95 (both numbers shown), not the one moving on time."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from logistics.sql import route_stats_refresh
from tests.e2e.conftest import DEMO_PASSWORD
from tests.factories import make_buyer, make_member, make_shop
from tests.logistics.route_history import delivered_route, parcel

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_at_risk_tab_lists_the_silent_parcel_with_its_idle_hours_against_the_route_p95(browser_session):
    shop, buyer, now = make_shop("线路店"), make_buyer(), timezone.now()
    owner = make_member(shop, username="route_owner")
    owner.set_password(DEMO_PASSWORD)
    owner.save()
    delivered_route(shop=shop, buyer=buyer, now=now, destination="广东省")  # longest gap p95 27.05 h
    route_stats_refresh(now=now)
    silent = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=31), scans_after=[1], signed_after=None, destination="广东省")
    moving = parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(hours=20), scans_after=[15], signed_after=None, destination="广东省")
    session, page = browser_session, browser_session.page
    session.sign_in("route_owner")
    session.goto("/logistics/")
    expect(page.get_by_text(moving.tracking_no)).to_be_visible()

    page.locator('a[data-filter="at_risk"]').click()

    page.wait_for_url("**/logistics/?at_risk=1")
    row = page.locator("tr.at-risk", has_text=silent.tracking_no)
    expect(row).to_be_visible()
    expect(row.locator('td[data-figure="idle"]')).to_have_text("30.0 h / 27.1 h")
    expect(row.locator('td[data-figure="transit"]')).to_have_text("31.0 h / 28.1 h")
    expect(page.get_by_text(moving.tracking_no)).to_have_count(0)
    assert session.js_errors == [] and session.failed_requests == []
