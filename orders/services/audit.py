"""The retention of the audit trail: the one way an audit row ever leaves the database."""
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import AuditPrune, OrderEvent, StockAdjustment
from orders.sql import audit_prune_allow
from shop_admin.kernel.errors import Invalid


def audit_prune(*, ran_by: str) -> AuditPrune:
    """Delete order events and stock-edit audits older than AUDIT_RETENTION; the run itself is recorded, never pruned.

    The database refuses every DELETE of these rows (migration orders 0021) unless the transaction has set
    shop_admin.audit_prune: it is set here only, for this transaction only, and cleared before the run's own record.
    """
    retention = settings.AUDIT_RETENTION
    if retention < settings.AUDIT_RETENTION_MIN:
        raise Invalid(
            _("日志至少保留%(min)d天，当前设置为%(days)d天，拒绝清理")
            % {"min": settings.AUDIT_RETENTION_MIN.days, "days": retention.days},
            code="audit_retention_too_short",
            details={"fields": {"AUDIT_RETENTION": retention.days}},
        )
    with transaction.atomic():
        cutoff = timezone.now() - retention
        _prune_allowed(True)
        events, _by_model = OrderEvent.objects.filter(created_at__lt=cutoff).delete()
        adjustments, _by_model = StockAdjustment.objects.filter(created_at__lt=cutoff).delete()
        _prune_allowed(False)
        return AuditPrune.objects.create(
            ran_by=ran_by[:64], retention_days=retention.days, cutoff=cutoff, events_removed=events, adjustments_removed=adjustments
        )


def _prune_allowed(on: bool) -> None:
    """The transaction-local switch the append-only trigger reads (PostgreSQL; other databases have no trigger)."""
    audit_prune_allow(on)
