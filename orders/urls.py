"""Console URLs of orders and products."""
from django.urls import path

from orders.views import csv, exceptions, orders, products

app_name = "orders"
urlpatterns = [
    path("", orders.order_list_view, name="list"),
    path("bulk/", orders.order_bulk_view, name="bulk"),
    path("export/", csv.order_export_view, name="export"),
    path("<str:order_no>/", orders.order_detail_view, name="detail"),
    path("<str:order_no>/cancel/", orders.order_cancel_view, name="cancel"),
    path("<str:order_no>/close/", orders.order_close_view, name="close"),
    path("<str:order_no>/remark/", orders.order_remark_view, name="remark"),
    path("<str:order_no>/reveal-phone/", orders.order_phone_reveal_view, name="reveal_phone"),
    path("<str:order_no>/risk-approve/", orders.order_risk_approve_view, name="risk_approve"),
    path("<str:order_no>/report/", exceptions.order_report_view, name="report"),
    path("<str:order_no>/recover/", exceptions.order_recover_view, name="recover"),
]

product_urlpatterns = [
    path("", products.product_list, name="products"),
    path("stock/<int:level_id>/", products.stock_edit, name="stock_edit"),
    path("<int:product_id>/settings/", products.product_settings, name="product_settings"),
]

import_urlpatterns = [
    path("", csv.import_list_view, name="imports"),
    path("<int:job_id>/", csv.import_detail_view, name="import_detail"),
    path("<int:job_id>/confirm/", csv.import_confirm_view, name="import_confirm"),
]
