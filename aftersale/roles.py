"""The platform's arbitrators: a group with only what ruling a dispute needs (read the case, its order and money; rule)."""
from django.contrib.auth.models import Group, Permission

ARBITRATORS_GROUP = "arbitrators"
# Kept equal to migration 0004 (which froze its own copy): the group the migration made, ensured again after a flush.
ARBITRATOR_PERMISSIONS = {
    "aftersale": ["view_aftersalecase", "arbitrate_aftersalecase", "view_aftersaleline", "view_aftersalemessage",
                  "view_merchantpenalty", "view_buyermark"],
    "orders": ["view_order", "view_orderline", "view_orderevent", "view_payment", "view_refund", "view_buyer"],
}


def arbitrators_group() -> Group:
    """The arbitrators group with its permissions (made by the migration; made again if a test flush removed it)."""
    group, _created = Group.objects.get_or_create(name=ARBITRATORS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label__in=list(ARBITRATOR_PERMISSIONS),
        codename__in=[codename for codenames in ARBITRATOR_PERMISSIONS.values() for codename in codenames],
    )
    group.permissions.add(*wanted)
    return group
