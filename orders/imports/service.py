"""Starting an order import from the console: keep the upload, check it as a job, and write it once confirmed."""
import hashlib
import json
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.imports.plan import MAX_ERRORS_SHOWN, ImportPlan
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.csvio import csv_bytes
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.models import BackgroundJob, Shop
from shop_admin.kernel.text import stored_text

ERROR_HEADERS = [gettext_lazy("行号"), gettext_lazy("列"), gettext_lazy("原因")]


def import_file_save(*, shop_id: int, name: str, content: bytes) -> str:
    """The upload kept in storage until the import is written (the preview and the write read the same bytes)."""
    return default_storage.save(f"imports/{shop_id}/{uuid.uuid4().hex}.csv", ContentFile(content))


def import_file_read(path: str) -> bytes:
    with default_storage.open(path, "rb") as fh:
        return fh.read()


def import_error_texts(plan: ImportPlan) -> list[str]:
    return [
        _("第%(line)d行 %(column)s：%(reason)s") % {"line": e.line, "column": e.column, "reason": e.text}
        for e in plan.errors[:MAX_ERRORS_SHOWN]
    ]


def import_errors_stored(plan: ImportPlan) -> bytes:
    """Every bad row as the job keeps it: one JSON line each, the reason a message id with its parameters.

    Words would fix the uploader's language into the file; `import_errors_csv` puts them in at download time.
    """
    return b"".join(
        json.dumps({"line": e.line, "column": e.column, "reason": e.reason, "params": e.params}, ensure_ascii=False).encode() + b"\n"
        for e in plan.errors
    )


def import_errors_csv(job: BackgroundJob) -> bytes:
    """The job's bad rows as the downloadable CSV, for the merchant to fix the file by, in the downloader's language.

    The column is named as the file names it (its header), which is the file's own data.
    """
    with job.result_file.open("rb") as fh:
        stored = fh.read()
    if stored.startswith(b"\xef\xbb\xbf"):  # a report written before reasons were kept as codes: already a CSV
        return stored
    errors = [json.loads(line) for line in stored.splitlines() if line.strip()]
    rows = ([e["line"], e["column"], stored_text(e["reason"], e.get("params"))] for e in errors)
    return csv_bytes([str(h) for h in ERROR_HEADERS], rows)


def import_error_rows(summary: dict) -> list[dict]:
    """A checked file's bad cells as the preview shows them, each reason in the reader's language."""
    return [{**e, "reason": stored_text(e["reason"], e.get("params"))} for e in summary.get("errors", [])]


def import_summary(plan: ImportPlan) -> dict:
    summary = plan.summary()
    # the reason as a message id and parameters: the preview puts it into the reader's language (import_error_rows)
    summary["errors"] = [{"line": e.line, "column": e.column, "reason": e.reason, "params": e.params} for e in plan.errors[:MAX_ERRORS_SHOWN]]
    summary["error_count"] = len(plan.errors)
    return summary


def orders_import_start(*, shop: Shop, user, filename: str, content: bytes) -> BackgroundJob:
    """Keep the file and check it in the background; nothing is written to orders until confirmed."""
    if not content:
        raise Invalid(_("文件是空的"), code="empty_file", details={"fields": {"file": _("请选择CSV文件")}})
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise Invalid(
            _("文件超过%(mb)dMB，请分批导入") % {"mb": settings.IMPORT_MAX_BYTES // 2**20},
            code="file_too_large",
            details={"fields": {"file": filename}},
        )
    path = import_file_save(shop_id=shop.pk, name=filename, content=content)
    params = {"path": path, "filename": filename[:200], "sha256": hashlib.sha256(content).hexdigest()}
    return background_job_start(shop=shop, user=user, kind="orders_import_check", params=params, total=0)


def orders_import_confirm(*, shop: Shop, user, check_job_id: int) -> BackgroundJob:
    """Write a checked file. Confirming twice starts one write; a file with bad rows cannot be confirmed."""
    with transaction.atomic():
        check = BackgroundJob.objects.select_for_update().filter(pk=check_job_id, shop=shop, kind="orders_import_check").first()
        if check is None:
            raise Invalid(_("导入任务不存在"), code="import_not_found")
        if check.params.get("apply_job_id"):
            return BackgroundJob.objects.get(pk=check.params["apply_job_id"])
        if check.status != BackgroundJob.Status.DONE:
            raise Conflict(_("文件还在检查中"), code="import_not_checked")
        if check.summary.get("error_count"):
            raise Conflict(_("文件有错误行，请修改后重新上传；全部正确才会导入"), code="import_has_errors")
        job = background_job_start(
            shop=shop, user=user, kind="orders_import", total=check.summary.get("rows", 0), params={**check.params, "check_job_id": check.pk}
        )
        check.params = {**check.params, "apply_job_id": job.pk}
        check.save(update_fields=["params"])
    return job
