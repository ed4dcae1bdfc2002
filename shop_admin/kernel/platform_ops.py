"""Platform operations: the `platform_ops` group and the check that keeps the RQ dashboard to it and to superusers."""
from functools import wraps

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

PLATFORM_OPS_GROUP = "platform_ops"


def platform_ops_group() -> Group:
    """The group (made by migration 0005; made again after a flush, which a transactional test runs)."""
    group, _created = Group.objects.get_or_create(name=PLATFORM_OPS_GROUP)
    return group


def is_platform_ops(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name=PLATFORM_OPS_GROUP).exists())


def platform_ops_only(view):
    """A signed-in user who is neither a superuser nor in `platform_ops` gets 403, an arbitrator included: the queues
    can be emptied and jobs deleted from there. Nobody signed in goes on to the view, whose own check sends a person
    to the admin's sign-in and asks a script for the RQ API token."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and not is_platform_ops(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
