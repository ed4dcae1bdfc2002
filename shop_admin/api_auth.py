"""Bearer authentication of the merchant open API, and the JSON error shape of the contract."""
from django.http import HttpRequest, JsonResponse
from ninja.security import HttpBearer

from shop_admin.selectors import merchant_token_user


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
