"""After-sale actions: open a case, the merchant's review, the return parcel, refunds, the clock and arbitration.

Every action locks the order, then the case (the order refunds lock in), runs the case's
FSM transition, moves money through `orders.services.refunds` and writes its event,
all in one transaction.
"""
from aftersale.services.arbitration import aftersale_escalate, aftersale_rule
from aftersale.services.clock import aftersale_inspect_timeout, aftersale_reply_timeout, aftersale_return_timeout
from aftersale.services.open import aftersale_open
from aftersale.services.review import (
    aftersale_actions_allowed,
    aftersale_agree,
    aftersale_buyer_message,
    aftersale_confirm_return,
    aftersale_message,
    aftersale_operate,
    aftersale_refund,
    aftersale_reject,
    aftersale_reship,
    aftersale_return_ship,
)

__all__ = [
    "aftersale_actions_allowed",
    "aftersale_agree",
    "aftersale_buyer_message",
    "aftersale_confirm_return",
    "aftersale_escalate",
    "aftersale_inspect_timeout",
    "aftersale_message",
    "aftersale_open",
    "aftersale_operate",
    "aftersale_refund",
    "aftersale_reject",
    "aftersale_reply_timeout",
    "aftersale_reship",
    "aftersale_return_ship",
    "aftersale_return_timeout",
    "aftersale_rule",
]
