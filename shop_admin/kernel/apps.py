"""App config of the kernel. Its label stays `shop_admin`, so its tables and migrations keep their names."""
from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "shop_admin.kernel"
    label = "shop_admin"
    verbose_name = "店铺与账号"
