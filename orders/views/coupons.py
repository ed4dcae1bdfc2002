"""Console pages of coupon campaigns (营销 / 优惠券): the list by status, create or copy, one coupon's figures per day, end."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.coupon_selectors import (
    COUPON_STATUSES,
    coupon_daily_stats,
    coupon_feed,
    coupon_get_for_shops,
    coupon_status,
    coupon_status_counts,
)
from orders.forms import CouponForm
from orders.models import Sku
from orders.services.coupon_campaigns import coupon_create, coupon_end
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm

PER_PAGE = 20


def _shop_coupon(request, coupon_id: int):
    return shop_record_or_404(request, lambda shop_ids: coupon_get_for_shops(shop_ids=shop_ids, coupon_id=coupon_id))


@shop_required(perm=Perm.MARKETING)
def coupon_list_view(request):
    now = timezone.now()
    status = request.GET.get("status") or None
    if status not in COUPON_STATUSES:
        status = None
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = coupon_feed(shop_ids={request.shop.pk}, status=status, cursor=cursor, limit=PER_PAGE, now=now)
    except DomainError:  # a cursor typed by hand: start over rather than fail the page
        rows, next_cursor = coupon_feed(shop_ids={request.shop.pk}, status=status, cursor=None, limit=PER_PAGE, now=now)
    counts = coupon_status_counts(shop_id=request.shop.pk, now=now)
    for coupon in rows:
        coupon.status_now = coupon_status(coupon, now=now)
        coupon.status_label = COUPON_STATUSES[coupon.status_now]
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "status": status,
        "tabs": [(value, label, counts[value]) for value, label in COUPON_STATUSES.items()],
        "total": sum(counts.values()),
    }
    return render(request, "orders/coupon_list.html", context)


def _copy_initial(coupon) -> dict:
    """A copy keeps the terms and the length of the window, starting now: the original's dates have usually passed."""
    start = timezone.localtime().replace(second=0, microsecond=0)
    return {
        "name": coupon.name,
        "scope": coupon.scope if coupon.scope in ("shop", "skus") else "shop",
        "sku_ids": [str(s.pk) for s in coupon.skus.all()],
        "threshold": f"{coupon.threshold:.2f}",
        "discount_type": "rate" if coupon.is_rate else "amount",
        "amount": "" if coupon.is_rate else f"{coupon.discount:.2f}",
        "rate": coupon.zhe,
        "max_discount": f"{coupon.discount:.2f}" if coupon.is_rate else "",
        "valid_from": start,
        "valid_to": start + (coupon.valid_to - coupon.valid_from),
        "total_quantity": coupon.total_quantity,
        "per_buyer_limit": coupon.per_buyer_limit,
    }


@shop_required(perm=Perm.MARKETING)
def coupon_create_view(request):
    skus = Sku.objects.filter(shop=request.shop, is_active=True).select_related("product").order_by("product__name", "pk")[:500]
    if request.method == "POST":
        form = CouponForm(request.POST, skus=skus)
        if form.is_valid():
            try:
                coupon = coupon_create(shop=request.shop, actor=Actor.for_user(request.user), **form.cleaned_data)
            except DomainError as exc:
                fields = exc.details.get("fields") or {}
                for field, reason in fields.items():
                    form.add_error(field if field in form.fields else None, reason)
                if not fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("优惠券已创建，券码 %(code)s") % {"code": coupon.code})
                return redirect("coupons:detail", coupon_id=coupon.pk)
    else:
        copy_of = request.GET.get("copy")
        initial = {"per_buyer_limit": 1, "scope": "shop", "discount_type": "amount"}
        if copy_of and copy_of.isdigit():
            initial = _copy_initial(_shop_coupon(request, int(copy_of)))
        form = CouponForm(initial=initial, skus=skus)
    return render(request, "orders/coupon_form.html", {"form": form, "copying": bool(request.GET.get("copy"))})


@shop_required(perm=Perm.MARKETING)
def coupon_detail_view(request, coupon_id: int):
    coupon = _shop_coupon(request, coupon_id)
    coupon.status_now = coupon_status(coupon, now=timezone.now())
    coupon.status_label = COUPON_STATUSES[coupon.status_now]
    days = coupon_daily_stats(coupon=coupon)
    chart = [{"day": d["day"].isoformat(), "issued": d["issued"], "used": d["used"], "discount": str(d["discount"])} for d in days]
    return render(request, "orders/coupon_detail.html", {"coupon": coupon, "days": days, "chart": chart})


@shop_required(perm=Perm.MARKETING)
def coupon_end_view(request, coupon_id: int):
    """GET asks for the confirmation; POST ends the campaign."""
    coupon = _shop_coupon(request, coupon_id)
    if request.method == "POST":
        try:
            coupon_end(coupon=coupon, actor=Actor.for_user(request.user))
            messages.success(request, _("活动已结束；已领取的券在有效期内仍可使用"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("coupons:detail", coupon_id=coupon.pk)
    return render(request, "orders/coupon_end_confirm.html", {"coupon": coupon})
