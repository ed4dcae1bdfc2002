"""Reads about shops and members: which shops there are, which a user may see."""
from django.utils.translation import gettext as _

from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.models import BackgroundJob, Membership, MerchantApiToken, Shop
from shop_admin.kernel.permissions import ROLE_PERMISSIONS, Perm


def shop_list() -> list[Shop]:
    return list(Shop.objects.order_by("pk"))


def shop_get(*, shop_id: int) -> Shop:
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    return shop


def user_memberships(*, user) -> list[Membership]:
    """The shops a user works in: a disabled member's shop is not among them."""
    return list(Membership.objects.filter(user=user, is_active=True).select_related("shop").order_by("shop_id"))


def background_job_get_for_shop(*, shop_id: int, job_id: int) -> BackgroundJob:
    """A job of this shop; another shop's job does not exist for the caller."""
    job = BackgroundJob.objects.filter(pk=job_id, shop_id=shop_id).first()
    if job is None:
        raise NotFound(_("任务不存在"), code="job_not_found")
    return job


def user_shop_ids(*, user) -> set[int]:
    """The shops whose orders, cases and parcels the user reads through the API: active memberships of a role that
    may see orders (finance reads the money's record, not the orders)."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.ORDER_VIEW in perms]
    found = dict(Membership.objects.filter(user=user, is_active=True, role__in=roles).values_list("shop_id", "role"))
    # What `user_role` remembers for the request: the buttons of a list (the deadline queue's actions) ask no more.
    known = user.__dict__.setdefault("_shop_roles", {})
    for shop_id, role in found.items():
        known.setdefault(shop_id, role)
    return set(found)


def merchant_token_user(*, key: str):
    token = MerchantApiToken.objects.select_related("user").filter(key=key, user__is_active=True).first()
    return token.user if token else None


def background_jobs_of_kind(*, shop_id: int, kinds: list[str], limit: int = 20) -> list[BackgroundJob]:
    """The shop's latest jobs of these kinds (an import's history, the exports page)."""
    return list(BackgroundJob.objects.filter(shop_id=shop_id, kind__in=kinds).order_by("-created_at", "-pk")[:limit])
def shop_ids_all() -> list[int]:
    """Every shop's id (the platform's admin searches across shops, one index lookup per shop)."""
    return list(Shop.objects.order_by("pk").values_list("pk", flat=True))
