"""App config of the console shell."""
from django.apps import AppConfig


class ShopAdminConfig(AppConfig):
    name = "shop_admin"
    verbose_name = "店铺与账号"
