"""The console shell: sign in, pick a shop, the dashboard composed from the apps' tiles, background job progress."""
import io

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.review_selectors import shop_review_score
from aftersale.selectors import aftersale_metrics
from orders.selectors import dashboard_deadlines
from shop_admin.kernel.background import background_job_result_rendered
from shop_admin.kernel.console import (
    DASHBOARD_COUNT_CAP,
    SESSION_KEY,
    dashboard_tile_figures,
    forbidden,
    request_perms,
    shop_record_or_404,
    shop_required,
)
from shop_admin.kernel.models import BackgroundJob
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.selectors import background_job_get_for_shop, user_memberships
from shop_admin.shell.selectors import dashboard_trend_with_aftersale
from shop_admin.shell.views_csv import export_job_perm

AFTERSALE_METRICS_TTL = 60  # seconds


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
    memberships = user_memberships(user=request.user)
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        shop_id = request.POST.get("shop_id", "")
        chosen = next((m for m in memberships if str(m.shop_id) == shop_id), None)
        if chosen:
            request.session[SESSION_KEY] = chosen.shop_id
            return redirect(next_url)
    return render(request, "shop_admin/shop_select.html", {"memberships": memberships, "next": next_url})


@shop_required
def dashboard_view(request):
    if Perm.ORDER_VIEW not in request_perms(request):
        # finance's work is the money's record: its home is the reconciliation, not counts of orders it may not open
        return redirect("/exceptions/reconciliation/")
    now = timezone.now()
    shop_id = request.shop.pk
    tiles = dashboard_tile_figures(shop_id=shop_id, now=now)
    return render(
        request,
        "shop_admin/dashboard.html",
        {
            "tiles": tiles,
            "deadlines": dashboard_deadlines(shop_id=shop_id),
            "trend": dashboard_trend_with_aftersale(shop_id=shop_id),
            # Scores over 30 days: a minute's lag is invisible in them, and a warm dashboard skips their two reads.
            "aftersale_metrics": cache.get_or_set(
                f"dashboard-aftersale-metrics:{shop_id}",
                lambda: aftersale_metrics(shop_id=shop_id, now=now),
                AFTERSALE_METRICS_TTL,
            ),
            "review_score": cache.get_or_set(
                f"dashboard-review-score:{shop_id}", lambda: shop_review_score(shop_id=shop_id, now=now), AFTERSALE_METRICS_TTL
            ),
            "now": now,
            "count_cap": DASHBOARD_COUNT_CAP,
        },
    )


def _shop_job(request, job_id: int) -> BackgroundJob:
    return shop_record_or_404(request, lambda shop_ids: background_job_get_for_shop(shop_id=request.shop.pk, job_id=job_id))


def _job_refused(request, job: BackgroundJob):
    """A 403 page for an export the role may not make (the exports page does not list it either), else None."""
    perm = export_job_perm(job.kind)
    if perm is not None and perm not in request_perms(request):
        return forbidden(request, _("您的角色无权导出此内容"))
    return None


@shop_required
def job_detail(request, job_id: int):
    job = _shop_job(request, job_id)
    if refused := _job_refused(request, job):
        return refused
    template = "shop_admin/_job_progress.html" if request.headers.get("HX-Request") else "shop_admin/job_detail.html"
    return render(request, template, {"job": job})


@shop_required
def job_download(request, job_id: int):
    job = _shop_job(request, job_id)
    if refused := _job_refused(request, job):
        return refused
    if not job.result_file:
        raise Http404
    content_type = "application/pdf" if job.result_name.endswith(".pdf") else "text/csv; charset=utf-8"
    rendered = background_job_result_rendered(job)
    if rendered is not None:  # kept as codes: put into the downloader's language now
        return FileResponse(io.BytesIO(rendered), as_attachment=True, filename=job.result_name, content_type=content_type)
    # Streamed from storage in chunks: a million-line export never sits in the web process's memory.
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=job.result_name, content_type=content_type)
