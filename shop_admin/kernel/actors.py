"""Who did something: the actor written into every audit event."""
from dataclasses import dataclass
from typing import Any

from shop_admin.kernel.constants import ActorKind


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
