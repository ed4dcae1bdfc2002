"""App config of the kernel. Its label stays `shop_admin`, so its tables and migrations keep their names."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _platform_ops_group_ensure(sender, using="default", **kwargs) -> None:
    """After every migrate and flush: the group migration 0005 made (a transactional test's flush removes it)."""
    if using != "default":
        return
    from shop_admin.kernel.platform_ops import platform_ops_group

    platform_ops_group()


class KernelConfig(AppConfig):
    name = "shop_admin.kernel"
    label = "shop_admin"
    verbose_name = _("店铺与账号")

    def ready(self) -> None:
        post_migrate.connect(_platform_ops_group_ensure, sender=self, dispatch_uid="kernel_platform_ops_group")
        from shop_admin.kernel import bulk  # noqa: F401  registers the `any_of` lookup before any query uses it
        from shop_admin.kernel.background import background_job_revive, background_jobs_running
        from shop_admin.kernel.deadlines import deadline_failure_todos, deadline_register
        from shop_admin.kernel.todos import TodoSource, todo_source_register

        deadline_register(
            apply_due=background_job_revive, due=background_jobs_running, label=_("恢复中断的后台任务"), url=lambda pk: reverse("job_detail", args=[pk])
        )
        todo_source_register(TodoSource(name="deadline_failed", label=_("到期处理多次失败"), items=deadline_failure_todos))

        from shop_admin.kernel import throttling  # noqa: F401  registers the check of the rate-limit settings
