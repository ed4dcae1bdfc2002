"""Console URLs of the after-sale workbench."""
from django.urls import path

from aftersale import views

app_name = "aftersale"

urlpatterns = [
    path("", views.aftersale_list_view, name="list"),
    path("<int:case_id>/", views.aftersale_detail_view, name="detail"),
    path("<int:case_id>/operate/", views.aftersale_operate_view, name="operate"),
]
