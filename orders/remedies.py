"""The remedies an exception can be resolved with: a registry orders owns and upper apps add to.

Orders registers what it can do itself (a similar SKU, stock from another warehouse,
cancel and refund, a compensation coupon, no action); logistics registers urging the
carrier and reshipping. Each remedy says which exception kinds it fits, which form
fields it takes and what it does (`apply`), and the exception centre (console and
API) offers exactly the remedies of the exception's kind.

`apply(*, exception, actor, values, note)` runs inside the resolving transaction with
the order and the exception locked; it changes stock, money and state through the
services and returns the resolution in words. A compensation coupon (`coupon_amount`)
is issued by the resolving service, not by each remedy.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from shop_admin.kernel.permissions import Perm

# What a remedy's form may ask for, and how the value is read. Upper apps reuse these names.
FIELD_TYPES = {"coupon_amount": "money", "sku_id": "int", "warehouse_id": "int", "carrier": "text", "tracking_no": "text"}


@dataclass(frozen=True)
class RemedyField:
    name: str  # one of FIELD_TYPES
    label: Any
    required: bool = False
    initial: str = ""
    choices: tuple = ()  # (value, label) pairs: the console draws a select instead of a text box


def coupon_field(*, initial: str = "", required: bool = False) -> RemedyField:
    """The compensation coupon's amount, as every remedy that can give the buyer one asks for it."""
    return RemedyField("coupon_amount", gettext_lazy("补偿券金额（元）"), required=required, initial=initial)


@dataclass(frozen=True)
class Remedy:
    name: str
    label: Any
    kinds: frozenset[str]  # the exception kinds it fits; empty: every kind
    fields: tuple[RemedyField, ...]
    apply: Callable[..., str]
    perm: str = Perm.ORDER_EDIT  # who may use it; money-moving remedies need ORDER_MONEY
    position: int = 100
    note_required: bool = False
    help: Any = ""

    def fits(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def field(self, name: str) -> RemedyField | None:
        return next((f for f in self.fields if f.name == name), None)


_remedies: dict[str, Remedy] = {}


def remedy_register(
    name: str,
    label,
    kinds,
    fields=(),
    *,
    apply: Callable[..., str],
    perm: str = Perm.ORDER_EDIT,
    position: int = 100,
    note_required: bool = False,
    help="",
) -> Remedy:
    """Make a remedy known to the exception centre. Registering the same name twice is a programming error."""
    unknown = [f.name for f in fields if f.name not in FIELD_TYPES]
    if unknown:
        raise ValueError(f"remedy {name!r}: unknown form fields {unknown}")
    if name in _remedies and _remedies[name].apply is not apply:
        raise ValueError(f"remedy {name!r} is registered twice")
    remedy = Remedy(
        name=name,
        label=label,
        kinds=frozenset(kinds),
        fields=tuple(fields),
        apply=apply,
        perm=perm,
        position=position,
        note_required=note_required,
        help=help,
    )
    _remedies[name] = remedy
    return remedy


def remedy_get(name: str) -> Remedy | None:
    return _remedies.get(name)


def remedies_all() -> list[Remedy]:
    return sorted(_remedies.values(), key=lambda r: (r.position, r.name))


def remedies_for_kind(kind: str) -> list[Remedy]:
    """The remedies an exception of this kind offers, in the order the playbook lists them."""
    return [r for r in remedies_all() if r.fits(kind)]
