"""Replays the first answer to a request retried with the same `Idempotency-Key`, for `IDEMPOTENCY_KEY_TTL`."""
import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
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
    """Run `action` once per (buyer, key) within the TTL: a retry gets the stored answer, a concurrent twin waits for it.

    The key row is inserted in the same transaction as the action, so a concurrent
    request with the same key blocks on the unique index until the first commits,
    then replays its answer; a refused action rolls back and leaves the key free.
    A key older than `IDEMPOTENCY_KEY_TTL` is forgotten even before the sweep deletes
    it: the same key then starts a new request.
    """
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    expired_before = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    existing = IdempotencyRecord.objects.filter(buyer=buyer, key=key, created_at__gt=expired_before).first()
    if existing:
        return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            # The expired row still holds the unique (buyer, key); it goes with this request, or stays if it fails.
            IdempotencyRecord.objects.filter(buyer=buyer, key=key, created_at__lte=expired_before).delete()
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


def idempotency_key_due(now: datetime):
    """The keys older than `IDEMPOTENCY_KEY_TTL` at `now`."""
    return IdempotencyRecord.objects.filter(created_at__lte=now - settings.IDEMPOTENCY_KEY_TTL)


def idempotency_key_expire(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline (sweep only): delete keys older than `IDEMPOTENCY_KEY_TTL`, a batch at a time; returns how many."""
    expired = idempotency_key_due(now)
    if ids is not None:
        expired = expired.filter(pk__in=ids)
    batch = list(expired.order_by("created_at").values_list("pk", flat=True)[: settings.SWEEP_BATCH_SIZE])
    deleted, _per_model = IdempotencyRecord.objects.filter(pk__in=batch).delete()
    return deleted
