"""The console's CSV order export for ops: the contract's columns, one row per order line, streamed to FILE."""
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from orders.constants import OrderStatus
from orders.exports import order_export_lines, order_export_write
from orders.selectors import OrderFilters
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.selectors import shop_get


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Export shop ID's orders as the console's CSV (UTF-8 with BOM), optionally by status and order date."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", type=int, required=True)
        parser.add_argument("--status", choices=OrderStatus.values)
        parser.add_argument("--created-from", help="first order day, YYYY-MM-DD (shop time)")
        parser.add_argument("--created-to", help="last order day, YYYY-MM-DD (shop time)")

    def handle(self, *args, file, shop, status=None, created_from=None, created_to=None, **options):
        try:
            shop_obj = shop_get(shop_id=shop)
        except NotFound:
            raise CommandError(f"--shop: no shop with id {shop}") from None
        filters = OrderFilters(
            status=status,
            created_from=_day(created_from, "--created-from") if created_from else None,
            created_to=_day(created_to, "--created-to") if created_to else None,
        )
        lines = order_export_lines(shop_id=shop_obj.pk, filters=filters)
        with open(file, "wb") as out:
            written = order_export_write(lines, out, shop_id=shop_obj.pk)
        self.stdout.write(f"{written} lines written to {file}")
