"""Choices shared by every app: member roles and audit actor kinds."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("店主")  # everything
    SERVICE = "service", _("客服")  # orders and after-sale, no stock or money settings
    WAREHOUSE = "warehouse", _("仓库")  # shipping and stock
    FINANCE = "finance", _("财务")  # reconciliation and settlements, nothing else


class ShopEventKind(models.TextChoices):
    MEMBER_ADDED = "member_added", _("添加成员")  # by username, by the owner
    MEMBER_JOINED = "member_joined", _("通过邀请链接加入")  # the invited user opened the link
    MEMBER_ROLE_CHANGED = "member_role_changed", _("修改角色")
    MEMBER_DISABLED = "member_disabled", _("停用成员")
    MEMBER_ENABLED = "member_enabled", _("启用成员")
    INVITE_CREATED = "invite_created", _("生成邀请链接")
    RULES_CHANGED = "rules_changed", _("修改店铺设置")  # data holds each changed field: [before, after]
    RECONCILIATION_REQUESTED = "reconciliation_requested", _("发起对账")  # a day's reconciliation run on demand


class ActorKind(models.TextChoices):
    USER = "user", _("商家账号")  # a console or open-API user
    BUYER = "buyer", _("买家")
    SYSTEM = "system", _("系统")  # deadline jobs and the sweep
    CHANNEL = "channel", _("支付/物流渠道")  # signed callbacks
    PLATFORM = "platform", _("平台")  # arbitrators in the admin
