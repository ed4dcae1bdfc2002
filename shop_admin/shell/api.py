"""The JSON API at /api/v1/: mounts each app's routers and turns every refusal into the contract's error shape."""
import math
from functools import wraps

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from aftersale.api import buyer_router as aftersale_buyer_router
from aftersale.api import merchant_router as aftersale_merchant_router
from aftersale.api_return_addresses import merchant_router as return_addresses_merchant_router
from aftersale.api_reviews import buyer_router as reviews_buyer_router
from aftersale.api_reviews import merchant_router as reviews_merchant_router
from aftersale.api_rules import merchant_router as rules_merchant_router
from logistics.api import callback_router as logistics_callback_router
from logistics.api import merchant_router as logistics_merchant_router
from orders.api import buyer_router, callback_router
from orders.api import merchant_router as orders_merchant_router
from orders.api_coupons import buyer_router as coupons_buyer_router
from orders.api_coupons import merchant_router as coupons_merchant_router
from orders.api_exceptions import buyer_router as exceptions_buyer_router
from orders.api_exceptions import merchant_router as exceptions_merchant_router
from shop_admin.kernel.api import JsonObjectParser, error_response
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.text import join_list
from shop_admin.shell.api_deadlines import merchant_router as deadlines_merchant_router


def _json_method_not_allowed(view):
    """ninja answers a method the path does not take with a plain-text 405; the contract's shape instead, same Allow."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        answer = error_response(405, "method_not_allowed", _("该路径不支持 %(method)s 请求") % {"method": request.method})
        answer["Allow"] = response["Allow"]
        return answer

    return wrapped


@csrf_exempt  # like every API view: a POST to a wrong path is a 404, not the console's CSRF page
def api_path_unknown(request, rest=""):
    return error_response(404, "not_found", _("资源不存在"))


class ContractApi(NinjaAPI):
    """The API whose every answer under /api/v1/ is the contract's JSON, also where ninja itself would answer in
    HTML or plain text: a path no operation has (Django's 404 page, DEBUG on or off) and a method a path does not take."""

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        patterns = [
            URLPattern(p.pattern, _json_method_not_allowed(p.callback), p.default_args, p.name) if isinstance(p, URLPattern) else p
            for p in patterns
        ]
        return [*patterns, re_path(r"^(?P<rest>.*)$", api_path_unknown)], app_name, namespace


api = ContractApi(
    parser=JsonObjectParser(),
    title="抖店商家后台 API",
    version="1",
    description="Buyer app, merchant open API and signed callbacks. Errors: "
    '{"error": {"code", "message", "details"}}.',
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)

api.add_router("/", buyer_router)
api.add_router("/merchant", orders_merchant_router)
api.add_router("/merchant", logistics_merchant_router)
api.add_router("/", aftersale_buyer_router)
api.add_router("/merchant", aftersale_merchant_router)
api.add_router("/merchant", return_addresses_merchant_router)
api.add_router("/merchant", rules_merchant_router)
api.add_router("/merchant", exceptions_merchant_router)
api.add_router("/", exceptions_buyer_router)
api.add_router("/merchant", coupons_merchant_router)
api.add_router("/merchant", deadlines_merchant_router)
api.add_router("/", coupons_buyer_router)
api.add_router("/merchant", reviews_merchant_router)
api.add_router("/", reviews_buyer_router)
api.add_router("/callbacks", callback_router)
api.add_router("/callbacks", logistics_callback_router)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _field_path(loc) -> str:
    # ninja prefixes the source ("body", "query", "path", "header") and the payload name; keep what the caller sent.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    fields = {}
    for err in exc.errors:
        fields[_field_path(err.get("loc", ()))] = err.get("msg", "")
    return error_response(422, "invalid_input", _("请求参数有误：%(fields)s") % {"fields": join_list(fields)}, {"fields": fields})


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error_response(401, "unauthorized", _("缺少或无效的访问令牌（Authorization: Bearer <token>）"))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(404, "not_found", _("资源不存在"))


@api.exception_handler(Throttled)
def on_rate_limited(request, exc: Throttled):
    # ninja adds the Retry-After header with the same whole seconds (shop_admin/kernel/throttling.py).
    seconds = max(1, math.ceil(exc.wait or 1))
    return error_response(429, "rate_limited", _("请求过于频繁，请 %(seconds)s 秒后再试") % {"seconds": seconds}, {"retry_after": seconds})


@api.exception_handler(MultiPartParserError)
@api.exception_handler(BadRequest)
@api.exception_handler(SuspiciousOperation)
def on_unreadable_request(request, exc):
    # Django refuses these before any field is read: multipart without a boundary, a form not in UTF-8, more fields
    # or files than allowed, a body over DATA_UPLOAD_MAX_MEMORY_SIZE. Its own answer is an HTML page (a traceback
    # under DEBUG, as ninja handles unknown exceptions): the caller gets the shape every other 400 has.
    return error_response(400, "unreadable_body", _("无法读取请求体：请检查 Content-Type 与内容是否一致、大小与字段数是否超限"))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):
        # ninja wraps what the body parser raised (JsonObjectParser: invalid_json) in a 400 with its own English text.
        return on_domain_error(request, exc.__cause__)
    code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return error_response(exc.status_code, code.get(exc.status_code, "error"), str(exc))
