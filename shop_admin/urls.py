"""URLs: the console, the admin, the JSON API and the RQ dashboard."""
from django.contrib import admin
from django.urls import URLPattern, include, path
from django_rq import urls as rq_urls

from logistics import views as logistics_views
from logistics import views_print as logistics_print_views
from orders.urls import import_urlpatterns, product_urlpatterns
from shop_admin.kernel.platform_ops import platform_ops_only
from shop_admin.shell import views, views_csv, views_deadlines, views_settings, views_todos
from shop_admin.shell.api import api

# Every view of the RQ dashboard, its token-read stats included, for platform ops only (django-rq asks only is_staff).
rq_urlpatterns = [URLPattern(p.pattern, platform_ops_only(p.callback), p.default_args, p.name) for p in rq_urls.urlpatterns]

urlpatterns = [
    # First: the API (carriers' and channels' callbacks above all) is the busiest prefix; every other pattern misses it at once.
    path("api/v1/", api.urls),
    path("", views.dashboard_view, name="dashboard"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("shop/select/", views.shop_select, name="shop_select"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job_download"),
    path("orders/<str:order_no>/ship/", logistics_views.order_ship_view, name="order_ship"),
    path("orders/<str:order_no>/reship/", logistics_views.order_reship_view, name="order_reship"),
    path("orders/<str:order_no>/not-received/answer/", logistics_views.not_received_answer_view, name="not_received_answer"),
    path("orders/<str:order_no>/waybill.pdf", logistics_print_views.order_waybill_view, name="order_waybill"),
    path("orders/", include("orders.urls")),
    path("products/", include(product_urlpatterns)),
    path("imports/", include(import_urlpatterns)),
    path("exports/", views_csv.exports_view, name="exports"),
    path("deadlines/", views_deadlines.deadline_list_view, name="deadline_list"),
    path("todos/", views_todos.todo_list_view, name="todo_list"),
    path("todos/bell/", views_todos.todo_bell_view, name="todo_bell"),
    path("todos/read/", views_todos.todo_read_view, name="todo_read"),
    path("todos/read-all/", views_todos.todo_read_all_view, name="todo_read_all"),
    path("logistics/", logistics_views.shipment_list_view, name="logistics"),
    path("aftersales/", include("aftersale.urls")),
    path("exceptions/", include("orders.urls_exceptions")),
    path("marketing/coupons/", include("orders.urls_coupons")),
    path("settings/", views_settings.settings_index_view, name="settings"),
    path("settings/return-addresses/", include("aftersale.urls_return_addresses")),
    path("settings/aftersale-rules/", include("aftersale.urls_rules")),
    path("reviews/", include("aftersale.urls_reviews")),
    path("logistics/bulk-ship/", logistics_views.bulk_ship_view, name="bulk_ship"),
    path("logistics/waybills/", logistics_print_views.waybills_print_view, name="waybills_print"),
    path("settings/", views_settings.settings_index_view, name="settings"),
    path("settings/team/", views_settings.team_view, name="settings_team"),
    path("settings/team/add/", views_settings.member_add_view, name="settings_team_add"),
    path("settings/team/invite/", views_settings.invite_create_view, name="settings_team_invite"),
    path("settings/team/join/<str:token>/", views_settings.team_join_view, name="settings_team_join"),
    path("settings/team/<int:member_id>/role/", views_settings.member_role_view, name="settings_team_role"),
    path("settings/team/<int:member_id>/disable/", views_settings.member_disable_view, name="settings_team_disable"),
    path("settings/team/<int:member_id>/enable/", views_settings.member_enable_view, name="settings_team_enable"),
    path("settings/shop/", views_settings.shop_rules_view, name="settings_shop"),
    path("admin/rq/", include((rq_urlpatterns, "django_rq"))),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
