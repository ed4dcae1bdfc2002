"""App config of the shell; it has no models, only what composes the apps (commands, template tags)."""
from django.apps import AppConfig


class ShellConfig(AppConfig):
    name = "shop_admin.shell"
    label = "shell"
    verbose_name = "控制台"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from shop_admin.kernel.console import console_nav_register, settings_section_register

        console_nav_register(label=_("工作台"), url="dashboard", position=0)
        console_nav_register(label=_("到期待办"), url="deadline_list", position=5)
        console_nav_register(label=_("导出"), url="exports", position=61)
        console_nav_register(label=_("设置"), url="settings", position=70)
        settings_section_register(label=_("子账号"), url="/settings/team/", position=30, description=_("添加员工、分配角色、停用账号"))
        settings_section_register(
            label=_("店铺设置"), url="/settings/shop/", position=10, description=_("发货时效、售后时限、召回时限、自动确认收货、低库存阈值、差评回复时限")
        )
        settings_section_register(
            label=_("退货地址"), url="/settings/return-addresses/", position=20, description=_("同意退货时发给买家的地址，一个默认")
        )
