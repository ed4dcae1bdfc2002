"""Shops, warehouses, merchant memberships with roles, the shop's own rule settings, the team's audit, and merchant API tokens."""
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.constants import Role, ShopEventKind


class Shop(models.Model):
    name = models.CharField(_("店铺名称"), max_length=100)
    is_flagship = models.BooleanField(_("品牌旗舰店"), default=False)
    # History only: the text shops once typed; migration aftersale 0011 made it each shop's default return address where
    # it parsed. Returns use the address book (aftersale.ReturnAddress); nothing reads this field.
    return_address = models.CharField(_("退货地址"), max_length=300, blank=True)
    # What a waybill prints as the sender; empty: the shop's name and the shipping warehouse (logistics.waybill)
    sender_name = models.CharField(_("寄件人"), max_length=50, blank=True)
    sender_phone = models.CharField(_("寄件人电话"), max_length=20, blank=True)
    sender_address = models.CharField(_("寄件地址"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")

    def __str__(self) -> str:
        return self.name


class Warehouse(models.Model):
    """A place a shop holds stock; the nearest one with stock ships."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(_("仓库名称"), max_length=100)
    province = models.CharField(_("所在省"), max_length=30)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0, help_text=_("数字小的先发货"))

    class Meta:
        verbose_name = _("仓库")
        verbose_name_plural = _("仓库")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    # Disabled, not deleted: the member's past actions keep naming them, and the owner may enable them again.
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("店铺成员")
        verbose_name_plural = _("店铺成员")
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="membership_unique_user_shop")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.get_role_display()})"

    @property
    def role_label(self) -> str:
        """`get_role_display()` without rebuilding the choices' dict on each call (the header shows it on every page)."""
        try:
            return str(Role(self.role).label)
        except ValueError:
            return self.role


class ShopRules(models.Model):
    """The numbers a shop chose within the platform's bounds; an empty column follows the platform's default.

    Read only through `shop_admin.kernel.shoprules` (one function per number), never a column at a time.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="rules", primary_key=True)
    ship_promise_hours = models.PositiveSmallIntegerField(_("发货时效（小时）"), null=True, blank=True)
    aftersale_reply_hours = models.PositiveSmallIntegerField(_("售后审核时限（小时）"), null=True, blank=True)
    aftersale_reply_hours_fragile = models.PositiveSmallIntegerField(_("生鲜易碎售后审核时限（小时）"), null=True, blank=True)
    recovery_window_hours = models.PositiveSmallIntegerField(_("订单召回时限（小时）"), null=True, blank=True)
    auto_confirm_days = models.PositiveSmallIntegerField(_("自动确认收货（天）"), null=True, blank=True)
    auto_confirm_days_remote = models.PositiveSmallIntegerField(_("偏远地区自动确认收货（天）"), null=True, blank=True)
    auto_confirm_days_fresh = models.PositiveSmallIntegerField(_("生鲜自动确认收货（天）"), null=True, blank=True)
    auto_confirm_days_presale = models.PositiveSmallIntegerField(_("预售自动确认收货（天）"), null=True, blank=True)
    low_stock_threshold = models.PositiveIntegerField(_("低库存阈值"), null=True, blank=True)
    review_reply_hours = models.PositiveSmallIntegerField(_("差评回复时限（小时）"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("店铺设置")
        verbose_name_plural = _("店铺设置")


class ShopEvent(models.Model):
    """The team's and the settings' audit trail: who changed what, when. Append-only in the database."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事件"), max_length=30, choices=ShopEventKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # The member the change is about (none for a settings change or an invite)
    member_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("店铺操作记录")
        verbose_name_plural = _("店铺操作记录")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="shop_event_shop_created")]


def _new_token() -> str:
    return secrets.token_hex(20)


class MerchantApiToken(models.Model):
    """Bearer token of a console user for the open API; it reaches that user's shops only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    key = models.CharField(max_length=40, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商家 API 令牌")
        verbose_name_plural = _("商家 API 令牌")

    def __str__(self) -> str:
        return _("用户 #%(user)s 的 API 令牌") % {"user": self.user_id}


class BackgroundJob(models.Model):
    """Long work run by RQ (bulk actions, imports, exports) with the progress the page shows."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("任务"), max_length=30)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # What the job did, by outcome (created / updated / skipped / failed ...), shown when it ends.
    summary = models.JSONField(default=dict, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    # The file it produced (an export, a PDF) lives in the storage of MEDIA_ROOT, never in this row.
    result_file = models.FileField(upload_to="jobs/%Y/%m/", max_length=300, blank=True)
    # Runs begun: a worker killed mid-job leaves it running; the sweep runs it again, up to a limit.
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def __str__(self) -> str:
        from shop_admin.kernel.background import background_job_kind_label  # the registry imports this module

        return _("后台任务 #%(id)s %(kind)s") % {"id": self.pk, "kind": background_job_kind_label(self.kind)}


class TodoSeen(models.Model):
    """The bell's "seen up to" marker of one user in one shop: every to-do that arose before it counts as read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    seen_up_to = models.DateTimeField(_("已读至"))

    class Meta:
        verbose_name = _("待办已读标记")
        verbose_name_plural = _("待办已读标记")
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="todo_seen_unique_user_shop")]

    def __str__(self) -> str:
        return _("用户 #%(user)s 的待办已读标记") % {"user": self.user_id}


class TodoRead(models.Model):
    """One to-do read by one user since their marker; "mark all read" moves the marker and drops these rows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    read_at = models.DateTimeField()

    class Meta:
        verbose_name = _("已读待办")
        verbose_name_plural = _("已读待办")
        constraints = [models.UniqueConstraint(fields=["user", "shop", "key"], name="todo_read_unique_user_shop_key")]

    def __str__(self) -> str:
        return _("用户 #%(user)s 已读待办 %(key)s") % {"user": self.user_id, "key": self.key}


class DeadlineFailure(models.Model):
    """A due row a deadline kind could not apply (it raised, or the kind refused it): what a sweep stepped over, kept until
    the row is applied or no longer due, and shown to the shop once it has failed DEADLINE_FAILURES_VISIBLE_AFTER times."""

    kind = models.CharField(_("到期处理"), max_length=60)
    row_id = models.BigIntegerField()
    shop = models.ForeignKey(Shop, null=True, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    # The error's code and its message as raised (the source language); shown translated at read time.
    reason_code = models.CharField(max_length=60)
    reason = models.TextField()
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    # When the attempts reached DEADLINE_FAILURES_VISIBLE_AFTER: the moment it became the shop's to-do.
    visible_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("到期处理失败")
        verbose_name_plural = _("到期处理失败")
        constraints = [models.UniqueConstraint(fields=["kind", "row_id"], name="deadline_failure_unique_kind_row")]
        indexes = [models.Index(fields=["shop", "visible_at"], name="deadline_failure_shop_visible")]

    def __str__(self) -> str:
        from shop_admin.kernel.deadlines import deadline_label  # the registry imports this module

        kind = deadline_label(self.kind) or self.kind
        return _("到期处理失败 %(kind)s #%(row)s（%(n)s次）") % {"kind": kind, "row": self.row_id, "n": self.attempts}
