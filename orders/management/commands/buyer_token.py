"""Print the API token of a buyer, creating the buyer if needed."""
from django.core.management.base import BaseCommand

from orders.models import Buyer


class Command(BaseCommand):
    help = "Print the API token of buyer NAME, creating the buyer if needed."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        buyer, _created = Buyer.objects.get_or_create(name=name)
        self.stdout.write(buyer.api_token)
