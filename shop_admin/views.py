"""The console shell: sign in, pick a shop, the dashboard, background job progress."""
from datetime import date

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.selectors import aftersale_awaiting_merchant, aftersale_daily_counts
from orders.selectors import (
    DASHBOARD_COUNT_CAP,
    dashboard_deadlines,
    dashboard_todo,
    dashboard_trend,
)
from shop_admin.console import SESSION_KEY, shop_required
from shop_admin.models import BackgroundJob, Membership


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
        shop_id = request.POST.get("shop_id", "")
        chosen = memberships.filter(shop_id=shop_id).first() if shop_id.isdigit() else None
        if chosen:
            request.session[SESSION_KEY] = chosen.shop_id
            return redirect(next_url)
    return render(request, "shop_admin/shop_select.html", {"memberships": memberships, "next": next_url})


@shop_required
def dashboard(request):
    now = timezone.now()
    todo = dashboard_todo(shop_id=request.shop.pk, now=now)
    aftersale_count, aftersale_nearest = aftersale_awaiting_merchant(shop_id=request.shop.pk, cap=DASHBOARD_COUNT_CAP)
    trend = dashboard_trend(shop_id=request.shop.pk)
    cases = aftersale_daily_counts(
        shop_id=request.shop.pk, start=date.fromisoformat(trend[0]["day"]), end=date.fromisoformat(trend[-1]["day"])
    )
    for day in trend:
        opened = cases.get(date.fromisoformat(day["day"]), 0)
        day["aftersale_rate"] = round(100 * opened / day["paid_orders"], 1) if day["paid_orders"] else 0
    tiles = [
        (_("待支付"), todo["pending_payment"], "/orders/?status=pending_payment"),
        (_("待发货"), todo["to_ship"], "/orders/?status=paid"),
        (_("即将超时发货"), todo["ship_due_soon"], "/orders/?status=paid&ship_due=soon"),
        (_("异常订单"), todo["exceptions"], "/orders/?exception=any"),
        (_("风控审核"), todo["risk_review"], "/orders/?status=paid&exception=risk_review"),
    ]
    return render(
        request,
        "shop_admin/dashboard.html",
        {
            "tiles": tiles,
            "deadlines": dashboard_deadlines(shop_id=request.shop.pk),
            "trend": trend,
            "aftersale_count": aftersale_count,
            "aftersale_nearest": aftersale_nearest,
            "now": now,
            "count_cap": DASHBOARD_COUNT_CAP,
        },
    )


def _shop_job(request, job_id: int) -> BackgroundJob:
    job = get_object_or_404(BackgroundJob, pk=job_id)
    if job.shop_id != request.shop.pk:
        raise Http404
    return job


@shop_required
def job_detail(request, job_id: int):
    job = _shop_job(request, job_id)
    template = "shop_admin/_job_progress.html" if request.headers.get("HX-Request") else "shop_admin/job_detail.html"
    return render(request, template, {"job": job})


@shop_required
def job_download(request, job_id: int):
    job = _shop_job(request, job_id)
    if job.result is None:
        raise Http404
    response = HttpResponse(bytes(job.result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
    return response
