"""App config of the kernel. Its label stays `shop_admin`, so its tables and migrations keep their names."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    name = "shop_admin.kernel"
    label = "shop_admin"
    verbose_name = _("店铺与账号")

    def ready(self) -> None:
        from shop_admin.kernel import bulk  # noqa: F401  registers the `any_of` lookup before any query uses it
        from shop_admin.kernel.background import background_job_revive
        from shop_admin.kernel.deadlines import deadline_register

        deadline_register(apply_due=background_job_revive, label=_("恢复中断的后台任务"))

        from shop_admin.kernel import throttling  # noqa: F401  registers the check of the rate-limit settings
