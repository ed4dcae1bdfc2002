"""Evidence uploads: a photo, screenshot or video checked by its bytes and size, stored outside the web root."""
import uuid

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from aftersale.constants import OPEN_STATUSES, AfterSaleStatus
from aftersale.events import aftersale_message_event
from aftersale.models import AfterSaleCase, EvidenceFile
from aftersale.services.common import case_lock, message_add, refusal
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.errors import Invalid

# What a file is, by its first bytes; the name and the declared type are the uploader's word, not ours.
_SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
]


def evidence_sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an accepted image or video, or None."""
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if head[4:8] == b"ftyp":
        return "video/mp4", ".mp4"
    return None


def evidence_upload(*, case: AfterSaleCase, actor: Actor, upload) -> EvidenceFile:
    """Keep one evidence file on the case; a buyer's is added to the claim's evidence, everyone's to the thread."""
    head = upload.read(16)
    upload.seek(0)
    kind = evidence_sniff(head)
    if kind is None:
        raise Invalid(_("仅支持 JPG、PNG、GIF、WEBP 图片或 MP4 视频"), code="invalid_evidence", details={"fields": {"file": _("文件类型不支持")}})
    content_type, ext = kind
    limit = settings.EVIDENCE_MAX_VIDEO_BYTES if content_type.startswith("video/") else settings.EVIDENCE_MAX_IMAGE_BYTES
    if upload.size > limit:
        raise Invalid(
            _("文件过大：最大%(mb)dMB") % {"mb": limit // (1024 * 1024)},
            code="invalid_evidence",
            details={"fields": {"file": _("最大%(mb)dMB") % {"mb": limit // (1024 * 1024)}}},
        )
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        if case.status not in OPEN_STATUSES and case.status != AfterSaleStatus.REJECTED:
            raise refusal(case, "message")
        evidence = EvidenceFile(case=case, content_type=content_type, size=upload.size, uploaded_by=_author(actor))
        evidence.file.save(f"{uuid.uuid4().hex}{ext}", upload, save=False)  # never the uploader's file name
        evidence.save()
        if actor.kind == ActorKind.BUYER:
            case.evidence = [*case.evidence, evidence.url]
            case.save(update_fields=["evidence", "updated_at"])
        message = message_add(case, actor, body=_("上传凭证"), evidence=[evidence.url])
        aftersale_message_event(case=case, actor=actor, message=message)
    return evidence


def _author(actor: Actor) -> str:
    return {"buyer": "buyer", "user": "merchant", "platform": "platform"}.get(actor.kind, "system")
