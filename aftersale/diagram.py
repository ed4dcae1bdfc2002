"""The after-sale state machine drawn from its own transitions (Mermaid), for docs/aftersale-states.md."""
from aftersale.constants import AfterSaleStatus, douyin_code
from aftersale.models import AfterSaleCase
from shop_admin.kernel.diagram import state_mermaid


def aftersale_state_mermaid() -> str:
    return state_mermaid(
        AfterSaleCase,
        initial=AfterSaleStatus.REQUESTED.value,
        statuses=AfterSaleStatus,
        state_text=lambda status: f"{status.value} {status.label} ({douyin_code(status)})",
        edge_text=lambda name: name,
    )
