"""Shapes of the after-sale API: what buyers and ERPs send, and a case as they see it."""
from decimal import Decimal
from typing import Literal

from ninja import Field
from pydantic import field_validator

from aftersale.constants import AfterSaleType, MerchantAction
from aftersale.models import AfterSaleCase
from aftersale.rule_selectors import rule_approvals_of
from aftersale.selectors import aftersale_detail_rows
from shop_admin.kernel.api import RowId, Schema, money_str, time_str

EVIDENCE_MAX = 9


def _check_urls(urls: list[str]) -> list[str]:
    for url in urls:
        if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 500:
            raise ValueError("evidence must be http(s) URLs of at most 500 characters")
    return urls


class ClaimItemIn(Schema):
    sku_id: int
    quantity: int = Field(..., ge=1, le=999)


class AfterSaleCreateIn(Schema):
    type: Literal[tuple(AfterSaleType.values)]  # type: ignore[valid-type]
    reason: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    items: list[ClaimItemIn] | None = Field(None, max_length=50)
    amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    evidence: list[str] = Field(default_factory=list, max_length=EVIDENCE_MAX)

    @field_validator("evidence")
    @classmethod
    def evidence_urls(cls, value: list[str]) -> list[str]:
        return _check_urls(value)


class ReturnShipmentIn(Schema):
    carrier: str = Field(..., min_length=1, max_length=20)
    tracking_no: str = Field(..., min_length=1, max_length=40)


class ArbitrationIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


class MessageIn(Schema):
    message: str = Field(..., min_length=1, max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=EVIDENCE_MAX)

    @field_validator("evidence")
    @classmethod
    def evidence_urls(cls, value: list[str]) -> list[str]:
        return _check_urls(value)


class DeductionIn(Schema):
    reason: str = Field(..., min_length=1, max_length=100)
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)


class OperateIn(Schema):
    action: Literal[tuple(MerchantAction.values)]  # type: ignore[valid-type]
    reason: str = Field("", max_length=200)
    message: str = Field("", max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=EVIDENCE_MAX)
    deductions: list[DeductionIn] = Field(default_factory=list, max_length=10)
    return_address_id: RowId | None = Field(None, description="agree on a return: one of the shop's return addresses; default: the shop's default")
    carrier: str = Field("", max_length=20)
    tracking_no: str = Field("", max_length=40)

    @field_validator("evidence")
    @classmethod
    def evidence_urls(cls, value: list[str]) -> list[str]:
        return _check_urls(value)


class EvidenceOut(Schema):
    id: int
    url: str
    content_type: str
    size: int


class AfterSaleBriefOut(Schema):
    id: int
    type: str
    status: str
    reply_deadline: str | None


def aftersale_brief_out(case) -> dict:
    return {"id": case.pk, "type": case.type, "status": case.status, "reply_deadline": time_str(case.reply_deadline)}


class CaseLineOut(Schema):
    sku_id: int
    sku_code: str
    product_name: str
    quantity: int


class MessageOut(Schema):
    author: str
    author_label: str
    body: str
    evidence: list[str]
    created_at: str


class ParcelOut(Schema):
    carrier: str
    tracking_no: str


class RefundOut(Schema):
    refund_id: int
    status: str
    amount: str


