"""Who did something: the actor written into every audit event."""
from dataclasses import dataclass
from typing import Any

from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.deadlines import deadline_label


@dataclass(frozen=True)
class Actor:
    kind: str
    user: Any = None  # django User for console / open-API actions
    buyer: Any = None  # orders.Buyer for buyer-app actions
    label: str = ""  # channel name, job name, ...

    @classmethod
    def for_user(cls, user) -> "Actor":
        return cls(kind=ActorKind.USER, user=user, label=user.get_username())

    @classmethod
    def for_buyer(cls, buyer) -> "Actor":
        return cls(kind=ActorKind.BUYER, buyer=buyer, label=buyer.name)

    @classmethod
    def system(cls, label: str) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def channel(cls, label: str) -> "Actor":
        return cls(kind=ActorKind.CHANNEL, label=label)

    @classmethod
    def platform(cls, user) -> "Actor":
        return cls(kind=ActorKind.PLATFORM, user=user, label=user.get_username())


_labels: dict[str, Any] = {}


def actor_labels_register(labels: dict[str, Any]) -> None:
    """Names of the jobs and channels that act (their stored label -> a translatable name); apps register theirs."""
    _labels.update(labels)


def actor_label_text(kind: str, label: str) -> str:
    """Who acted, in the reader's language: a job or channel by its registered name, a deadline by its kind's, a person by name."""
    if kind in (ActorKind.SYSTEM, ActorKind.CHANNEL):
        if label in _labels:
            return str(_labels[label])
        return deadline_label(label) or label
    return label
