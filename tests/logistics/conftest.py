"""Fixtures of the logistics tests: a paid order shipped through the merchant API, and a carrier pushing signed tracking."""
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import signed_headers

TRACKING_NO = "SF1234567890123"


def tracking_body(tracking_no: str, *events, carrier: str = "SF") -> bytes:
    """A push as the carrier sends it; each event (code, time, location='', description='')."""
    return json.dumps(
        {
            "carrier": carrier,
            "tracking_no": tracking_no,
            "events": [
                {"code": e[0], "time": e[1].isoformat(), "location": e[2] if len(e) > 2 else "", "description": e[3] if len(e) > 3 else ""}
                for e in events
            ],
        },
        ensure_ascii=False,
    ).encode()


@pytest.fixture
def push(api):
    """Send a signed logistics push; returns (status, json)."""

    def send(tracking_no: str, *events, carrier: str = "SF", secret: str | None = None, at: int | None = None):
        body = tracking_body(tracking_no, *events, carrier=carrier)
        headers = signed_headers(body, secret or settings.LOGISTICS_CALLBACK_SECRET, at=at)
        return api.post("/callbacks/logistics", raw=body, headers=headers)

    return send


@pytest.fixture
def ship(merchant_api):
    def do_ship(order_no: str, tracking_no: str = TRACKING_NO, carrier: str = "SF", **extra):
        status, body = merchant_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": carrier, "tracking_no": tracking_no, **extra})
        assert status == 200, body
        return body

    return do_ship


@pytest.fixture
def shipped(sku, place_order, pay, ship):
    """A paid order of the shop, shipped with SF TRACKING_NO; its JSON as placed."""
    order = place_order((sku, 1))
    pay(order["order_no"])
    ship(order["order_no"])
    return order


@pytest.fixture
def t0():
    """A moment shortly after shipping, to stamp events with."""
    return timezone.now().replace(microsecond=0) + timedelta(minutes=1)
