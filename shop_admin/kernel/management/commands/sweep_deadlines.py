"""Apply every deadline due by now (or by --at) exactly once; safe to run any time, any number of times."""
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shop_admin.kernel.deadlines import deadlines_sweep_outcomes


class Command(BaseCommand):
    help = "Apply every deadline due by now, or by --at ISO-TIME: unpaid timeout, auto-confirm, ..."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="apply deadlines as of this ISO 8601 time (default: now)")

    def handle(self, *args, at=None, **options):
        now = timezone.now()
        if at:
            now = parse_datetime(at)
            if now is None:
                raise CommandError(f"--at: not an ISO 8601 time: {at!r}")
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        for name, outcome in deadlines_sweep_outcomes(now=now).items():
            # "kind: N" is what scripts read; what was walked past follows only when there is some.
            extra = f", skipped {outcome.skipped}, failed {outcome.failed}" if outcome.skipped else ""
            self.stdout.write(f"{name}: {outcome.applied}{extra}" + (", broken (see the log)" if outcome.broken else ""))
