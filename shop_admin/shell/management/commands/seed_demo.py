"""Demo data, idempotent: two shops, their staff, products, and a month of orders in every state made through the real services.

How the month is made: every order is placed, paid, shipped, signed... by the same services as the API, at the
real clock. Between two steps the order moves back in time as a whole (`orders_move_back`: its times, deadlines,
events, payments, ledger, shipments, exceptions, after-sales and order number together) by the gap that
separates those steps in the story, and once more at the end by the time since its last step. So money and
stock are what the services made them, and every time of an order keeps its real order and spacing.

The picture: order times follow a shop's week (weekends busier) and day (most orders 19:00-23:00 shop time);
how far an order got depends on its age (old orders are finished, young ones are waiting to be paid, shipped
or signed), with a few late shipments (paid longer ago than the shop's ship promise) and stalled parcels (no news for > 72 h). Live
deadlines are never already past: pay windows, auto-confirm and after-sale replies are still running.

The parts live in `shop_admin/shell/demo/`: people, catalogue, clock (the month and moving back in time), story.
"""
import os
import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from orders.models import Order, Product
from shop_admin.kernel.models import Shop
from shop_admin.shell.demo.aftersales import demo_aftersale_outcomes
from shop_admin.shell.demo.catalogue import demo_catalogue_shop1, demo_catalogue_shop2
from shop_admin.shell.demo.clock import DEMO_DAYS, ORDERS_SHOP_1, ORDERS_SHOP_2, Rhythm, cache_warnings_muted
from shop_admin.shell.demo.people import DEMO_PASSWORD, DEMO_USERNAMES, demo_buyers, demo_shops, demo_users
from shop_admin.shell.demo.reviews import demo_reviews
from shop_admin.shell.demo.story import QUOTAS_SHOP_1, QUOTAS_SHOP_2, MonthStory


class Command(BaseCommand):
    help = "Load the demo shops, users, products and a month of orders (idempotent)."

    def handle(self, *args, **options):
        rng = random.Random(2026)
        story = MonthStory(rng=rng, stderr=self.stderr)
        users = demo_users()
        shop1, shop2 = demo_shops(users)
        if Order.objects.filter(shop=shop1).exists():
            self.stdout.write("demo orders already present; users and shops checked")
        else:
            # All or nothing: a failed run leaves no half month behind.
            with cache_warnings_muted(), transaction.atomic():
                now = timezone.now()
                rhythm = Rhythm(now, rng)
                buyers = demo_buyers(rhythm.start)
                skus1 = demo_catalogue_shop1(shop1)
                skus2 = demo_catalogue_shop2(shop2)
                for shop in (shop1, shop2):
                    Shop.objects.filter(pk=shop.pk).update(created_at=rhythm.start - timedelta(days=90))
                    Product.objects.filter(shop=shop).update(created_at=rhythm.start - timedelta(days=60))
                made = story.orders(shop1, skus1, buyers, users["merchant"], rng, rhythm, count=ORDERS_SHOP_1, quotas=QUOTAS_SHOP_1)
                made += story.orders(shop2, skus2, buyers, users["merchant2"], rng, rhythm, count=ORDERS_SHOP_2, quotas=QUOTAS_SHOP_2)
                demo_aftersale_outcomes(shop=shop1, merchant=users["merchant"], stderr=self.stderr)
                demo_reviews(shop=shop1, merchant=users["merchant"], rng=rng)
            self.stdout.write(f"demo orders: {made} over the last {DEMO_DAYS} days")
        self.stdout.write(self.style.SUCCESS(f"demo ready; sign in at http://127.0.0.1:{os.environ.get('PORT', '8000')}/login/"))
        for username in DEMO_USERNAMES:
            self.stdout.write(f"  {username:<10} password: {DEMO_PASSWORD}")
