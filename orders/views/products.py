"""Console pages of products: SKUs with stock per warehouse, stock edits, presale and delivery-area settings."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders.addresses import division_tree
from orders.forms import ProductSettingsForm, StockForm
from orders.selectors import product_get_for_shops, products_with_stock, stock_level_get_for_shops, stock_status, stock_totals
from orders.services.products import product_settings_update
from orders.services.stock import stock_set
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import forbidden, input_keep, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can
from shop_admin.kernel.shoprules import shop_rule
from shop_admin.kernel.text import domain_error_text


@shop_required(perm=Perm.ORDER_VIEW)
def product_list(request):
    products = products_with_stock(shop_id=request.shop.pk)
    threshold = shop_rule(request.shop.pk, "low_stock_threshold")
    for product in products:
        for sku in product.skus.all():
            sku.totals = stock_totals(sku.stock_levels.all())
            sku.status = stock_status(is_presale=product.is_presale, available=sku.totals["available"], low_stock_threshold=threshold)
    return render(
        request,
        "orders/product_list.html",
        {
            "products": products,
            "can_edit_stock": user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.STOCK_EDIT),
            "can_edit_product": user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.PRODUCT_EDIT),
        },
    )


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def stock_edit(request, level_id: int):
    level = shop_record_or_404(request, lambda shop_ids: stock_level_get_for_shops(shop_ids=shop_ids, level_id=level_id))
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.STOCK_EDIT):
        return forbidden(request, _("您的角色无权修改库存"))
    form = StockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("%(sku)s：库存须为0或正整数") % {"sku": level.sku.code})
        input_keep(request, "stock", level=str(level.pk))
        return redirect("products")
    try:
        stock_set(
            sku_id=level.sku_id,
            actor=Actor.for_user(request.user),
            on_hand=form.cleaned_data["on_hand"],
            warehouse_id=level.warehouse_id,
            force=form.cleaned_data["force"],
        )
        messages.success(request, _("%(sku)s %(wh)s 库存已更新") % {"sku": level.sku.code, "wh": level.warehouse.name})
    except DomainError as exc:
        messages.warning(request, f"{level.sku.code} {level.warehouse.name}：{domain_error_text(exc, labels=form)}")
        input_keep(request, "stock", level=str(level.pk))
    return redirect("products")


@shop_required(perm=Perm.ORDER_VIEW)
def product_settings(request, product_id: int):
    product = shop_record_or_404(request, lambda shop_ids: product_get_for_shops(shop_ids=shop_ids, product_id=product_id))
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.PRODUCT_EDIT):
        return forbidden(request, _("只有店主可以修改商品设置"))
    provinces = list(division_tree())
    if request.method == "POST":
        form = ProductSettingsForm(request.POST, provinces=provinces)
        if form.is_valid():
            try:
                product_settings_update(product=product, **form.cleaned_data)
                messages.success(request, _("商品设置已保存"))
                return redirect("products")
            except DomainError as exc:
                messages.error(request, domain_error_text(exc, labels=form))
    else:
        form = ProductSettingsForm(
            provinces=provinces,
            initial={
                "is_presale": product.is_presale,
                "presale_deposit_ratio": product.presale_deposit_ratio,
                "presale_balance_due": product.presale_balance_due,
                "presale_ship_days": product.presale_ship_days,
                "excluded_regions": product.excluded_regions,
            },
        )
    return render(request, "orders/product_settings.html", {"product": product, "form": form})
