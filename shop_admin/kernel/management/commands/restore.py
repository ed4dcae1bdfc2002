"""`manage.py restore FILE --into DATABASE`: a dump from `manage.py backup` restored into a fresh database."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from shop_admin.kernel.backups import BackupError, restore_dump, target_from_url, target_of


class Command(BaseCommand):
    help = ("Restore a dump of `manage.py backup` into a database that does not exist yet (it is created); point "
            "DATABASE_URL at it once checked (`manage.py reconcile --date ...` on it).")

    def add_arguments(self, parser):
        parser.add_argument("dump", type=Path)
        parser.add_argument("--into", required=True,
                            help="a database name on the same server as DATABASE_URL, or a postgres:// URL")

    def handle(self, *args, dump, into, **options):
        if "://" in into:
            target = target_from_url(into)
        else:
            target = target_of(connections["default"].settings_dict).other_database(into)
        try:
            restore_dump(dump=dump, into=target)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {dump} into {target.dbname}")
