"""`manage.py audit_prune [--by NAME]`: removes audit rows older than AUDIT_RETENTION (at least 180 days) and records the run."""
import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.services.audit import audit_prune
from shop_admin.kernel.errors import DomainError


class Command(BaseCommand):
    help = "Delete order events and stock-edit audits older than AUDIT_RETENTION (never below 180 days); the run is recorded."

    def add_arguments(self, parser):
        parser.add_argument("--by", dest="ran_by", help="who runs it, for the record (default: the operating-system user)")

    def handle(self, *args, ran_by=None, **options):
        try:
            run = audit_prune(ran_by=ran_by or getpass.getuser())
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"audit_prune by {run.ran_by}: retention {run.retention_days} days (floor {settings.AUDIT_RETENTION_MIN.days}), "
            f"cutoff {run.cutoff.isoformat()}: {run.events_removed} order events, {run.adjustments_removed} stock adjustments removed"
        )
