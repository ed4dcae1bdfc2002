"""URLs: the console, the admin, the JSON API and the RQ dashboard."""
from django.contrib import admin
from django.urls import include, path

from shop_admin import views
from shop_admin.api import api

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("shop/select/", views.shop_select, name="shop_select"),
    path("orders/", include("orders.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
