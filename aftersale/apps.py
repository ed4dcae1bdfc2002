"""App config of after-sale: registers its deadlines, event kinds, to-dos, tiles and its cases as a part of every order view; reviews too."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _arbitrators_group_ensure(sender, using="default", **kwargs) -> None:
    """After every migrate and every flush (which Django follows with post_migrate, as it re-creates permissions):
    the arbitrators group that migration 0004 made, with its permissions. A flush (a transactional test) would
    otherwise leave every later test without it."""
    if using != "default":
        return
    from aftersale.roles import arbitrators_group

    arbitrators_group()


class AftersaleConfig(AppConfig):
    name = "aftersale"
    verbose_name = _("售后")

    def ready(self) -> None:
        post_migrate.connect(_arbitrators_group_ensure, sender=self, dispatch_uid="aftersale_arbitrators_group")
        from aftersale import jobs
        from aftersale.constants import AfterSaleEventKind, AfterSaleStatus
        from aftersale.schemas import AfterSaleBriefOut, aftersale_brief_out
        from aftersale.selectors import aftersale_awaiting_merchant, aftersale_awaiting_merchant_by_deadline, cases_by_order
        from aftersale.services import aftersale_inspect_timeout, aftersale_reply_timeout, aftersale_return_timeout
        from aftersale.services.clock import aftersale_inspect_due, aftersale_reply_due, aftersale_return_due
        from orders.events import order_event_kinds_register
        from orders.parts import OrderPart, order_part_register
        from shop_admin.kernel.background import background_job_kind_register
        from shop_admin.kernel.console import DashboardTile, console_nav_register, dashboard_tile_register
        from shop_admin.kernel.deadlines import deadline_register

        def case_url(pk: int) -> str:
            return reverse("aftersale:detail", args=[pk])

        deadline_register(apply_due=aftersale_reply_timeout, due=aftersale_reply_due, url=case_url, label=_("售后超时未处理自动同意"))
        background_job_kind_register(run=jobs.aftersale_export, label=_("导出售后单"))
        deadline_register(apply_due=aftersale_return_timeout, due=aftersale_return_due, url=case_url, label=_("买家超时未退货关闭售后"))
        deadline_register(apply_due=aftersale_inspect_timeout, due=aftersale_inspect_due, url=case_url, label=_("商家超时未验货自动退款"))
        from aftersale.rule_selectors import rule_due
        from aftersale.services.rules import RULE_ACTOR, aftersale_rule_apply

        deadline_register(apply_due=aftersale_rule_apply, due=rule_due, url=case_url, label=_("售后自动审核规则"))
        console_nav_register(label=_("售后"), url="aftersale:list", position=40)
        from shop_admin.kernel.console import settings_section_register

        settings_section_register(
            label=_("售后自动审核"), url="/settings/aftersale-rules/", position=25,
            description=_("小额售后按规则自动同意，启用前可先试运行"),
        )
        dashboard_tile_register(
            DashboardTile(
                label=_("待处理售后"),
                url="/aftersales/?status=requested",
                position=50,
                counted=aftersale_awaiting_merchant,
                nearest=aftersale_awaiting_merchant_by_deadline,
            )
        )
        order_event_kinds_register(AfterSaleEventKind, statuses=AfterSaleStatus)
        from shop_admin.kernel.actors import actor_labels_register

        actor_labels_register({"aftersale_intercept": _("拦截包裹"), RULE_ACTOR: _("售后自动审核规则")})
        from aftersale.services.intercept import aftersale_intercept_outcome
        from logistics.services.intercept import intercept_outcome_register

        intercept_outcome_register(source="aftersale", handler=aftersale_intercept_outcome)
        from aftersale.deadline_queue import aftersale_deadline_queue_register
        from aftersale.todos import aftersale_todos_register

        aftersale_todos_register()
        aftersale_deadline_queue_register()
        from aftersale.constants import ReviewEventKind
        from aftersale.review_selectors import bad_reviews_by_deadline, bad_reviews_unanswered
        from aftersale.review_todos import review_todos_register

        order_event_kinds_register(ReviewEventKind)
        review_todos_register()
        console_nav_register(label=_("评价"), url="/reviews/", position=45)
        dashboard_tile_register(
            DashboardTile(
                label=_("待回复差评"),
                url="/reviews/?rating_max=2&replied=0",
                position=55,
                counted=bad_reviews_unanswered,
                nearest=bad_reviews_by_deadline,
            )
        )
        order_part_register(
            OrderPart(
                name="after_sales",
                load=cases_by_order,
                panel_template="aftersale/_order_panel.html",
                api_field="after_sales",
                api_item_schema=AfterSaleBriefOut,
                api_item=aftersale_brief_out,
                merchant_only=True,
            )
        )
