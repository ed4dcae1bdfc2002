"""`manage.py restore FILE --into DATABASE` (a dump) or `restore --to-time ISO --data DIR` (a base backup + WAL)."""
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from shop_admin.kernel.backups import BackupError, restore_dump, restore_to_time, target_from_url, target_of


class Command(BaseCommand):
    help = ("Restore a dump of `manage.py backup` into a database that does not exist yet (it is created), or, with "
            "--to-time, make a new data directory from `backup --base` and its WAL archive that replays up to that "
            "moment when started. Point DATABASE_URL at it once checked (`manage.py reconcile --date ...` on it).")

    def add_arguments(self, parser):
        parser.add_argument("dump", type=Path, nargs="?")
        parser.add_argument("--into", help="a database name on the same server as DATABASE_URL, or a postgres:// URL")
        parser.add_argument("--to-time", help="ISO time to restore to (shop time when it names no offset)")
        parser.add_argument("--from", dest="folder", type=Path, help="with --to-time: the backup folder (default: backups/pitr)")
        parser.add_argument("--data", type=Path, help="with --to-time: the new data directory")
        parser.add_argument("--port", type=int, help="with --to-time: the port the restored server listens on")

    def handle(self, *args, dump=None, into=None, to_time=None, folder=None, data=None, port=None, **options):
        if to_time:
            self._to_time(to_time, folder or Path(settings.BASE_DIR) / "backups" / "pitr", data, port, dump, into)
            return
        if dump is None or not into:
            raise CommandError("name a dump file and --into DATABASE, or --to-time ISO with --data DIR")
        if "://" in into:
            target = target_from_url(into)
        else:
            target = target_of(connections["default"].settings_dict).other_database(into)
        try:
            restore_dump(dump=dump, into=target)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {dump} into {target.dbname}")

    def _to_time(self, to_time: str, folder: Path, data: Path | None, port: int | None, dump, into) -> None:
        if dump or into:
            raise CommandError("--to-time restores a base backup: it takes no dump file and no --into")
        if data is None:
            raise CommandError("--to-time needs --data DIR, the new data directory")
        try:
            moment = datetime.fromisoformat(to_time)
        except ValueError:
            raise CommandError(f"--to-time {to_time!r} is not an ISO time (2026-12-07T14:30:00+08:00)") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        try:
            base = restore_to_time(folder=folder, to_time=moment, data=data, port=port)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{data} from {base.name}, replaying the WAL to {moment.isoformat()}: start it "
                          f"(pg_ctl -D {data} start, as the server's user); it promotes itself there")
