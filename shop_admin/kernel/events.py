"""The shop's own audit trail (team, settings, reconciliation runs asked for): one function per event kind, each saying what its data holds."""
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import ShopEventKind
from shop_admin.kernel.models import Membership, Shop, ShopEvent


def _member_event(kind: str, *, membership: Membership, actor: Actor, data: dict) -> ShopEvent:
    return ShopEvent.objects.create(
        shop_id=membership.shop_id, kind=kind, actor_user=actor.user, member_user_id=membership.user_id, data=data
    )


def member_added_event(*, membership: Membership, actor: Actor) -> ShopEvent:
    """data: role given."""
    return _member_event(ShopEventKind.MEMBER_ADDED, membership=membership, actor=actor, data={"role": membership.role})


def member_joined_event(*, membership: Membership, actor: Actor, invited_by_id: int) -> ShopEvent:
    """data: role of the invite, and the owner who made the link (the actor is the user who opened it)."""
    return _member_event(
        ShopEventKind.MEMBER_JOINED, membership=membership, actor=actor, data={"role": membership.role, "invited_by": invited_by_id}
    )


def member_role_changed_event(*, membership: Membership, actor: Actor, role_before: str) -> ShopEvent:
    """data: the role before and after."""
    return _member_event(
        ShopEventKind.MEMBER_ROLE_CHANGED, membership=membership, actor=actor, data={"from": role_before, "to": membership.role}
    )


def member_disabled_event(*, membership: Membership, actor: Actor) -> ShopEvent:
    """data: the role the member held."""
    return _member_event(ShopEventKind.MEMBER_DISABLED, membership=membership, actor=actor, data={"role": membership.role})


def member_enabled_event(*, membership: Membership, actor: Actor) -> ShopEvent:
    """data: the role the member holds again."""
    return _member_event(ShopEventKind.MEMBER_ENABLED, membership=membership, actor=actor, data={"role": membership.role})


def invite_created_event(*, shop: Shop, actor: Actor, role: str, expires_at: str) -> ShopEvent:
    """data: the role the link gives and when it stops working (the token itself is not kept: it is a credential)."""
    return ShopEvent.objects.create(
        shop=shop, kind=ShopEventKind.INVITE_CREATED, actor_user=actor.user, data={"role": role, "expires_at": expires_at}
    )


def rules_changed_event(*, shop: Shop, actor: Actor, changes: dict[str, list]) -> ShopEvent:
    """data: each changed setting by name, [before, after]; None is the platform's default."""
    return ShopEvent.objects.create(shop=shop, kind=ShopEventKind.RULES_CHANGED, actor_user=actor.user, data={"changes": changes})


def reconciliation_requested_event(*, shop: Shop, actor: Actor, day: str, job_id: int) -> ShopEvent:
    """data: the shop-time day asked for (YYYY-MM-DD) and the job that runs it."""
    return ShopEvent.objects.create(
        shop=shop, kind=ShopEventKind.RECONCILIATION_REQUESTED, actor_user=actor.user, data={"day": day, "job": job_id}
    )
