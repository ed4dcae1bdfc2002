"""`manage.py backup [--output FILE] | --base [--folder DIR]`: a pg_dump, or a base backup beside the WAL archive."""
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop_admin.kernel.backups import BackupError, backup_dump, base_backup


class Command(BaseCommand):
    help = ("Write a pg_dump (custom format) of the database: for a small shop's database or a copy to test on. "
            "--base takes a base backup (pg_basebackup) into a folder the server archives its WAL to, restorable "
            "to any later moment with `restore --to-time` (README, Backups).")

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="the dump file (default: backups/<database>-<UTC time>.dump)")
        parser.add_argument("--base", action="store_true", help="a base backup instead of a dump")
        parser.add_argument("--folder", type=Path, help="with --base: the backup folder (default: backups/pitr)")

    def handle(self, *args, output=None, base=False, folder=None, **options):
        if base and output:
            raise CommandError("--output names a dump file; a base backup goes to --folder")
        if folder and not base:
            raise CommandError("--folder is for a base backup: add --base")
        try:
            if base:
                written = base_backup(folder=folder or Path(settings.BASE_DIR) / "backups" / "pitr")
                self.stdout.write(f"base backup {written}")
                return
            if output is None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                output = Path(settings.BASE_DIR) / "backups" / f"{settings.DATABASES['default']['NAME']}-{stamp}.dump"
            written = backup_dump(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{written} ({written.stat().st_size:,} bytes)")
