"""Order, stock, payment, exception and event choices."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待支付")  # submitted; stock locked for the pay window
    DEPOSIT_PAID = "deposit_paid", _("待付尾款")  # presale: deposit paid, balance due by a date
    PAID = "paid", _("待发货")  # paid in full; stock occupied; ship deadline running
    SHIPPED = "shipped", _("已发货")  # handed to a carrier with a tracking number
    DELIVERED = "delivered", _("已签收")  # carrier reports signed; auto-confirm running
    COMPLETED = "completed", _("交易完成")  # receipt confirmed; funds settled to the merchant
    CANCELLED = "cancelled", _("已取消")  # unpaid timeout or cancelled before payment
    CLOSED = "closed", _("交易关闭")  # fully refunded after payment
    REJECTED = "rejected", _("拒收退回")  # refused at the door; goods go back


class OrderKind(models.TextChoices):
    """Product-type marker; its digit is part of the order number."""

    NORMAL = "normal", _("普通")
    PRESALE = "presale", _("预售")
    FRESH = "fresh", _("生鲜")
    VIRTUAL = "virtual", _("虚拟")


ORDER_KIND_DIGIT = {OrderKind.NORMAL: "1", OrderKind.PRESALE: "2", OrderKind.FRESH: "3", OrderKind.VIRTUAL: "4"}


class LineStock(models.TextChoices):
    """Where the units of one order line stand in the stock ledger."""

    LOCKED = "locked", _("已锁定")  # held for the pay window
    RELEASED = "released", _("已释放")  # back to available (timeout, cancel, payment failure)
    OCCUPIED = "occupied", _("已占用")  # paid; kept until shipped
    DEDUCTED = "deducted", _("已扣减")  # shipped
    SHORT = "short", _("超卖缺货")  # paid but no stock could be occupied: oversell


class PaymentChannel(models.TextChoices):
    DOUYIN_PAY = "douyin_pay", _("抖音支付")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    BANK_CARD = "bank_card", _("银行卡")


class PaymentPurpose(models.TextChoices):
    FULL = "full", _("全款")
    DEPOSIT = "deposit", _("定金")
    BALANCE = "balance", _("尾款")


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("待支付")  # handed to the channel, no answer yet
    SUCCEEDED = "succeeded", _("支付成功")
    FAILED = "failed", _("支付失败")


class PaymentFailure(models.TextChoices):
    INSUFFICIENT_BALANCE = "insufficient_balance", _("余额不足")
    WRONG_PASSWORD = "wrong_password", _("密码错误")
    NETWORK_ERROR = "network_error", _("网络异常")
    ACCOUNT_RESTRICTED = "account_restricted", _("账户受限")
    OTHER = "other", _("其他")


class LedgerKind(models.TextChoices):
    ESCROW_IN = "escrow_in", _("支付入监管账户")  # a channel reported a payment
    REFUND_OUT = "refund_out", _("退款")
    SETTLEMENT = "settlement", _("结算给商家")
    COMMISSION = "commission", _("平台佣金")
    DEPOSIT_FORFEIT = "deposit_forfeit", _("定金不退")  # presale balance not paid in time
    SETTLEMENT_REVERSAL = "settlement_reversal", _("结算退回")  # a refund after settlement: taken back from the merchant
    COMMISSION_REVERSAL = "commission_reversal", _("佣金退回")  # the platform's commission on a refund after settlement
    DEPOSIT_COMPENSATION = "deposit_compensation", _("保证金赔付")  # a ruling: the merchant's deposit pays the buyer


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("退款中")  # handed to the channel, waiting for its callback
    SUCCEEDED = "succeeded", _("退款成功")  # the money is back with the buyer; booked in the ledger
    FAILED = "failed", _("退款失败")  # the channel refused; retried by the refund_retry deadline


class ExceptionKind(models.TextChoices):
    STALLED_LOGISTICS = "stalled_logistics", _("物流停滞")
    OVERSELL = "oversell", _("超卖")
    PAID_NOT_SHIPPED = "paid_not_shipped", _("已支付未发货")
    NOT_RECEIVED = "not_received", _("签收未收到")
    ADDRESS_ANOMALY = "address_anomaly", _("地址异常")
    PAYMENT_ANOMALY = "payment_anomaly", _("支付异常")
    MERCHANT_REPORTED = "merchant_reported", _("商家报告异常")
    RISK_REVIEW = "risk_review", _("风控审核")
    PICKUP_OVERDUE = "pickup_overdue", _("揽收超时")  # logistics: shipped, no scan by LOGISTICS_PICKUP_AFTER
    DELIVERY_OVERDUE = "delivery_overdue", _("签收超时")  # logistics: not signed by the route's expected time


# Open exceptions of these kinds hold the order: it cannot ship until they are resolved.
SHIP_BLOCKING_EXCEPTIONS = {ExceptionKind.OVERSELL, ExceptionKind.MERCHANT_REPORTED, ExceptionKind.RISK_REVIEW}

# An order's end (these statuses) settles its open exceptions, except the kinds listed: something is still owed.
# A payment anomaly is money to return or recover whatever the order's state; a buyer's "not received" claim
# outlives receipt confirmation (the logistics-loss window runs 15 days after signing), but not a full refund.
ORDER_END_KEEPS_OPEN = {
    OrderStatus.COMPLETED: {ExceptionKind.PAYMENT_ANOMALY, ExceptionKind.NOT_RECEIVED},
    OrderStatus.CLOSED: {ExceptionKind.PAYMENT_ANOMALY},
    OrderStatus.CANCELLED: {ExceptionKind.PAYMENT_ANOMALY},
}


class ExceptionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已解决")


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("提交订单")
    PAYMENT_CREATED = "payment_created", _("发起支付")
    PAYMENT_SUCCEEDED = "payment_succeeded", _("支付成功")
    PAYMENT_FAILED = "payment_failed", _("支付失败")
    PAYMENT_IGNORED = "payment_ignored", _("支付回调已忽略")
    TRANSITION = "transition", _("状态变更")
    ADDRESS_CHANGED = "address_changed", _("修改地址")
    STOCK_SHORT = "stock_short", _("库存不足")
    EXCEPTION_OPENED = "exception_opened", _("异常登记")
    EXCEPTION_RESOLVED = "exception_resolved", _("异常解决")
    EXCEPTION_ESCALATED = "exception_escalated", _("异常超时升级平台")
    FROZEN = "frozen", _("冻结待审")
    RISK_APPROVED = "risk_approved", _("风控审核通过")
    SETTLED = "settled", _("结算")
    REMARK = "remark", _("商家备注")
    PHONE_REVEALED = "phone_revealed", _("查看完整收件信息")  # name, phone and address (the kind's value predates the name)
    IMPORTED = "imported", _("CSV导入")
    AUTO_CONFIRM_PAUSED = "auto_confirm_paused", _("自动确认收货暂停")
    AUTO_CONFIRM_RESUMED = "auto_confirm_resumed", _("自动确认收货恢复")
    EXCEPTION_EVIDENCE = "exception_evidence", _("补充异常证据")
    COMPENSATION_ISSUED = "compensation_issued", _("发放补偿券")
    LINE_SUBSTITUTED = "line_substituted", _("改发相似商品")
    STOCK_TRANSFERRED = "stock_transferred", _("跨仓调拨库存")
    STOCK_RETURNED = "stock_returned", _("退货入库")  # returned goods back on sale; data: source, lines
    RECOVERED = "recovered", _("订单召回")
    REFUND_CREATED = "refund_created", _("发起退款")
    REFUND_SUCCEEDED = "refund_succeeded", _("退款成功")
    REFUND_FAILED = "refund_failed", _("退款失败")
    REFUND_RETRIED = "refund_retried", _("退款重试")
    REFUND_IGNORED = "refund_ignored", _("退款回调已忽略")
    COMPENSATION_PAID = "compensation_paid", _("保证金赔付买家")
