"""The order state machine drawn from its own transitions (Mermaid), for docs/ and the console."""
from orders.constants import OrderStatus
from orders.models import Order
from orders.services.common import TRANSITION_LABELS
from shop_admin.kernel.diagram import state_mermaid


def order_state_mermaid() -> str:
    return state_mermaid(
        Order,
        initial=OrderStatus.PENDING_PAYMENT.value,
        statuses=OrderStatus,
        state_text=lambda status: f"{status.value} {status.label}",
        edge_text=lambda name: f"{TRANSITION_LABELS.get(name, name)} ({name})",
    )
