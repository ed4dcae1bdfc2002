"""Choices shared by every app: member roles and audit actor kinds."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("店主")  # everything
    SERVICE = "service", _("客服")  # orders and after-sale, no stock or money settings
    WAREHOUSE = "warehouse", _("仓库")  # shipping and stock


class ActorKind(models.TextChoices):
    USER = "user", _("商家账号")  # a console or open-API user
    BUYER = "buyer", _("买家")
    SYSTEM = "system", _("系统")  # deadline jobs and the sweep
    CHANNEL = "channel", _("支付/物流渠道")  # signed callbacks
    PLATFORM = "platform", _("平台")  # arbitrators in the admin
