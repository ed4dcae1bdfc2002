"""App config of the shell; it has no models, only what composes the apps (commands, template tags)."""
from django.apps import AppConfig


class ShellConfig(AppConfig):
    name = "shop_admin.shell"
    label = "shell"
    verbose_name = "控制台"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from shop_admin.kernel.console import console_nav_register

        console_nav_register(label=_("工作台"), url="dashboard", position=0)
        console_nav_register(label=_("到期待办"), url="deadline_list", position=5)
        console_nav_register(label=_("导出"), url="exports", position=61)
        console_nav_register(label=_("店铺设置"), url="settings", position=70)
