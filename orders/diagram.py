"""The order state machine drawn from its own transitions (Mermaid), for docs/ and the console."""
from orders.constants import OrderStatus
from orders.models import Order
from orders.services.common import TRANSITION_LABELS


def order_state_mermaid() -> str:
    field = Order._meta.get_field("status")
    lines = ["stateDiagram-v2", f"    [*] --> {OrderStatus.PENDING_PAYMENT.value}"]
    for status in OrderStatus:
        lines.append(f"    {status.value} : {status.value} {status.label}")
    edges = sorted({(str(t.source), str(t.target), t.name) for t in field.get_all_transitions(Order)})
    for source, target, name in edges:
        lines.append(f"    {source} --> {target} : {TRANSITION_LABELS.get(name, name)} ({name})")
    return "\n".join(lines) + "\n"
