"""The console's notion of "the shop I am working in": chosen once per session among the user's memberships."""
from functools import wraps

from django.http import HttpResponse
from django.shortcuts import redirect, render

from shop_admin.models import Membership

SESSION_KEY = "current_shop_id"


def current_membership(request) -> Membership | None:
    memberships = Membership.objects.filter(user=request.user).select_related("shop").order_by("shop_id")
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        membership = next((m for m in memberships if m.shop_id == chosen), None)
        if membership:
            return membership
    all_memberships = list(memberships[:2])
    # A user of exactly one shop never has to choose.
    return all_memberships[0] if len(all_memberships) == 1 else None


def shop_required(view):
    """Signed in and working in a shop; `request.membership` and `request.shop` are set for the view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"/login/?next={request.path}")
        membership = current_membership(request)
        if membership is None:
            return redirect(f"/shop/select/?next={request.path}")
        request.membership = membership
        request.shop = membership.shop
        return view(request, *args, **kwargs)

    return wrapper


def forbidden(request, reason: str) -> HttpResponse:
    """A role refusal: 403 with the reason on the page."""
    return render(request, "shop_admin/forbidden.html", {"reason": reason}, status=403)
