"""The console's middleware (session, CSRF, signed-in user, messages, frame options) run on console pages, not on /api/."""
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from shop_admin.kernel.console_middleware import ConsoleCsrfViewMiddleware, ConsoleSessionMiddleware


@pytest.mark.django_db
def test_a_console_page_gets_its_session_csrf_cookie_and_frame_header():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert settings.CSRF_COOKIE_NAME in response.cookies
    assert hasattr(response.wsgi_request, "user") and hasattr(response.wsgi_request, "session")


@pytest.mark.django_db
def test_a_console_post_without_its_csrf_token_is_still_refused():
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_api_request_runs_none_of_them_and_keeps_its_language(merchant_api):
    response = merchant_api.client.get(
        "/api/v1/merchant/orders", headers={"Authorization": f"Bearer {merchant_api.token}", "Accept-Language": "en"}
    )
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user") and not hasattr(request, "_messages")
    assert "X-Frame-Options" not in response and settings.CSRF_COOKIE_NAME not in response.cookies
    # The API's language still follows Accept-Language (the locale middleware runs on both).
    refused = merchant_api.client.get("/api/v1/merchant/orders", headers={"Accept-Language": "en"})
    assert refused.status_code == 401
    assert refused["Content-Language"] == "en"


def test_the_wrappers_are_the_middleware_they_wrap_for_djangos_checks():
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.middleware.csrf import CsrfViewMiddleware

    assert issubclass(ConsoleSessionMiddleware, SessionMiddleware)
    assert issubclass(ConsoleCsrfViewMiddleware, CsrfViewMiddleware)
    assert "shop_admin.kernel.console_middleware.ConsoleSessionMiddleware" in settings.MIDDLEWARE
