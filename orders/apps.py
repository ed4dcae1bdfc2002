"""App config of orders: registers its deadline kinds with the one deadline mechanism."""
from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "订单"

    def ready(self) -> None:
        from orders import jobs
        from shop_admin.deadlines import deadline_register

        deadline_register(name="order_pay_timeout", apply_due=jobs.order_pay_timeout, label="超时未支付自动取消")
        deadline_register(name="presale_balance_timeout", apply_due=jobs.presale_balance_timeout, label="预售尾款超时")
        deadline_register(name="order_auto_confirm", apply_due=jobs.order_auto_confirm, label="自动确认收货")
