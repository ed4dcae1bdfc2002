"""After-sale case types, states, 抖店's after-sale codes and the event kinds after-sale writes on the order's timeline."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class AfterSaleType(models.TextChoices):
    RETURN_REFUND = "return_refund", _("退货退款")
    REFUND_ONLY = "refund_only", _("仅退款")
    EXCHANGE = "exchange", _("换货")
    REPAIR = "repair", _("维修")
    RESHIP = "reship", _("补寄")


class AfterSaleStatus(models.TextChoices):
    REQUESTED = "requested", _("待商家处理")  # waiting for the merchant, reply deadline running
    NEGOTIATING = "negotiating", _("协商中")  # the merchant wrote to the buyer; the reply deadline still runs
    APPROVED = "approved", _("已同意")  # agreed: missing items to reship, or a shipped parcel to intercept before the refund
    AWAITING_RETURN = "awaiting_return", _("待买家退货")  # agreed; the buyer ships the goods back within 7 days
    RETURNING = "returning", _("退货中")  # the return parcel is on its way to the merchant
    INSPECTING = "inspecting", _("待验货")  # the merchant received the return; 24 h to inspect
    REFUNDED = "refunded", _("已退款")  # the money goes back (the refund's own status says when it arrives)
    RESHIPPED = "reshipped", _("已补寄/换货已发出")  # the merchant sent the exchange or the missing items
    REJECTED = "rejected", _("商家已拒绝")  # the buyer may ask the platform to arbitrate for 7 days
    ARBITRATING = "arbitrating", _("平台仲裁中")
    CLOSED = "closed", _("已关闭")


# Cases that still hold their order lines: one open case per line at a time.
OPEN_STATUSES = [
    AfterSaleStatus.REQUESTED,
    AfterSaleStatus.NEGOTIATING,
    AfterSaleStatus.APPROVED,
    AfterSaleStatus.AWAITING_RETURN,
    AfterSaleStatus.RETURNING,
    AfterSaleStatus.INSPECTING,
    AfterSaleStatus.ARBITRATING,
]

# The merchant owes an answer in these states; the dashboard counts them.
AWAITING_MERCHANT = [AfterSaleStatus.REQUESTED, AfterSaleStatus.NEGOTIATING, AfterSaleStatus.APPROVED, AfterSaleStatus.INSPECTING]

# Cases that want goods back before anything else happens.
RETURN_TYPES = {AfterSaleType.RETURN_REFUND, AfterSaleType.EXCHANGE, AfterSaleType.REPAIR}

# Cases that end in money back (the others end in goods).
REFUND_TYPES = {AfterSaleType.RETURN_REFUND, AfterSaleType.REFUND_ONLY}


def douyin_code(status: str, *, rejected_after_inspection: bool = False) -> int:
    """抖店's own after-sale status code, for ERPs that already speak it (domain rules)."""
    if status in (AfterSaleStatus.REJECTED, AfterSaleStatus.ARBITRATING):
        return 29 if rejected_after_inspection else 27  # 商家二次拒绝 / 商家一次拒绝
    return {
        AfterSaleStatus.REQUESTED: 6,  # 待商家同意
        AfterSaleStatus.NEGOTIATING: 6,
        AfterSaleStatus.APPROVED: 6,  # agreed, but the merchant still has to send the parcel
        AfterSaleStatus.AWAITING_RETURN: 7,  # 待买家退货
        AfterSaleStatus.RETURNING: 7,
        AfterSaleStatus.INSPECTING: 11,  # 待商家二次同意
        AfterSaleStatus.REFUNDED: 12,  # 售后成功
        AfterSaleStatus.RESHIPPED: 13,  # 换货待买家收货
        AfterSaleStatus.CLOSED: 28,  # 售后失败 / 关闭
    }[status]


class MerchantAction(models.TextChoices):
    """What the merchant can do to a case: the workbench buttons and the open API's `operate` actions."""

    AGREE = "agree", _("同意")
    REJECT = "reject", _("拒绝")
    MESSAGE = "message", _("留言协商")
    CONFIRM_RETURN = "confirm_return", _("确认收到退货")
    REFUND = "refund", _("退款")
    RESHIP = "reship", _("补寄/换货发出")


class Ruling(models.TextChoices):
    FOR_BUYER = "for_buyer", _("支持买家：强制退款")
    FOR_MERCHANT = "for_merchant", _("支持商家：驳回，标记买家")


