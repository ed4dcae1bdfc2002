"""The shop's team (子账号): the owner adds staff by username or invite link, changes roles, disables and enables them.

Every change writes its audit event in the same transaction, and no change leaves a shop without an active owner:
team changes of one shop queue on the shop's row, so two owners demoting each other at once cannot both win.
"""
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from shop_admin.kernel.errors import Conflict, Invalid, NotFound
from shop_admin.kernel.events import (
    invite_created_event,
    member_added_event,
    member_disabled_event,
    member_enabled_event,
    member_joined_event,
    member_role_changed_event,
)
from shop_admin.kernel.models import Membership, Shop
from shop_admin.kernel.permissions import Perm, user_can

_INVITE_SALT = "shop_admin.team.invite"


def _role_checked(role: str) -> str:
    if role not in Role.values:
        raise Invalid(_("请选择角色"), code="invalid_input", details={"fields": {"role": _("没有这个角色")}})
    return role


def _shop_lock(shop_id: int) -> None:
    Shop.objects.select_for_update().filter(pk=shop_id).first()


def _last_owner_refuse(membership: Membership) -> None:
    """Refuse a change that would leave the shop with no active owner (the caller holds the shop's lock)."""
    if membership.role != Role.OWNER or not membership.is_active:
        return
    others = Membership.objects.filter(shop_id=membership.shop_id, role=Role.OWNER, is_active=True).exclude(pk=membership.pk)
    if not others.exists():
        raise Invalid(
            _("店铺至少要保留一名启用的店主：请先把另一名成员设为店主"),
            code="last_owner",
            details={"member_id": membership.pk, "user": membership.user.get_username()},
        )


def team_member_get(*, shop_id: int, member_id: int) -> Membership:
    """A member of this shop; another shop's member does not exist for the caller."""
    membership = Membership.objects.select_related("user").filter(pk=member_id, shop_id=shop_id).first()
    if membership is None:
        raise NotFound(_("成员不存在"), code="member_not_found")
    return membership


def team_members(*, shop_id: int) -> list[Membership]:
    return list(Membership.objects.filter(shop_id=shop_id).select_related("user").order_by("-is_active", "role", "user__username"))


def member_add(*, shop: Shop, actor: Actor, username: str, role: str) -> Membership:
    """Add an existing account to the shop with a role."""
    role = _role_checked(role)
    username = (username or "").strip()
    user = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
    if user is None:
        raise Invalid(_("没有这个用户名的账号"), code="invalid_input", details={"fields": {"username": _("没有这个用户名的账号")}})
    with transaction.atomic():
        _shop_lock(shop.pk)
        existing = Membership.objects.filter(shop=shop, user=user).first()
        if existing is not None:
            raise Conflict(
                _("该账号已是本店成员") if existing.is_active else _("该账号已是本店成员（已停用）：请在成员列表中启用"),
                code="already_member",
                details={"fields": {"username": username}, "member_id": existing.pk},
            )
        membership = Membership.objects.create(shop=shop, user=user, role=role)
        member_added_event(membership=membership, actor=actor)
    return membership


def member_role_change(*, membership: Membership, actor: Actor, role: str) -> Membership:
    role = _role_checked(role)
    with transaction.atomic():
        _shop_lock(membership.shop_id)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        if membership.role == role:
            return membership
        if role != Role.OWNER:
            _last_owner_refuse(membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        member_role_changed_event(membership=membership, actor=actor, role_before=before)
    return membership


def member_disable(*, membership: Membership, actor: Actor) -> Membership:
    """The member can no longer open the shop (console or API); their past actions keep their name."""
    with transaction.atomic():
        _shop_lock(membership.shop_id)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        if not membership.is_active:
            return membership
        _last_owner_refuse(membership)
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        member_disabled_event(membership=membership, actor=actor)
    return membership


def member_enable(*, membership: Membership, actor: Actor) -> Membership:
    with transaction.atomic():
        _shop_lock(membership.shop_id)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        if membership.is_active:
            return membership
        membership.is_active = True
        membership.save(update_fields=["is_active"])
        member_enabled_event(membership=membership, actor=actor)
    return membership


def invite_create(*, shop: Shop, actor: Actor, role: str) -> str:
    """A signed token for the invite link: it names the shop, the role and the owner, and expires after TEAM_INVITE_MAX_AGE.

    Nothing is stored but the audit event: the signature is the proof, and the link dies with the owner's right to
    manage the team (checked when it is opened).
    """
    role = _role_checked(role)
    expires_at = timezone.now() + settings.TEAM_INVITE_MAX_AGE
    token = signing.dumps({"shop": shop.pk, "role": role, "by": actor.user.pk}, salt=_INVITE_SALT, compress=True)
    with transaction.atomic():
        invite_created_event(shop=shop, actor=actor, role=role, expires_at=expires_at.isoformat())
    return token


def invite_read(token: str) -> tuple[Shop, str, int]:
    """(shop, role, inviting owner's id) of a valid invite, or the refusal of an expired, forged or orphaned one."""
    try:
        data = signing.loads(token, salt=_INVITE_SALT, max_age=settings.TEAM_INVITE_MAX_AGE)
    except signing.SignatureExpired:
        raise Invalid(_("邀请链接已过期，请向店主索取新的链接"), code="invite_expired") from None
    except signing.BadSignature:
        raise Invalid(_("邀请链接无效"), code="invite_invalid") from None
    shop = Shop.objects.filter(pk=data.get("shop")).first()
    inviter = get_user_model().objects.filter(pk=data.get("by"), is_active=True).first()
    if shop is None or data.get("role") not in Role.values:
        raise Invalid(_("邀请链接无效"), code="invite_invalid")
    if inviter is None or not user_can(user=inviter, shop_id=shop.pk, perm=Perm.SHOP_MANAGE):
        raise Invalid(_("发出邀请的账号已无权管理本店成员，链接失效"), code="invite_invalid")
    return shop, data["role"], inviter.pk


def invite_accept(*, token: str, user) -> Membership:
    """The signed-in user opening the link joins the shop with its role; a disabled member is not let back in by a link."""
    shop, role, inviter_id = invite_read(token)
    with transaction.atomic():
        _shop_lock(shop.pk)
        existing = Membership.objects.filter(shop=shop, user=user).first()
        if existing is not None:
            raise Conflict(
                _("您已是本店成员") if existing.is_active else _("您在本店的账号已停用，请联系店主启用"),
                code="already_member",
                details={"member_id": existing.pk},
            )
        membership = Membership.objects.create(shop=shop, user=user, role=role)
        member_joined_event(membership=membership, actor=Actor.for_user(user), invited_by_id=inviter_id)
    return membership


def invite_accept_new_account(*, token: str, username: str, password: str):
    """Someone without an account opens the link: the account and the membership are made together, or neither."""
    invite_read(token)  # a dead link makes no account
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        invite_accept(token=token, user=user)
    return user


def invite_max_age_hours() -> int:
    return int(settings.TEAM_INVITE_MAX_AGE / timedelta(hours=1))
