"""What each role may do in a shop; the console and the open API ask here."""
from django.utils.translation import gettext as _

from shop_admin.kernel.constants import Role
from shop_admin.kernel.errors import Forbidden
from shop_admin.kernel.models import Membership


class Perm:
    ORDER_VIEW = "order.view"
    ORDER_SHIP = "order.ship"
    ORDER_EDIT = "order.edit"  # remark, address, cancel on the buyer's behalf
    ORDER_MONEY = "order.money"  # price changes, refunds, compensation, recovery
    STOCK_EDIT = "stock.edit"
    PRODUCT_EDIT = "product.edit"  # presale settings, delivery regions
    AFTERSALE = "aftersale.operate"
    RISK_REVIEW = "order.risk_review"
    # The buyer's full name, phone and address (an on-screen look, an export in clear); each use is logged.
    CONTACT_REVEAL = "order.contact_reveal"
    MARKETING = "marketing.manage"  # coupon campaigns: they spend the shop's money
    RETURN_ADDRESSES = "aftersale.return_addresses"  # the return address book (退货地址库)
    REVIEW = "review.operate"  # answer and report buyers' reviews
    FINANCE_VIEW = "finance.view"  # the reconciliation and the settlements
    RECONCILE_RUN = "finance.reconcile"  # run a day's reconciliation of the shop now, instead of waiting for the night
    SHOP_MANAGE = "shop.manage"  # the team and the shop's settings: the owner's alone


ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.OWNER: {
        Perm.ORDER_VIEW,
        Perm.ORDER_SHIP,
        Perm.ORDER_EDIT,
        Perm.ORDER_MONEY,
        Perm.STOCK_EDIT,
        Perm.PRODUCT_EDIT,
        Perm.AFTERSALE,
        Perm.RISK_REVIEW,
        Perm.CONTACT_REVEAL,
        Perm.MARKETING,
        Perm.RETURN_ADDRESSES,
        Perm.REVIEW,
        Perm.FINANCE_VIEW,
        Perm.RECONCILE_RUN,
        Perm.SHOP_MANAGE,
    },
    # Who ships: the warehouse and the owner, as on 抖店; customer service answers buyers and after-sales and leaves
    # the parcels to the warehouse (the README's roles, the console's buttons and the API's 403 all follow this set).
    # Customer service calls buyers, so it may reveal their contact details; the warehouse works from waybills.
    # The return address book: customer service agrees to returns and names the address, and the warehouse is where the
    # returns arrive, so it keeps its own receiving desk's address current.
    Role.SERVICE: {Perm.ORDER_VIEW, Perm.ORDER_EDIT, Perm.AFTERSALE, Perm.CONTACT_REVEAL, Perm.RETURN_ADDRESSES, Perm.REVIEW},
    Role.WAREHOUSE: {Perm.ORDER_VIEW, Perm.ORDER_SHIP, Perm.STOCK_EDIT, Perm.RETURN_ADDRESSES},
    # Finance reads the money's record and no order, buyer or parcel: every other page and the orders API refuse it.
    Role.FINANCE: {Perm.FINANCE_VIEW, Perm.RECONCILE_RUN},
}


def user_role(*, user, shop_id: int) -> str | None:
    # Remembered on the user object for the request: a page asks once per shop, not once per button.
    roles = user.__dict__.setdefault("_shop_roles", {})
    if shop_id not in roles:
        roles[shop_id] = (
            Membership.objects.filter(user=user, shop_id=shop_id, is_active=True).values_list("role", flat=True).first()
        )
    return roles[shop_id]


def user_perms(*, user, shop_id: int) -> set[str]:
    """Everything the user may do in the shop (templates ask `"order.ship" in perms`)."""
    return set(ROLE_PERMISSIONS.get(user_role(user=user, shop_id=shop_id), set()))


def user_can(*, user, shop_id: int, perm: str) -> bool:
    role = user_role(user=user, shop_id=shop_id)
    return role is not None and perm in ROLE_PERMISSIONS.get(role, set())


def require_perm(*, user, shop_id: int, perm: str) -> None:
    if not user_can(user=user, shop_id=shop_id, perm=perm):
        raise Forbidden(_("您的角色无权执行此操作"), code="role_forbidden", details={"permission": perm})


def transition_permission(perm: str):
    """A django-fsm `permission=` callable: may this console user run the transition on this order?"""

    def check(instance, user) -> bool:
        return user.is_authenticated and user_can(user=user, shop_id=instance.shop_id, perm=perm)

    check.__name__ = f"can_{perm.replace('.', '_')}"
    return check


def system_only(instance, user) -> bool:
    """Transitions that only a buyer, a channel or the clock can cause: never a console button."""
    return False
