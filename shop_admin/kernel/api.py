"""What every app's JSON API shares: the base schema, money and time as the contract writes them, the error shape, merchant auth."""
import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Annotated, TypeVar, get_args, get_origin

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Schema as NinjaSchema
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic import ValidationError as PydanticValidationError

from shop_admin.kernel.errors import DomainError, Invalid, Unauthorized
from shop_admin.kernel.selectors import merchant_token_user

S = TypeVar("S", bound=BaseModel)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


# --- times coming in ---

# Real zones lie within -12:00..+14:00; PostgreSQL refuses beyond ±15:59, Python beyond ±24:00.
API_DATETIME_MAX_OFFSET = timedelta(hours=14)
# A day inside Python's years 1..9999, so that the instant can be shown in any zone, shop time included.
API_DATETIME_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
API_DATETIME_LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_datetime_text(value):
    # pydantic alone would also read 0.5 or "1700000000" as seconds since 1970: not what the schema promises.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError(_("须为 ISO 8601 时间，如 2026-11-23T10:00:00+08:00"))
    return value


def api_datetime_check(value: datetime) -> datetime:
    """An instant the database and every zone can hold; without an offset it is shop time. ValueError otherwise.

    Every time the API takes (query, body, callback, cursor) passes here: PostgreSQL refuses an
    offset like -20:20 and Python cannot shift 9999-12-31 into shop time, and either was a 500.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        try:
            value = timezone.make_aware(value)
        except (OverflowError, ValueError):
            raise ValueError(_("时间超出范围（须在 0001-01-02 与 9999-12-30 之间）")) from None
    if abs(value.utcoffset()) > API_DATETIME_MAX_OFFSET:
        raise ValueError(_("时区偏移须在 -14:00 与 +14:00 之间"))
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not API_DATETIME_EARLIEST <= instant <= API_DATETIME_LATEST:
        raise ValueError(_("时间超出范围（须在 0001-01-02 与 9999-12-30 之间）"))
    return value


# --- feed cursors (keyset pagination of the merchant API's lists) ---

CURSOR_PK_MAX = 2**63 - 1  # bigint: a forged larger id would reach PostgreSQL as a 500

# An id in a request body: a row's primary key is a positive bigint, so anything else is the caller's mistake (422),
# never a number PostgreSQL refuses mid-statement (a 500).
RowId = Annotated[int, PydanticField(ge=1, le=CURSOR_PK_MAX)]


def feed_cursor_encode(moment: datetime | None, pk: int) -> str:
    """The opaque `next_cursor` of a feed ordered by (a time, id); a missing time (sorted last) is written "-"."""
    stamp = moment.isoformat() if moment is not None else "-"
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode()


def feed_cursor_decode(cursor: str, *, nullable: bool = False) -> tuple[datetime | None, int]:
    """(time, id) back from a `next_cursor`; anything else, a forged time or id included, is a 422 naming `cursor`."""
    try:
        stamp, raw_pk = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit("|", 1)
        pk = int(raw_pk)
        if not 0 < pk <= CURSOR_PK_MAX:
            raise ValueError
        if stamp == "-" and nullable:
            return None, pk
        moment = parse_datetime(stamp)
        if moment is None:
            raise ValueError
        return api_datetime_check(moment), pk  # a forged +20:00 offset would reach PostgreSQL as a 500
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("cursor 无效"), code="invalid_cursor", details={"fields": {"cursor": _("请使用上一页返回的 next_cursor")}}) from None


# The one datetime type of the API's inputs: ISO 8601, offset within ±14:00, years the database can hold.
ApiDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_datetime_text),
    AfterValidator(api_datetime_check),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with an offset within ±14:00 (none: shop time, Asia/Shanghai), 0001-01-02..9999-12-30",
        }
    ),
]


class Schema(NinjaSchema):
    """Every shape of the API: text with a NUL byte is refused as bad input (PostgreSQL cannot store it).

    A time it takes is typed `ApiDateTime` (tests/shop_admin/test_api_datetimes.py holds every endpoint to it)."""

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_bytes(cls, value, info: ValidationInfo):
        # Only what comes in: ninja validates every answer against its schema too (its context names the
        # response status), and checking each field of a 100-row page cost a visible share of a list's time.
        if info.context and "response_status" in info.context:
            return value
        if _has_nul(value):
            raise ValueError("must not contain NUL (\\x00) characters")
        return value


@cache
def _nested_schemas(schema: type[BaseModel]) -> tuple[tuple[str, type[BaseModel], bool], ...]:
    """The fields of `schema` holding schemas: (name, schema, is a list of them). Other shapes holding one are refused."""
    nested = []
    for name, field in schema.model_fields.items():
        annotation, many = field.annotation, False
        if get_origin(annotation) is list:
            (annotation,), many = get_args(annotation), True
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, annotation, many))
        elif any(isinstance(a, type) and issubclass(a, BaseModel) for a in get_args(annotation)):
            raise TypeError(f"{schema.__name__}.{name}: schema_built takes a schema or a list of them, not {annotation}")
    return tuple(nested)


def schema_built(schema: type[S], data: dict) -> S:
    """`schema` holding `data` as it is, nested schemas included, without validating it.

    For an answer our own code has just shaped from the rows it wrote (order submission): django-ninja
    sends a schema instance as it is, where it would validate a dict field by field through its
    getters. `data` must already be what validation would give (its tests compare the two).
    """
    values = dict(data)
    for name, nested, many in _nested_schemas(schema):
        if name in values and values[name] is not None:
            value = values[name]
            values[name] = [schema_built(nested, v) for v in value] if many else schema_built(nested, value)
    return schema.model_construct(**values)


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def time_str(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


class ErrorBody(Schema):
    code: str
    message: str
    details: dict = {}


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def error_response(status: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class MerchantAuth(HttpBearer):
    """`Authorization: Bearer <merchant token>`; `request.auth` is the console user."""

    def authenticate(self, request: HttpRequest, token: str):
        return merchant_token_user(key=token)


# --- signed callbacks (payment, refund, logistics) ---


def signed_body(request: HttpRequest, secret: str) -> dict:
    """The JSON body of a callback whose HMAC signature and timestamp are good; 401 otherwise."""
    stamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > settings.CALLBACK_MAX_AGE_SECONDS:
        raise Unauthorized(_("回调时间戳缺失或已过期"), code="stale_signature")
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise Unauthorized(_("回调签名无效"), code="bad_signature")
    return json_object_parse(request.body)


def json_object_parse(raw: bytes) -> dict:
    """A request's JSON body, which must be an object; a 400 `invalid_json` otherwise (callbacks and every endpoint)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        # Not UTF-8 or not JSON (ValueError covers both), nested deeper than Python's stack, or an integer of
        # more than 4300 digits: all a sender's bad body, none a server error.
        raise DomainError(_("请求体不是合法的 JSON"), code="invalid_json") from None
    if not isinstance(body, dict):
        raise DomainError(_("请求体须为 JSON 对象"), code="invalid_json")
    return body


class JsonObjectParser(Parser):
    """The API's body parser: every body it takes is a JSON object, so anything else is refused as unreadable (400)."""

    def parse_body(self, request: HttpRequest) -> dict:
        return json_object_parse(request.body)


def _inline_defs(node, defs: dict):
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            return _inline_defs(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {key: _inline_defs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_defs(value, defs) for value in node]
    return node


def callback_openapi(schema) -> dict:
    """`openapi_extra` documenting a signed callback's JSON body, which the view reads itself (the signature covers
    the raw bytes). Its nested shapes are written out in place: pydantic's "#/$defs/..." would point at the root of
    the OpenAPI document, where nothing is, and the body would be undocumented for clients and the fuzzer alike."""
    body = schema.model_json_schema()
    return {"requestBody": {"content": {"application/json": {"schema": _inline_defs(body, body.get("$defs", {}))}}, "required": True}}


def parse_callback(schema, body: dict):
    try:
        return schema.model_validate(body)
    except PydanticValidationError as exc:
        fields = {".".join(str(p) for p in err["loc"]): err["msg"] for err in exc.errors()}
        raise Invalid(_("回调参数有误"), code="invalid_input", details={"fields": fields}) from None