class RuleRefOut(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    aftersale_id: int
    order_no: str
    type: str
    type_label: str
    status: str
    status_label: str
    douyin_code: int
    reason: str
    description: str
    amount: str | None
    evidence: list[str]
    lines: list[CaseLineOut]
    created_at: str
    reply_deadline: str | None
    due_at: str | None
    return_deadline: str | None
    inspect_deadline: str | None
    appeal_deadline: str | None
    return_address: str
    return_shipment: ParcelOut | None
    reship: ParcelOut | None
    intercepted_at: str | None
    refund: RefundOut | None
    deductions: list[dict]
    reject_reason: str
    reject_evidence: list[str]
    arbitration_reason: str
    ruling: str
    ruling_note: str
    closed_at: str | None
    messages: list[MessageOut]
    actions: list[str] = []
    approved_by_rule: RuleRefOut | None = None


class CaseListOut(Schema):
    after_sales: list[CaseOut]
    next_cursor: str | None


def case_out(case: AfterSaleCase, *, actions: list[str] | None = None) -> dict:
    rows = aftersale_detail_rows(case=case)
    refund = case.refund
    return {
        "id": case.pk,
        "aftersale_id": case.pk,
        "order_no": case.order.order_no,
        "type": case.type,
        "type_label": str(case.get_type_display()),
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "douyin_code": case.douyin_code,
        "reason": case.reason,
        "description": case.description,
        "amount": money_str(case.amount),
        "evidence": case.evidence,
        "lines": [
            {"sku_id": al.line.sku_id, "sku_code": al.line.sku_code, "product_name": al.line.product_name, "quantity": al.quantity}
            for al in rows["lines"]
        ],
        "created_at": time_str(case.created_at),
        "reply_deadline": time_str(case.reply_deadline),
        "due_at": time_str(case.due_at),
        "return_deadline": time_str(case.return_deadline),
        "inspect_deadline": time_str(case.inspect_deadline),
        "appeal_deadline": time_str(case.appeal_deadline),
        "return_address": case.return_address,
        "return_shipment": {"carrier": case.return_carrier, "tracking_no": case.return_tracking_no} if case.return_tracking_no else None,
        "reship": {"carrier": case.reship_carrier, "tracking_no": case.reship_tracking_no} if case.reship_tracking_no else None,
        "intercepted_at": time_str(case.intercepted_at),
        "refund": {"refund_id": refund.pk, "status": refund.status, "amount": money_str(refund.amount)} if refund else None,
        "deductions": case.deductions,
        "reject_reason": case.reject_reason,
        "reject_evidence": case.reject_evidence,
        "arbitration_reason": case.arbitration_reason,
        "ruling": case.ruling,
        "ruling_note": case.ruling_note,
        "closed_at": time_str(case.closed_at),
        "messages": [
            {"author": m.author, "author_label": m.author_label, "body": m.body, "evidence": m.evidence, "created_at": time_str(m.created_at)}
            for m in rows["messages"]
        ],
        "actions": actions or [],
        "approved_by_rule": rule_approvals_of(case_ids=[case.pk]).get(case.pk),
    }


# --- reviews ---


class LineReviewIn(Schema):
    sku_id: int
    rating: int
    text: str = Field("", max_length=2000)
    images: list[str] = Field(default_factory=list, max_length=50)


class ReviewCreateIn(Schema):
    items: list[LineReviewIn] = Field(..., max_length=50)
    logistics_rating: int | None = None
    service_rating: int | None = None


class FollowUpIn(Schema):
    sku_id: int
    text: str = Field(..., max_length=2000)


class ReviewReplyIn(Schema):
    text: str = Field(..., max_length=2000)


class ReviewReportIn(Schema):
    reason: str = Field(..., max_length=20, description="abusive / advertising / irrelevant / extortion")
    description: str = Field("", max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=50)


class FollowUpOut(Schema):
    text: str
    created_at: str


class ReplyOut(Schema):
    text: str
    created_at: str


class ReportOut(Schema):
    id: int
    reason: str
    description: str
    evidence: list[str]
    status: Literal["pending", "kept", "hidden"]
    decided_at: str | None


class ReviewOut(Schema):
    id: int
    order_no: str
    sku_id: int
    product_id: int
    rating: int
    text: str
    images: list[str]
    logistics_rating: int | None
    service_rating: int | None
    created_at: str
    follow_up: FollowUpOut | None
    reply: ReplyOut | None
    reply_deadline: str | None
    hidden: bool
    report: ReportOut | None


class ReviewFeedOut(Schema):
    reviews: list[ReviewOut]
    next_cursor: str | None


def review_out(review) -> dict:
    report = getattr(review, "report", None)  # the reverse one-to-one raises AttributeError when there is none
    return {
        "id": review.pk,
        "order_no": review.order.order_no,
        "sku_id": review.sku_id,
        "product_id": review.product_id,
        "rating": review.rating,
        "text": review.text,
        "images": review.images,
        "logistics_rating": review.logistics_rating,
        "service_rating": review.service_rating,
        "created_at": time_str(review.created_at),
        "follow_up": {"text": review.follow_up_text, "created_at": time_str(review.follow_up_at)} if review.follow_up_at else None,
        "reply": {"text": review.reply_text, "created_at": time_str(review.replied_at)} if review.replied_at else None,
        "reply_deadline": time_str(review.reply_deadline),
        "hidden": review.hidden_at is not None,
        "report": {
            "id": report.pk, "reason": report.reason, "description": report.description, "evidence": report.evidence,
            "status": report.status, "decided_at": time_str(report.decided_at),
        } if report else None,
    }
