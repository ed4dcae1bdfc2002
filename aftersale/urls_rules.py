"""Console URLs of the after-sale rules, under /settings/aftersale-rules/."""
from django.urls import path

from aftersale import views_rules as views

app_name = "aftersale_rules"

urlpatterns = [
    path("", views.rule_list_view, name="list"),
    path("new/", views.rule_create_view, name="new"),
    path("<int:rule_id>/", views.rule_edit_view, name="edit"),
    path("<int:rule_id>/dry-run/", views.rule_dry_run_view, name="dry_run"),
    path("<int:rule_id>/enabled/", views.rule_toggle_view, name="toggle"),
    path("<int:rule_id>/delete/", views.rule_delete_view, name="delete"),
]
