"""App config of orders: registers its deadline kinds, job kinds and event kinds with the layers that run them."""
from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("订单")

    def ready(self) -> None:
        from orders import exception_selectors, jobs, selectors
        from orders.constants import EventKind
        from orders.events import order_event_kinds_register
        from orders.imports.service import import_errors_csv
        from orders.services.exceptions import exception_deadline_passed, exception_escalation_due
        from orders.services.idempotency import idempotency_key_due, idempotency_key_expire
        from orders.services.lifecycle import (
            order_auto_confirm,
            order_auto_confirm_due,
            order_pay_due,
            order_pay_timeout,
            presale_balance_due,
            presale_balance_timeout,
        )
        from orders.services.refunds import refund_retry, refund_retry_due
        from orders.services.ship_deadlines import order_ship_due, order_ship_timeout
        from shop_admin.kernel.background import background_job_kind_register
        from shop_admin.kernel.console import DashboardTile, console_nav_register, dashboard_tile_register
        from shop_admin.kernel.deadlines import deadline_register

        def order_url(pk: int) -> str:
            return selectors.order_page_url(order_id=pk)

        deadline_register(apply_due=order_pay_timeout, due=order_pay_due, url=order_url, label=_("超时未支付自动取消"))
        deadline_register(apply_due=presale_balance_timeout, due=presale_balance_due, url=order_url, label=_("预售尾款超时"))
        deadline_register(apply_due=order_auto_confirm, due=order_auto_confirm_due, url=order_url, label=_("自动确认收货"))
        deadline_register(apply_due=order_ship_timeout, due=order_ship_due, url=order_url, label=_("超时未发货（生鲜自动退款）"))
        deadline_register(
            apply_due=refund_retry, due=refund_retry_due, shop="order__shop_id", url=selectors.refund_page_url, label=_("退款失败重试")
        )
        deadline_register(
            apply_due=exception_deadline_passed, due=exception_escalation_due, url=lambda pk: reverse("exceptions:detail", args=[pk]),
            label=_("异常超时升级平台"),
        )
        # Sweep only (no job per key): a key's expiry matters to nobody at the minute, and submit stays free of Redis.
        # A key belongs to a buyer, not to a shop: a failing one is for the log and the platform, not a shop's to-do.
        deadline_register(apply_due=idempotency_key_expire, due=idempotency_key_due, shop=None, label=_("清除过期的幂等键"))
        background_job_kind_register(run=jobs.orders_bulk_remark, label=_("批量备注"))
        background_job_kind_register(run=jobs.orders_export_selected, label=_("导出所选订单"))
        background_job_kind_register(run=jobs.orders_export, label=_("导出订单"))
        background_job_kind_register(run=jobs.settlements_export, label=_("导出结算单"))
        background_job_kind_register(run=jobs.orders_import_check, label=_("检查导入文件"), render_result=import_errors_csv)
        background_job_kind_register(run=jobs.orders_import, label=_("导入订单"), render_result=import_errors_csv)
        background_job_kind_register(run=jobs.orders_reconcile_day, label=_("对账"))
        order_event_kinds_register(EventKind)
        from orders.constants import ExceptionKind, OrderStatus, PaymentChannel, PaymentFailure
        from shop_admin.kernel.actors import actor_labels_register
        from shop_admin.kernel.text import stored_text_param_register

        actor_labels_register(
            dict(PaymentChannel.choices)
            | {"platform": _("平台"), "admin import": _("后台导入"), "import_orders": _("命令行导入"), "address_anomaly_check": _("地址异常检查")}
        )
        stored_text_param_register("kind", ExceptionKind)
        stored_text_param_register("status", OrderStatus)
        stored_text_param_register("status_from", OrderStatus)
        stored_text_param_register("status_to", OrderStatus)
        stored_text_param_register("failure_reason", PaymentFailure)
        from orders.services.remedies import orders_remedies_register

        orders_remedies_register()
        from orders.deadline_queue import orders_deadline_queue_register
        from orders.todos import orders_todos_register

        orders_todos_register()
        orders_deadline_queue_register()
        console_nav_register(label=_("异常中心"), url="exceptions:list", position=30)
        console_nav_register(label=_("每日对账"), url="/exceptions/reconciliation/", position=62)
        dashboard_tile_register(
            DashboardTile(
                label=_("异常订单"),
                url="/exceptions/",
                position=13,
                counted=selectors.exceptions_open,
                nearest=exception_selectors.exceptions_by_deadline,
            )
        )
        dashboard_tile_register(
            DashboardTile(
                label=_("支付失败待召回"), url="/exceptions/#recover", position=16, counted=exception_selectors.orders_payment_failed
            )
        )

        console_nav_register(label=_("订单"), url="orders:list", position=10)
        console_nav_register(label=_("商品库存"), url="products", position=20)
        console_nav_register(label=_("导入"), url="imports", position=60)
        console_nav_register(label=_("优惠券管理"), url="coupons:list", position=50)
        for position, label, url, counted in [
            (10, _("待支付"), "/orders/?status=pending_payment", selectors.orders_to_pay),
            (11, _("待发货"), "/orders/?status=paid", selectors.orders_to_ship),
            (12, _("即将超时发货"), "/orders/?status=paid&ship_due=soon", selectors.orders_ship_due_soon),
            (12, _("已超时发货"), "/orders/?status=paid&ship_due=overdue", selectors.orders_ship_overdue),
            (14, _("风控审核"), "/orders/?status=paid&exception=risk_review", selectors.orders_risk_review),
        ]:
            dashboard_tile_register(DashboardTile(label=label, url=url, position=position, counted=counted))
