"""The platform's arbitrators: a group with only what ruling a dispute needs (read the case, its order and money; rule)."""
from django.contrib.auth.models import Group, Permission

ARBITRATORS_GROUP = "arbitrators"
# Migration 0004 made the group with the first of these; the post_migrate hook (apps.py) brings it to this set on
# every migrate. Beyond the case and its order: every record the admin shows is readable (the README's "read every
# record": an exception, its parcels, the coupon that compensated it), and exceptions are resolved through the admin
# action that calls the service (change_orderexception: every field of it is read-only, so it allows nothing else).
ARBITRATOR_PERMISSIONS = {
    "aftersale": ["view_aftersalecase", "arbitrate_aftersalecase", "view_aftersaleline", "view_aftersalemessage",
                  "view_merchantpenalty", "view_buyermark", "view_productreview", "view_reviewreport", "decide_reviewreport"],
    "orders": ["view_order", "view_orderline", "view_orderevent", "view_payment", "view_refund", "view_buyer",
               "change_orderexception"],
}
# Not read: accounts and credentials (who may sign in, merchants' API keys) and the job queues are platform ops'
# business, not a ruling's.
NOT_READ = {("auth", "user"), ("auth", "group"), ("shop_admin", "merchantapitoken"), ("django_rq", "dashboard")}


def arbitrator_view_permissions() -> list[tuple[str, str]]:
    """(app label, codename) of view_<model> for every model the admin registers, but accounts and credentials."""
    from django.contrib import admin

    return [
        (model._meta.app_label, f"view_{model._meta.model_name}")
        for model in admin.site._registry
        if (model._meta.app_label, model._meta.model_name) not in NOT_READ
    ]


def arbitrators_group() -> Group:
    """The arbitrators group with its permissions (made by the migration; brought up to date after every migrate)."""
    group, _created = Group.objects.get_or_create(name=ARBITRATORS_GROUP)
    wanted = {(label, codename) for label, codenames in ARBITRATOR_PERMISSIONS.items() for codename in codenames}
    wanted |= set(arbitrator_view_permissions())
    permissions = Permission.objects.filter(
        content_type__app_label__in={label for label, _codename in wanted}, codename__in={codename for _label, codename in wanted}
    ).select_related("content_type")
    group.permissions.add(*[p for p in permissions if (p.content_type.app_label, p.codename) in wanted])
    return group
