"""The state diagram in docs/ is the one the code enforces."""
from pathlib import Path

from orders.diagram import order_state_mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "order-states.md"


def test_docs_diagram_matches_the_state_machine():
    diagram = order_state_mermaid()
    assert "pending_payment --> paid" in diagram
    assert diagram in DOC.read_text(encoding="utf-8"), "run: python manage.py order_state_diagram > docs (see docs/order-states.md)"
