"""The console's CSV order import for ops: check every row, then write all of it or nothing (exit 1 on any bad row)."""
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.imports.apply import orders_import_apply
from orders.imports.check import orders_import_plan
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.csvio import CsvUnreadable, csv_read
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.selectors import shop_get


class Command(BaseCommand):
    help = "Import orders from a CSV file (the console's columns, or a 抖店 export) into shop ID; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", type=int, required=True, help="the shop's id")
        parser.add_argument("--dry-run", action="store_true", help="check every row and write nothing")

    def handle(self, *args, file, shop, dry_run=False, **options):
        try:
            shop_obj = shop_get(shop_id=shop)
        except NotFound:
            raise CommandError(f"--shop: no shop with id {shop}") from None
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            table = csv_read(path.read_bytes())
        except CsvUnreadable:
            raise CommandError(f"{file}: not a CSV file in UTF-8 or GBK") from None
        if dry_run:
            plan = orders_import_plan(shop_id=shop_obj.pk, table=table)
        else:
            plan = orders_import_apply(shop_id=shop_obj.pk, actor=Actor.system("import_orders"), table=table, source=path.name)
        written = not dry_run and not plan.errors
        summary = plan.summary()
        self.stdout.write(
            f"rows: {summary['rows']}  created: {summary['created'] if written else 0}  updated: {summary['updated'] if written else 0}  "
            f"skipped: {summary['skipped']}  failed: {summary['failed']}  (encoding {summary['encoding']})"
        )
        if dry_run and not plan.errors:
            self.stdout.write(f"dry run: would create {summary['created']} and update {summary['updated']}; nothing written")
        if summary["oversold"] and written:
            self.stdout.write(f"oversold (flagged): {summary['oversold']}")
        if plan.unknown_columns:
            self.stdout.write(f"ignored columns: {', '.join(plan.unknown_columns)}")
        for error in plan.errors:
            self.stdout.write(f"line {error.line}, {error.column}: {error.text}")
        if plan.errors:
            self.stderr.write(f"{len(plan.errors)} problem(s) in {plan.failed_rows} row(s): nothing was written")
            sys.exit(1)