class MessageAuthor(models.TextChoices):
    BUYER = "buyer", _("买家")
    MERCHANT = "merchant", _("商家")
    PLATFORM = "platform", _("平台")
    SYSTEM = "system", _("系统")


class AfterSaleEventKind(models.TextChoices):
    """What after-sale writes on the order's timeline; every `data` holds aftersale_id."""

    OPENED = "aftersale_opened", _("申请售后")  # data: aftersale_id, type, amount, lines
    AUTO_APPROVED = "aftersale_auto_approved", _("售后超时自动同意")  # data: aftersale_id, type, to_status
    AGREED = "aftersale_agreed", _("商家同意售后")  # data: aftersale_id, to_status, return_address
    REJECTED = "aftersale_rejected", _("商家拒绝售后")  # reason; data: aftersale_id, evidence, stage
    MESSAGE = "aftersale_message", _("售后留言")  # reason: the text; data: aftersale_id, author, evidence
    RETURN_SHIPPED = "aftersale_return_shipped", _("买家寄回退货")  # data: aftersale_id, carrier, tracking_no
    RETURN_RECEIVED = "aftersale_return_received", _("商家确认收到退货")  # data: aftersale_id, inspect_deadline
    REFUNDED = "aftersale_refunded", _("售后退款")  # data: aftersale_id, refund_id, amount, deductions
    RESHIPPED = "aftersale_reshipped", _("售后补寄/换货发出")  # data: aftersale_id, carrier, tracking_no
    INTERCEPTED = "aftersale_intercepted", _("拦截包裹")  # data: aftersale_id, carrier, tracking_no
    INTERCEPT_FAILED = "aftersale_intercept_failed", _("拦截未成功，转为退货退款")  # data: aftersale_id, to_status, return_address
    CLOSED = "aftersale_closed", _("售后关闭")  # reason; data: aftersale_id, from_status
    ESCALATED = "aftersale_escalated", _("买家申请平台仲裁")  # reason; data: aftersale_id
    RULED = "aftersale_ruled", _("平台仲裁结果")  # reason; data: aftersale_id, ruling, compensation, penalty_points


# --- after-sale rules (自动审核) ---


class RuleAction(models.TextChoices):
    AGREE = "agree", _("同意")  # what the merchant's agree does: a return is awaited, a refund-only claim paid
    REFUND_WITHOUT_RETURN = "refund_without_return", _("直接退款（无需退货）")  # a return claim refunded, the goods kept


class RuleOrderState(models.TextChoices):
    """Where the order stood when the case was opened."""

    NOT_SHIPPED = "not_shipped", _("未发货")
    SHIPPED = "shipped", _("已发货未签收")
    RECEIVED = "received", _("已签收")


class RuleEventKind(models.TextChoices):
    CREATED = "created", _("创建规则")  # data: the rule's fields
    CHANGED = "changed", _("修改规则")  # data: changes {field: [before, after]}
    DELETED = "deleted", _("删除规则")  # data: name


# --- reviews (评价) ---

BAD_REVIEW_MAX_RATING = 2  # a review rated this or lower is a bad review: a to-do with a reply deadline


class ReportReason(models.TextChoices):
    """Why a merchant reports a review (评价申诉): the platform's accepted grounds."""

    ABUSIVE = "abusive", _("辱骂攻击")
    ADVERTISING = "advertising", _("广告信息")
    IRRELEVANT = "irrelevant", _("与商品无关")
    EXTORTION = "extortion", _("恶意索要好处")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("待平台处理")  # the platform has not decided yet
    KEPT = "kept", _("保留评价")  # the review stays and counts
    HIDDEN = "hidden", _("已隐藏评价")  # the review leaves the product's score and the buyer's view


class ReviewEventKind(models.TextChoices):
    """What reviews write on the order's timeline; every `data` holds review_id."""

    CREATED = "review_created", _("买家评价")  # data: review_id, sku_id, rating, logistics_rating, service_rating
    FOLLOWED_UP = "review_followed_up", _("买家追评")  # data: review_id
    REPLIED = "review_replied", _("商家回复评价")  # data: review_id
    REPORTED = "review_reported", _("商家申诉评价")  # reason: the report reason; data: review_id, report_id, evidence
    KEPT = "review_kept", _("平台保留评价")  # reason: the platform's note; data: review_id, report_id
    HIDDEN = "review_hidden", _("平台隐藏评价")  # reason: the platform's note; data: review_id, report_id
