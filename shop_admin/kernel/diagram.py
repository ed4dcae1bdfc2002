"""A django-fsm state machine drawn from its own transitions (Mermaid): the one drawing the apps' docs use."""
from collections.abc import Callable

from django.db import models


def state_mermaid(
    model: type[models.Model], *, initial: str, statuses: type[models.TextChoices], state_text: Callable, edge_text: Callable[[str], str]
) -> str:
    """`stateDiagram-v2` of `model.status`: `initial` first, each status as `state_text(status)`, each transition's edge as
    `edge_text(name)`, edges sorted."""
    field = model._meta.get_field("status")
    lines = ["stateDiagram-v2", f"    [*] --> {initial}"]
    lines += [f"    {status.value} : {state_text(status)}" for status in statuses]
    edges = sorted({(str(t.source), str(t.target), t.name) for t in field.get_all_transitions(model)})
    lines += [f"    {source} --> {target} : {edge_text(name)}" for source, target, name in edges]
    return "\n".join(lines) + "\n"
