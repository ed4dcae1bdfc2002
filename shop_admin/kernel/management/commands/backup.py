"""`manage.py backup [--output FILE]`: a pg_dump (custom format) of the database, restorable with `manage.py restore`."""
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop_admin.kernel.backups import BackupError, backup_dump


class Command(BaseCommand):
    help = ("Write a pg_dump (custom format) of the database: for a small shop's database or a copy to test on. "
            "A real deployment takes base backups with WAL archiving instead (README, Backups).")

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="the dump file (default: backups/<database>-<UTC time>.dump)")

    def handle(self, *args, output=None, **options):
        if output is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            output = Path(settings.BASE_DIR) / "backups" / f"{settings.DATABASES['default']['NAME']}-{stamp}.dump"
        try:
            written = backup_dump(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{written} ({written.stat().st_size:,} bytes)")
