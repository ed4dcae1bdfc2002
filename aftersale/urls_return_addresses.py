"""Console URLs of the return address book, under /settings/return-addresses/."""
from django.urls import path

from aftersale import views_return_addresses as views

app_name = "return_addresses"

urlpatterns = [
    path("", views.return_address_list_view, name="list"),
    path("<int:address_id>/", views.return_address_edit_view, name="edit"),
    path("<int:address_id>/default/", views.return_address_default_view, name="default"),
    path("<int:address_id>/delete/", views.return_address_delete_view, name="delete"),
]
