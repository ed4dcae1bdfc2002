"""The JSON API at /api/v1/: mounts each app's routers and turns every refusal into the contract's error shape."""
import math

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from logistics.api import callback_router as logistics_callback_router
from aftersale.api import buyer_router as aftersale_buyer_router
from aftersale.api import merchant_router as aftersale_merchant_router
from logistics.api import merchant_router as logistics_merchant_router
from orders.api import buyer_router, callback_router
from orders.api_exceptions import buyer_router as exceptions_buyer_router
from orders.api_exceptions import merchant_router as exceptions_merchant_router
from orders.api import merchant_router as orders_merchant_router
from shop_admin.kernel.api import error_response
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.text import join_list

api = NinjaAPI(
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
api.add_router("/merchant", exceptions_merchant_router)
api.add_router("/", exceptions_buyer_router)
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


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return error_response(exc.status_code, code.get(exc.status_code, "error"), str(exc))
