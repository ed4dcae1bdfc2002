"""`manage.py route_stats [--shop ID]`: recompute the route statistics now (the daily job does it every night)."""
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from logistics.models import RouteStat
from logistics.sql import route_stats_refresh


class Command(BaseCommand):
    help = "Recompute each route's transit and scan-gap statistics (carrier, origin province, destination province)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, action="append", dest="shops", help="only this shop (repeatable)")

    def handle(self, *args, shops=None, **options):
        written = route_stats_refresh(now=timezone.now(), shop_ids=shops)
        counted = RouteStat.objects.filter(delivered__gte=settings.LOGISTICS_ROUTE_MIN_DELIVERED)
        if shops:
            counted = counted.filter(shop_id__in=shops)
        self.stdout.write(f"{written} routes computed, {counted.count()} with enough history to be used")

