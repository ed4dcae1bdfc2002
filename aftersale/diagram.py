"""The after-sale state machine drawn from its own transitions (Mermaid), for docs/aftersale-states.md."""
from aftersale.constants import AfterSaleStatus, douyin_code
from aftersale.models import AfterSaleCase


def aftersale_state_mermaid() -> str:
    field = AfterSaleCase._meta.get_field("status")
    lines = ["stateDiagram-v2", f"    [*] --> {AfterSaleStatus.REQUESTED.value}"]
    for status in AfterSaleStatus:
        lines.append(f"    {status.value} : {status.value} {status.label} ({douyin_code(status)})")
    edges = sorted({(str(t.source), str(t.target), t.name) for t in field.get_all_transitions(AfterSaleCase)})
    for source, target, name in edges:
        lines.append(f"    {source} --> {target} : {name}")
    return "\n".join(lines) + "\n"
