"""Bodies no client should send, and the API's answer to each: a 4xx in the contract's error shape, never a 500."""
import pytest
from django.conf import settings

from tests.factories import signed_headers

DEEP_ARRAY = ("[" * 100_000 + "]" * 100_000).encode()
DEEP_OBJECT = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()
LONG_INTEGER = b'{"payment_id": 1' + b"0" * 5000 + b', "channel_txn_id": "X", "status": "succeeded", "amount": "1.00"}'


def _send(client, method, path, raw, content_type, headers=None):
    response = getattr(client.client, method.lower())(
        f"/api/v1{path}", data=raw, content_type=content_type, headers={**client._headers(None), **(headers or {})}
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT, LONG_INTEGER, b"\xff\xfe{}", b"[]"], ids=["deep-array", "deep-object", "long-integer", "not-utf8", "not-an-object"])
def test_signed_callback_body_python_cannot_read_is_a_400(api, raw):
    """These were 500s: json.loads raised RecursionError, or ValueError for an integer of more than 4300 digits."""
    status, answer = _send(api, "POST", "/callbacks/payment", raw, "application/json", signed_headers(raw, settings.PAYMENT_CALLBACK_SECRET))

    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (DEEP_ARRAY, "application/json"),
        (DEEP_OBJECT, "application/json"),
        (b'{"shop_id": 1' + b"0" * 5000 + b"}", "application/json"),
        (b"shop_id=1", "application/x-www-form-urlencoded"),
        (b"shop_id=1", "text/plain"),
        (b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', "multipart/form-data; boundary=x"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_buyer_body_of_the_wrong_kind_is_a_4xx(buyer_api, sku, raw, content_type):
    status, answer = _send(buyer_api, "POST", "/orders", raw, content_type)

    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("value", ["0.5", "1700000000", "1e30", "tomorrow", "2026-11-23"])
def test_updated_since_is_an_iso_time_not_a_number_of_seconds(merchant_api, value):
    """The schema says date-time; pydantic alone took 0.5 as half a second after 1970 (the fuzzer's find)."""
    status, answer = merchant_api.get(f"/merchant/orders?updated_since={value}")

    assert status == 422, answer
    assert "updated_since" in answer["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/merchant/orders?limit=" + "9" * 5000,
        "/merchant/orders?cursor=" + "A" * 100_000,
        "/merchant/skus/" + "9" * 5000 + "/stock",
        "/merchant/skus/9223372036854775808/stock",
        "/merchant/orders/" + "9" * 300,
    ],
)
def test_huge_ids_limits_and_cursors_are_a_4xx(merchant_api, sku, path):
    status, answer = merchant_api.get(path)

    assert 400 <= status < 500, answer
    assert "error" in answer
