"""The console's bell: the live to-do fragment the header polls, the page of all to-dos, and marking to-dos read (one, or all)."""
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from shop_admin.kernel.console import current_membership, shop_required
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.todos import TODO_PAGE_SOURCE_LIMIT, todo_feed, todo_mark_all_read, todo_mark_read


def _bell_membership(request):
    if not request.user.is_authenticated:
        return None
    return current_membership(request)


def _bell(request, membership):
    feed = todo_feed(user_id=request.user.pk, shop_id=membership.shop_id, now=timezone.now())
    return render(request, "shop_admin/_todo_bell.html", {"feed": feed})


@require_GET
def todo_bell_view(request):
    """The fragment under the bell; polled, so a signed-out or shop-less tab gets 204 (htmx then swaps nothing)."""
    membership = _bell_membership(request)
    if membership is None:
        return HttpResponse(status=204)
    return _bell(request, membership)


@require_GET
@shop_required
def todo_list_view(request):
    """/todos/: every to-do of the shop the bell's sources give in its window, unread first, read or unread as under the bell."""
    feed = todo_feed(user_id=request.user.pk, shop_id=request.shop.pk, now=timezone.now(), shown=None, source_limit=TODO_PAGE_SOURCE_LIMIT)
    return render(request, "shop_admin/todo_list.html", {"feed": feed})


@require_POST
def todo_read_view(request):
    """Open a to-do: mark it read for this user, then go to the item (a path of this site only)."""
    membership = _bell_membership(request)
    if membership is None:
        return redirect("login")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    try:
        todo_mark_read(user_id=request.user.pk, shop_id=membership.shop_id, key=request.POST.get("key", ""), now=timezone.now())
    except Invalid as error:
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")
    return redirect(next_url)


@require_POST
def todo_read_all_view(request):
    """Mark everything up to now read; answers the fresh fragment to htmx, else goes back."""
    membership = _bell_membership(request)
    if membership is None:
        return redirect("login")
    todo_mark_all_read(user_id=request.user.pk, shop_id=membership.shop_id, now=timezone.now())
    if request.headers.get("HX-Request"):
        return _bell(request, membership)
    todo_list_url = reverse("todo_list")
    return redirect(todo_list_url if request.POST.get("next") == todo_list_url else "dashboard")
