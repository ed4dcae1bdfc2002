"""Evidence an upper app attaches to an exception when it opens, without orders knowing the app.

Logistics registers the tracking facts of a signed parcel (last events, signed time
and place) for `not_received`; `exception_evidence` collects what every registered
gatherer gives for a kind, to be stored in the exception's `data`.
"""
from collections.abc import Callable
from typing import Any

_gatherers: dict[str, list[Callable[..., dict[str, Any]]]] = {}


def exception_evidence_register(*, kind: str, gather: Callable[..., dict[str, Any]]) -> None:
    """`gather(*, order) -> dict` adds its keys to the data of every `kind` exception opened."""
    gatherers = _gatherers.setdefault(kind, [])
    if gather not in gatherers:
        gatherers.append(gather)


def exception_evidence(*, order, kind: str) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    for gather in _gatherers.get(kind, []):
        evidence.update(gather(order=order))
    return evidence
