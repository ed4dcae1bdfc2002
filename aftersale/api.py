"""JSON endpoints of after-sale: the buyer app opens and follows cases; ERPs list and answer them through the open API."""
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from aftersale.constants import AfterSaleStatus, MerchantAction
from aftersale.schemas import (
    AfterSaleCreateIn,
    ArbitrationIn,
    CaseListOut,
    CaseOut,
    EvidenceOut,
    MessageIn,
    OperateIn,
    ReturnShipmentIn,
    case_out,
)
from aftersale.selectors import CaseFilters, aftersale_get_for_buyer, aftersale_get_for_shops, aftersale_page, evidence_file_get
from aftersale.services import (
    aftersale_actions_allowed,
    aftersale_buyer_message,
    aftersale_escalate,
    aftersale_open,
    aftersale_operate,
    aftersale_return_ship,
)
from aftersale.services.evidence import evidence_upload
from aftersale.services.open import ItemClaim
from orders.api import BuyerAuth
from orders.selectors import order_get_for_buyer
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth
from shop_admin.kernel.errors import Invalid, NotFound
from shop_admin.kernel.permissions import Perm, require_perm
from shop_admin.kernel.selectors import user_shop_ids
from shop_admin.kernel.throttling import rate_limited

buyer_router = Router(auth=BuyerAuth(), tags=["buyer"])
merchant_router = Router(auth=MerchantAuth(), tags=["merchant"])


# --- buyer app ---


@buyer_router.post("/orders/{order_no}/aftersales", response={201: CaseOut, **ERRORS})
def aftersale_create(request, order_no: str, payload: AfterSaleCreateIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    case = aftersale_open(
        order=order,
        actor=Actor.for_buyer(request.auth),
        case_type=payload.type,
        reason=payload.reason,
        description=payload.description,
        amount=payload.amount,
        evidence=payload.evidence,
        items=[ItemClaim(sku_id=i.sku_id, quantity=i.quantity) for i in payload.items] if payload.items else None,
    )
    return Status(201, case_out(aftersale_get_for_buyer(buyer=request.auth, case_id=case.pk)))


@buyer_router.get("/aftersales/{case_id}", response={200: CaseOut, **ERRORS})
def aftersale_detail(request, case_id: int):
    return case_out(aftersale_get_for_buyer(buyer=request.auth, case_id=case_id))


@buyer_router.post("/aftersales/{case_id}/return-shipment", response={200: CaseOut, **ERRORS})
def aftersale_return_shipment(request, case_id: int, payload: ReturnShipmentIn):
    case = aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)
    aftersale_return_ship(case=case, actor=Actor.for_buyer(request.auth), carrier=payload.carrier, tracking_no=payload.tracking_no)
    return case_out(aftersale_get_for_buyer(buyer=request.auth, case_id=case_id))


@buyer_router.post("/aftersales/{case_id}/arbitration", response={201: CaseOut, **ERRORS})
def aftersale_arbitration(request, case_id: int, payload: ArbitrationIn):
    case = aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)
    aftersale_escalate(case=case, actor=Actor.for_buyer(request.auth), reason=payload.reason)
    return Status(201, case_out(aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)))


@buyer_router.post("/aftersales/{case_id}/messages", response={201: CaseOut, **ERRORS})
def aftersale_buyer_message_post(request, case_id: int, payload: MessageIn):
    case = aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)
    aftersale_buyer_message(case=case, actor=Actor.for_buyer(request.auth), body=payload.message, evidence=payload.evidence)
    return Status(201, case_out(aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)))


@buyer_router.post("/aftersales/{case_id}/evidence", response={201: EvidenceOut, **ERRORS})
def aftersale_evidence_upload(request, case_id: int, file: UploadedFile = File(...)):  # noqa: B008  ninja declares a file part this way
    """A photo (JPG/PNG/GIF/WEBP, up to EVIDENCE_MAX_IMAGE_BYTES) or video (MP4, up to EVIDENCE_MAX_VIDEO_BYTES), added to the claim's evidence."""
    case = aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)
    evidence = evidence_upload(case=case, actor=Actor.for_buyer(request.auth), upload=file)
    return Status(201, {"id": evidence.pk, "url": evidence.url, "content_type": evidence.content_type, "size": evidence.size})


@buyer_router.get("/aftersales/{case_id}/evidence/{file_id}", response={200: None, **ERRORS})
def aftersale_evidence_download(request, case_id: int, file_id: int):
    case = aftersale_get_for_buyer(buyer=request.auth, case_id=case_id)
    evidence = evidence_file_get(case_id=case.pk, file_id=file_id, shop_ids={case.shop_id})
    if evidence is None:
        raise NotFound(_("凭证不存在"), code="evidence_not_found")
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- merchant open API ---


@merchant_router.get("/aftersales", response={200: CaseListOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_aftersales(
    request,
    status: AfterSaleStatus | None = None,
    type: str | None = None,
    order_no: str | None = None,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    cases, next_cursor = aftersale_page(
        shop_ids=user_shop_ids(user=request.auth),
        filters=CaseFilters(status=status, type=type, order_no=order_no),
        cursor=cursor,
        limit=limit,
    )
    return {"after_sales": [case_out(c, actions=aftersale_actions_allowed(c)) for c in cases], "next_cursor": next_cursor}


@merchant_router.get("/aftersales/{case_id}", response={200: CaseOut, **ERRORS})
def merchant_aftersale_detail(request, case_id: int):
    case = aftersale_get_for_shops(shop_ids=user_shop_ids(user=request.auth), case_id=case_id)
    return case_out(case, actions=aftersale_actions_allowed(case))


@merchant_router.post("/aftersales/{case_id}/operate", response={200: CaseOut, **ERRORS})
def merchant_aftersale_operate(request, case_id: int, payload: OperateIn):
    shop_ids = user_shop_ids(user=request.auth)
    case = aftersale_get_for_shops(shop_ids=shop_ids, case_id=case_id)
    require_perm(user=request.auth, shop_id=case.shop_id, perm=Perm.AFTERSALE)
    if payload.action == MerchantAction.REFUND:
        require_perm(user=request.auth, shop_id=case.shop_id, perm=Perm.ORDER_MONEY)
    if payload.action == MerchantAction.MESSAGE and not (payload.message or payload.reason):
        raise Invalid(_("留言不能为空"), code="invalid_input", details={"fields": {"message": _("不能为空")}})
    aftersale_operate(
        case=case,
        actor=Actor.for_user(request.auth),
        action=payload.action,
        reason=payload.reason,
        evidence=payload.evidence,
        deductions=[{"reason": d.reason, "amount": d.amount} for d in payload.deductions],
        message=payload.message,
        return_address_id=payload.return_address_id,
        carrier=payload.carrier,
        tracking_no=payload.tracking_no,
    )
    case = aftersale_get_for_shops(shop_ids=shop_ids, case_id=case_id)
    return case_out(case, actions=aftersale_actions_allowed(case))
