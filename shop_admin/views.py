"""The console shell: sign in, pick a shop, the dashboard."""
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from orders.constants import OrderStatus
from orders.selectors import order_status_counts
from shop_admin.console import SESSION_KEY, shop_required
from shop_admin.models import Membership


class ConsoleLoginView(LoginView):
    template_name = "shop_admin/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


def shop_select(request):
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = Membership.objects.filter(user=request.user).select_related("shop").order_by("shop_id")
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        chosen = memberships.filter(shop_id=request.POST.get("shop_id")).first()
        if chosen:
            request.session[SESSION_KEY] = chosen.shop_id
            return redirect(next_url)
    return render(request, "shop_admin/shop_select.html", {"memberships": memberships, "next": next_url})


@shop_required
def dashboard(request):
    counts = order_status_counts(shop_id=request.shop.pk)
    tiles = [(status, label, counts.get(status, 0)) for status, label in OrderStatus.choices]
    return render(request, "shop_admin/dashboard.html", {"tiles": tiles})
