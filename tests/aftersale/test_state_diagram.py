"""The after-sale diagram in docs/ is the one the code enforces."""
from pathlib import Path

from aftersale.diagram import aftersale_state_mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "aftersale-states.md"


def test_docs_diagram_matches_the_after_sale_state_machine():
    diagram = aftersale_state_mermaid()
    assert "rejected --> arbitrating : escalate" in diagram
    assert diagram in DOC.read_text(encoding="utf-8"), "regenerate docs/aftersale-states.md from aftersale.diagram"
