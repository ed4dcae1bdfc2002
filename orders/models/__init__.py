"""The models of orders, one module per concern; import them from here."""
from orders.models.base import MONEY, _new_token
from orders.models.buyers import Buyer, IdempotencyRecord
from orders.models.catalog import Product, Sku
from orders.models.coupons import Coupon, CouponClaim, CouponEvent, CouponRedemption, FullReduction
from orders.models.events import AuditPrune, OrderEvent
from orders.models.exceptions import OrderException
from orders.models.money import LedgerEntry, Payment, Refund, RefundLine, Settlement
from orders.models.order import Order, OrderLine
from orders.models.privacy import ContactExport
from orders.models.reconciliation import ReconciliationRun
from orders.models.stats import OrderDayStat
from orders.models.stock import StockAdjustment, StockLevel

__all__ = [
    "MONEY",
    "AuditPrune",
    "_new_token",
    "Buyer",
    "IdempotencyRecord",
    "Product",
    "Sku",
    "ContactExport",
    "Coupon",
    "CouponClaim",
    "CouponEvent",
    "CouponRedemption",
    "FullReduction",
    "OrderEvent",
    "OrderException",
    "LedgerEntry",
    "Payment",
    "Refund",
    "RefundLine",
    "Settlement",
    "Order",
    "OrderDayStat",
    "OrderLine",
    "ReconciliationRun",
    "StockAdjustment",
    "StockLevel",
]
