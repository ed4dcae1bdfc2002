"""Console URLs of coupon campaigns (/marketing/coupons/)."""
from django.urls import path

from orders.views import coupons

app_name = "coupons"
urlpatterns = [
    path("", coupons.coupon_list_view, name="list"),
    path("new/", coupons.coupon_create_view, name="create"),
    path("<int:coupon_id>/", coupons.coupon_detail_view, name="detail"),
    path("<int:coupon_id>/end/", coupons.coupon_end_view, name="end"),
]
