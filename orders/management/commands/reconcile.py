"""`manage.py reconcile [--date YYYY-MM-DD]`: the daily reconciliation; prints every mismatch and exits 1 if there is one."""
import sys
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.reconcile import reconcile_day


class Command(BaseCommand):
    help = "Reconcile payments, refunds and settlements of one day (default: yesterday in shop time) against orders."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="YYYY-MM-DD, a day in shop time (Asia/Shanghai); default yesterday")

    def handle(self, *args, day=None, **options):
        if day:
            try:
                chosen = date.fromisoformat(day)
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, got {day!r}") from None
        else:
            chosen = timezone.localdate() - timedelta(days=1)
        run = reconcile_day(day=chosen)
        for mismatch in run.found:
            self.stdout.write(mismatch.line())
        summary = f"{chosen.isoformat()}: {run.checked_payments} payments, {run.checked_orders} orders checked, {len(run.found)} mismatches"
        if run.found:
            self.stderr.write(summary)
            sys.exit(1)
        self.stdout.write(summary)
