"""Print the merchant open-API token of a console user."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shop_admin.kernel.models import MerchantApiToken


class Command(BaseCommand):
    help = "Print the merchant API token of console user USERNAME (for ERP integrations)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no console user named {username!r}")
        if not user.memberships.exists():
            raise CommandError(f"{username!r} belongs to no shop; a merchant token would reach nothing")
        token, _created = MerchantApiToken.objects.get_or_create(user=user)
        self.stdout.write(token.key)
