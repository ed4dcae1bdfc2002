"""`manage.py route_backtest`: replay the at-risk flag over a shop's history (or generated history) and print how early
it flags the parcels that later stall and how many parcels it flags that were delivered without stalling."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from logistics.route_backtest import route_backtest
from logistics.route_backtest_data import backtest_history_generate
from shop_admin.kernel.models import Shop


class Command(BaseCommand):
    help = "Backtest the route-aware at-risk flag: stalled parcels flagged early, hours earlier, false flags."

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, help="the shop whose history is replayed")
        parser.add_argument("--generate", type=int, metavar="PARCELS", help="first generate a new shop with this many parcels")
        parser.add_argument("--seed", type=int, default=22)
        parser.add_argument("--split-days", type=int, default=40, help="statistics as of this many days ago; later parcels are replayed")

    def handle(self, *args, shop=None, generate=None, seed=22, split_days=40, **options):
        now = timezone.now()
        if generate:
            with transaction.atomic():
                shop = backtest_history_generate(parcels=generate, now=now, seed=seed).pk
            self.stdout.write(f"generated {generate} parcels in shop {shop}")
        if shop is None or not Shop.objects.filter(pk=shop).exists():
            raise CommandError("name a shop with --shop ID, or --generate PARCELS")
        result = route_backtest(shop_id=shop, split=now - timedelta(days=split_days), until=now)
        for line in result.lines():
            self.stdout.write(line)
