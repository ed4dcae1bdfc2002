"""Console page of reviews (/reviews/): the shop's reviews with filters, its 30-day score, a reply and a report per review."""
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.forms import ReviewFilterForm, ReviewReplyForm, ReviewReportForm
from aftersale.review_selectors import ReviewFilters, review_feed, review_get_for_shops, shop_review_score
from aftersale.services.reviews import review_reply, review_report
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import input_keep, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.text import domain_error_text, form_errors_text

PER_PAGE = 20


@shop_required(perm=Perm.REVIEW)
def review_list_view(request):
    form = ReviewFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    filters = ReviewFilters(
        rating=data.get("rating"),
        rating_max=data.get("rating_max"),
        with_images=data.get("with_images"),
        replied=data.get("replied"),
        sku_code=(data.get("sku") or "").strip(),
        review_id=data.get("review"),
        created_from=data.get("created_from"),
        created_to=data.get("created_to"),
    )
    try:
        rows, next_cursor = review_feed(shop_ids={request.shop.pk}, filters=filters, cursor=data.get("cursor") or None, limit=PER_PAGE)
    except DomainError:  # a cursor typed by hand: start over rather than fail the page
        rows, next_cursor = review_feed(shop_ids={request.shop.pk}, filters=filters, cursor=None, limit=PER_PAGE)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "aftersale/review_list.html",
        {
            "form": form,
            "rows": rows,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "score": shop_review_score(shop_id=request.shop.pk),
            "report_form": ReviewReportForm(),
        },
    )


def _back(request):
    # Back to the list as it was filtered; the form carries the list's query string.
    query = request.POST.get("back", "")
    return redirect(f"/reviews/?{query}" if query and "\n" not in query else "/reviews/")


def _review_form_apply(request, review_id: int, *, form_class, kept: str, apply, done) -> HttpResponse:
    """A form on one review of the shop: applied by `apply(review, actor, cleaned_data)`, or refused with the input kept."""
    review = shop_record_or_404(request, lambda shop_ids: review_get_for_shops(shop_ids=shop_ids, review_id=review_id))
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        input_keep(request, kept, review=str(review.pk))
        return _back(request)
    try:
        apply(review, Actor.for_user(request.user), form.cleaned_data)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=form))
        input_keep(request, kept, review=str(review.pk))
    return _back(request)


@require_POST
@shop_required(perm=Perm.REVIEW)
def review_reply_view(request, review_id: int):
    return _review_form_apply(
        request, review_id, form_class=ReviewReplyForm, kept="review_reply", done=_("已回复评价"),
        apply=lambda review, actor, data: review_reply(review=review, actor=actor, text=data["text"]),
    )


@require_POST
@shop_required(perm=Perm.REVIEW)
def review_report_view(request, review_id: int):
    return _review_form_apply(
        request, review_id, form_class=ReviewReportForm, kept="review_report", done=_("已提交申诉，等待平台处理"),
        apply=lambda review, actor, data: review_report(review=review, actor=actor, **data),
    )
