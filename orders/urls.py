"""Console URLs of orders."""
from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<str:order_no>/", views.order_detail, name="detail"),
]
