"""Print the order state machine as a Mermaid diagram (docs/order-states.md keeps the current one)."""
from django.core.management.base import BaseCommand

from orders.diagram import order_state_mermaid


class Command(BaseCommand):
    help = "Print the order state machine as a Mermaid stateDiagram."

    def handle(self, *args, **options):
        self.stdout.write(order_state_mermaid(), ending="")
