"""What an upper app does when an exception of a kind it raises is resolved, without orders knowing the app.

Logistics registers clearing its parcels' stalled flag for `stalled_logistics`: the
merchant settled the stall by hand, so the parcel is no longer shown as stalled and
its stall clock starts again (a further silence raises a new exception).
"""
from collections.abc import Callable

_on_resolved: dict[str, list[Callable[..., None]]] = {}


def exception_resolved_register(*, kind: str, on_resolved: Callable[..., None]) -> None:
    """`on_resolved(*, exception, actor)` runs inside the resolving transaction of every `kind` exception."""
    hooks = _on_resolved.setdefault(kind, [])
    if on_resolved not in hooks:
        hooks.append(on_resolved)


def exception_resolved_hooks_run(*, exception, actor) -> None:
    for on_resolved in _on_resolved.get(exception.kind, []):
        on_resolved(exception=exception, actor=actor)
