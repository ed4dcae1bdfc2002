"""Console URLs of the exception centre (/exceptions/)."""
from django.urls import path

from orders.views import exceptions

app_name = "exceptions"
urlpatterns = [
    path("", exceptions.exception_list_view, name="list"),
    path("reconciliation/", exceptions.reconciliation_view, name="reconciliation"),
    path("reconciliation/run/", exceptions.reconciliation_run_view, name="reconciliation_run"),
    path("reconciliation/runs/<int:run_id>/", exceptions.reconciliation_run_detail_view, name="reconciliation_run_detail"),
    path("<int:exception_id>/", exceptions.exception_detail_view, name="detail"),
    path("<int:exception_id>/resolve/", exceptions.exception_resolve_view, name="resolve"),
    path("<int:exception_id>/evidence/", exceptions.exception_evidence_view, name="evidence"),
]
