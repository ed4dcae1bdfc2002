"""Replays the first answer to a request retried with the same `Idempotency-Key`."""
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orders.models import Buyer, IdempotencyRecord
from shop_admin.kernel.errors import Invalid


class _KeyTaken(Exception):
    pass


def _replay(record: IdempotencyRecord, request_hash: str) -> tuple[int, dict]:
    if record.request_hash != request_hash:
        raise Invalid(
            _("该 Idempotency-Key 已用于另一个不同的请求"), code="idempotency_key_reused", details={"header": "Idempotency-Key"}
        )
    return record.response_status, record.response_body


def idempotent_call(*, buyer: Buyer, key: str, payload: dict, action: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Run `action` once per (buyer, key): a retry gets the stored answer, a concurrent twin waits for it.

    The key row is inserted in the same transaction as the action, so a concurrent
    request with the same key blocks on the unique index until the first commits,
    then replays its answer; a refused action rolls back and leaves the key free.
    """
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    existing = IdempotencyRecord.objects.filter(buyer=buyer, key=key).first()
    if existing:
        return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(buyer=buyer, key=key, request_hash=request_hash)
            except IntegrityError:
                raise _KeyTaken from None
            status, body = action()
            record.response_status = status
            record.response_body = body
            record.save(update_fields=["response_status", "response_body"])
            return status, body
    except _KeyTaken:
        return _replay(IdempotencyRecord.objects.get(buyer=buyer, key=key), request_hash)
