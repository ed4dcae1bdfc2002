"""Requests the API cannot route or read still get the contract's error shape, DEBUG on or off: never HTML, never a 500."""
import pytest
from django.test import Client

ERROR_KEYS = {"code", "message", "details"}
MANY_FIELDS = "&".join(f"f{i}=1" for i in range(1500)).encode()  # Django allows 1000 (DATA_UPLOAD_MAX_NUMBER_FIELDS)
TOO_BIG = b'{"shop_id": "' + b"x" * 3_000_000 + b'"}'  # over DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _send(token, method, path, raw=b"", content_type="application/json"):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # CONTENT_TYPE given again: the test client sends none with an empty body, and the request had one.
    response = client.generic(
        method, f"/api/v1{path}", data=raw, content_type=content_type, headers=headers, CONTENT_TYPE=content_type
    )
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body["error"]) == ERROR_KEYS
    return response, body["error"]


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/nothing-here"), ("GET", "/orders/1/nothing"), ("POST", "/merchant/nothing"), ("GET", "/callbacks/"), ("DELETE", "/x/y/z")],
)
def test_an_unknown_path_is_a_json_404(db, debug, buyer, method, path):
    response, error = _send(buyer.api_token, method, path)

    assert response.status_code == 404 and error["code"] == "not_found"


def test_a_method_the_path_does_not_take_is_a_json_405_with_allow(db, debug, buyer):
    response, error = _send(buyer.api_token, "DELETE", "/shops")

    assert response.status_code == 405 and error["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"", "multipart/form-data"),  # the 500: no boundary
        (b"--x\r\nbroken", "multipart/form-data"),
        (b"--x\r\n", "multipart/form-data; boundary=" + "x" * 300),
        (b"a=1", "application/x-www-form-urlencoded; charset=latin-1"),  # Django reads forms in UTF-8 only
        (MANY_FIELDS, "application/x-www-form-urlencoded"),
    ],
    ids=["no-boundary-empty", "no-boundary", "boundary-too-long", "form-not-utf8", "too-many-fields"],
)
def test_an_upload_django_cannot_parse_is_a_json_400(db, debug, buyer, raw, content_type):
    response, error = _send(buyer.api_token, "POST", "/aftersales/1/evidence", raw, content_type)

    assert response.status_code == 400, error
    assert error["code"] == "unreadable_body" and "Content-Type" in error["message"]


def test_a_body_over_the_size_limit_is_a_json_400(db, debug, buyer):
    response, error = _send(buyer.api_token, "POST", "/orders", TOO_BIG)

    assert response.status_code == 400 and error["code"] == "unreadable_body"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"{bad", "请求体不是合法的 JSON"),
        (b"\xff\xfe{}", "请求体不是合法的 JSON"),
        (b"[1, 2]", "请求体须为 JSON 对象"),
        (b'"shop"', "请求体须为 JSON 对象"),
        (b"null", "请求体须为 JSON 对象"),
    ],
    ids=["malformed", "not-utf8", "array", "string", "null"],
)
def test_a_json_body_that_is_not_an_object_is_a_400_in_words_the_caller_reads(db, debug, buyer, raw, message):
    response, error = _send(buyer.api_token, "POST", "/orders", raw)

    assert response.status_code == 400 and error["code"] == "invalid_json"
    assert error["message"] == message


def test_the_unreadable_body_message_is_translated(db, buyer):
    client = Client()
    response = client.post(
        "/api/v1/orders", data=b"{bad", content_type="application/json",
        headers={"Authorization": f"Bearer {buyer.api_token}", "Accept-Language": "en"},
    )

    assert response.status_code == 400 and response.json()["error"]["message"] == "Request body is not valid JSON"
