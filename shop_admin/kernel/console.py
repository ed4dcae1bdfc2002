"""The console's kernel: the shop the user works in (chosen once per session), and the navigation and dashboard tiles the apps register."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from shop_admin.kernel import rawsql
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.models import Membership

T = TypeVar("T")

SESSION_KEY = "current_shop_id"


def current_membership(request) -> Membership | None:
    memberships = list(Membership.objects.filter(user=request.user).select_related("shop").order_by("shop_id"))
    # The roles are in hand: the permission checks of this request (permissions.user_role) need not ask again.
    request.user.__dict__.setdefault("_shop_roles", {}).update({m.shop_id: m.role for m in memberships})
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        membership = next((m for m in memberships if m.shop_id == chosen), None)
        if membership:
            return membership
    # A user of exactly one shop never has to choose.
    return memberships[0] if len(memberships) == 1 else None


def shop_required(view):
    """Signed in and working in a shop; `request.membership` and `request.shop` are set for the view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"/login/?next={request.path}")
        membership = current_membership(request)
        if membership is None:
            return redirect(f"/shop/select/?next={request.path}")
        request.membership = membership
        request.shop = membership.shop
        return view(request, *args, **kwargs)

    return wrapper


def shop_record_or_404(request, lookup: Callable[[set[int]], T]) -> T:
    """A record of the shop the user works in, found by `lookup(shop_ids)`; another shop's is a 404, whoever owns it."""
    try:
        return lookup({request.shop.pk})
    except NotFound:
        raise Http404 from None


def forbidden(request, reason: str) -> HttpResponse:
    """A role refusal: 403 with the reason on the page."""
    return render(request, "shop_admin/forbidden.html", {"reason": reason}, status=403)


# --- what the apps put in the console's shell: navigation entries and dashboard tiles ---


@dataclass(frozen=True)
class NavEntry:
    label: Any
    url: str
    position: int


@dataclass(frozen=True)
class DashboardTile:
    """A count to act on now; `nearest` (optional) gives the closest deadline among what it counts.

    Both give querysets, not figures: the dashboard counts every tile and finds every nearest deadline in one
    statement (`dashboard_tile_figures`), where a round trip and a compiled count per tile were half its statements.
    """

    label: Any
    url: str
    position: int
    counted: Callable[..., QuerySet]  # (*, shop_id, now) -> the rows the tile counts
    nearest: Callable[..., QuerySet] | None = None  # (*, shop_id) -> one datetime column, nearest first


DASHBOARD_COUNT_CAP = 10000  # a tile shows "10000+" beyond this: counting further costs a scan

_nav: list[NavEntry] = []
_tiles: list[DashboardTile] = []


def console_nav_register(*, label, url: str, position: int) -> None:
    if all(entry.url != url for entry in _nav):
        _nav.append(NavEntry(label=label, url=url, position=position))


def dashboard_tile_register(tile: DashboardTile) -> None:
    if all(t.url != tile.url for t in _tiles):
        _tiles.append(tile)


def dashboard_tiles() -> list[DashboardTile]:
    return sorted(_tiles, key=lambda t: t.position)


def dashboard_tile_figures(*, shop_id: int, now: datetime) -> list[tuple[DashboardTile, int, datetime | None]]:
    """Each tile with its count (up to DASHBOARD_COUNT_CAP + 1) and its nearest deadline, read in one statement."""
    tiles = dashboard_tiles()
    reads = []
    for tile in tiles:
        reads.append(("count", tile.counted(shop_id=shop_id, now=now).values("pk")[: DASHBOARD_COUNT_CAP + 1]))
        if tile.nearest:
            reads.append(("first", tile.nearest(shop_id=shop_id)))
    values = iter(rawsql.one_statement(*reads) if reads else ())
    return [(tile, next(values), next(values) if tile.nearest else None) for tile in tiles]


def console_nav(request) -> dict:
    """Context processor: the navigation of the console, the current entry marked."""
    path = request.path
    entries = sorted(_nav, key=lambda e: e.position)
    current = max((e for e in entries if path == e.url or (e.url != "/" and path.startswith(e.url))), key=lambda e: len(e.url), default=None)
    return {"console_nav": [(entry, entry is current) for entry in entries]}
