"""The console's kernel: the shop the user works in (chosen once per session), and the navigation and dashboard tiles the apps register."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from shop_admin.kernel import rawsql, replicas
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.models import Membership, Shop
from shop_admin.kernel.permissions import user_can, user_perms

T = TypeVar("T")

SESSION_KEY = "current_shop_id"


def current_membership(request) -> Membership | None:
    memberships = user_memberships(user_id=request.user.pk)
    # The roles are in hand: the permission checks of this request (permissions.user_role) need not ask again.
    request.user.__dict__.setdefault("_shop_roles", {}).update({m.shop_id: m.role for m in memberships})
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        membership = next((m for m in memberships if m.shop_id == chosen), None)
        if membership:
            return membership
    # A user of exactly one shop never has to choose.
    return memberships[0] if len(memberships) == 1 else None


def user_memberships(*, user_id: int) -> list[Membership]:
    """The user's memberships with their shops, by shop id.

    Read on every console request: by SQL written once and prepared per connection (kernel rawsql), which costs
    a fifth of the CPU the same read through the ORM took.
    """
    # The primary, always: a member just added (or removed) must be seen on the very next click.
    rows = rawsql.prepared_rows(DEFAULT_DB_ALIAS, _memberships_sql, [user_id])
    memberships = []
    for row in rows:
        membership = rawsql.instance(Membership, row)
        rawsql.related_set(membership, "shop", rawsql.instance(Shop, row, rawsql.width(Membership)))
        memberships.append(membership)
    return memberships


@lru_cache(maxsize=1)
def _memberships_sql() -> str:
    q = connections["default"].ops.quote_name
    return (
        f"SELECT {rawsql.columns(Membership, 'm')}, {rawsql.columns(Shop, 's')} "
        f"FROM {q(Membership._meta.db_table)} m JOIN {q(Shop._meta.db_table)} s ON s.id = m.shop_id "
        "WHERE m.user_id = %s AND m.is_active ORDER BY m.shop_id"
    )


def shop_required(view=None, *, perm: str | None = None):
    """Signed in and working in a shop; `request.membership` and `request.shop` are set for the view.

    With `perm`, a role without it gets the 403 page, and the navigation draws the page's link only for roles that
    have it (`page_perm` reads the same `perm`): what is offered and what is allowed cannot drift apart.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{reverse('login')}?next={request.path}")
            membership = current_membership(request)
            if membership is None:
                return redirect(f"{reverse('shop_select')}?next={request.path}")
            request.membership = membership
            request.shop = membership.shop
            if perm is not None and not user_can(user=request.user, shop_id=membership.shop_id, perm=perm):
                return forbidden(request, _("您的角色无权执行此操作"))
            return view(request, *args, **kwargs)

        wrapper.console_perm = perm
        return wrapper

    return decorate(view) if view is not None else decorate


@lru_cache(maxsize=64)
def url_around(name: str, sample: str | int) -> tuple[str, str]:
    """The URL of the pattern `name` split around its one argument (`sample`, a value its converter accepts), so a
    row written in Python prints `head + value + tail`: the URL conf stays the one source of the path, reversed once
    per process instead of once per link of a page that prints hundreds."""
    head, found, tail = reverse(name, args=[sample]).partition(str(sample))
    if not found:
        raise ValueError(f"{name} does not print its argument {sample!r} as given")
    return head, tail


@lru_cache(maxsize=256)
def page_perm(url: str) -> str | None:
    """The permission the console page at `url` asks of a role (its view's `shop_required(perm=...)`); None: any member."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return getattr(match.func, "console_perm", None)


def request_perms(request) -> frozenset[str]:
    """What the user may do in the shop the request works in; nothing outside a shop."""
    membership = getattr(request, "membership", None)
    if membership is None or not request.user.is_authenticated:
        return frozenset()
    return frozenset(user_perms(user=request.user, shop_id=membership.shop_id))


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
    """An entry of the navigation; `url` names its page's URL pattern (`"orders:list"`), or is a path."""
    if all(entry.url != url for entry in _nav):
        _nav.append(NavEntry(label=label, url=url, position=position))


_nav_paths_cache: dict[int, list[tuple[NavEntry, str]]] = {}


def _nav_paths() -> list[tuple[NavEntry, str]]:
    """Each entry with its path, reversed once per process: apps register in `ready()`, before the URL conf may load."""
    paths = _nav_paths_cache.get(len(_nav))
    if paths is None:
        paths = _nav_paths_cache[len(_nav)] = [(e, e.url if e.url.startswith("/") else reverse(e.url)) for e in _nav]
    return paths


@dataclass(frozen=True)
class SettingsSection:
    """A section of the /settings/ index (the team, the shop's rules, return addresses ...); drawn for a role its page lets in."""

    label: Any
    url: str
    position: int
    description: Any = ""


_settings_sections: list[SettingsSection] = []


def settings_section_register(*, label, url: str, position: int, description="") -> None:
    if all(section.url != url for section in _settings_sections):
        _settings_sections.append(SettingsSection(label=label, url=url, position=position, description=description))


def settings_sections(request) -> list[SettingsSection]:
    """The sections the user may open in the shop the request works in, in order."""
    allowed = request_perms(request) | {None}
    return [s for s in sorted(_settings_sections, key=lambda s: s.position) if page_perm(s.url) in allowed]


def dashboard_tile_register(tile: DashboardTile) -> None:
    if all(t.url != tile.url for t in _tiles):
        _tiles.append(tile)


def dashboard_tiles() -> list[DashboardTile]:
    return sorted(_tiles, key=lambda t: t.position)


def _tile_reads(tiles: list[DashboardTile], *, shop_id: int, now: datetime) -> list[tuple[str, QuerySet]]:
    reads = []
    for tile in tiles:
        reads.append(("count", tile.counted(shop_id=shop_id, now=now).values("pk")[: DASHBOARD_COUNT_CAP + 1]))
        if tile.nearest:
            reads.append(("first", tile.nearest(shop_id=shop_id)))
    return reads


# The tiles' statement compiled once per process, its params a template: building and compiling the
# tiles' querysets was a third of the dashboard's Python. Keyed by the tiles, the database and the time zone;
# emptied when a setting changes (a tile's window may be a setting).
_tile_statements: dict[tuple, tuple[str, list, str] | None] = {}
_SENTINEL_SHOP = 2**62 + 7  # a shop id no row has: the params equal to it are the shop's


def _tile_statement(tiles: list[DashboardTile], *, shop_id: int, now: datetime) -> tuple[str, list, str] | None:
    """(sql, param template, alias): a template entry is ("shop", None), ("now", offset) or ("const", value).

    Built from two compilations with different shops and times; None when their params do not map onto each
    other that way (a param not the shop, not now plus a constant, not a constant): then the tiles are built anew.
    """
    key = (tuple(id(tile) for tile in tiles), timezone.get_current_timezone_name())
    if key in _tile_statements:
        return _tile_statements[key]
    other_now = now + timedelta(days=3, seconds=7, microseconds=11)
    sql, params, using = rawsql.one_statement_sql(*_tile_reads(tiles, shop_id=shop_id, now=now))
    other_sql, other_params, _using = rawsql.one_statement_sql(*_tile_reads(tiles, shop_id=_SENTINEL_SHOP, now=other_now))
    template: list | None = [] if sql == other_sql and len(params) == len(other_params) else None
    for mine, other in zip(params, other_params) if template is not None else ():
        if mine == shop_id and other == _SENTINEL_SHOP:
            template.append(("shop", None))
        elif isinstance(mine, datetime) and isinstance(other, datetime) and mine - now == other - other_now and mine != other:
            template.append(("now", mine - now))
        elif mine == other and type(mine) is type(other):
            template.append(("const", mine))
        else:
            template = None
            break
    _tile_statements[key] = (sql, template, using) if template is not None else None
    return _tile_statements[key]


@receiver(setting_changed)
def _tile_statements_forget(**kwargs) -> None:
    _tile_statements.clear()


def dashboard_tile_figures(*, shop_id: int, now: datetime) -> list[tuple[DashboardTile, int, datetime | None]]:
    """Each tile with its count (up to DASHBOARD_COUNT_CAP + 1) and its nearest deadline, read in one statement.

    Lag-tolerant: counts a few seconds old are what a dashboard shows anyway, so a replica may answer.
    """
    tiles = dashboard_tiles()
    if not tiles:
        return []
    return replicas.lag_tolerant(lambda: _tile_figures(tiles, shop_id=shop_id, now=now))


def _tile_figures(tiles: list[DashboardTile], *, shop_id: int, now: datetime) -> list[tuple[DashboardTile, int, datetime | None]]:
    # Asked on every call, not kept with the statement: the same statement runs on the primary or on a replica.
    using = tiles[0].counted(shop_id=shop_id, now=now).db
    statement = _tile_statement(tiles, shop_id=shop_id, now=now)
    if statement is not None:
        sql, template, _built_on = statement
        params = [shop_id if kind == "shop" else now + value if kind == "now" else value for kind, value in template]
        values = iter(rawsql.one_statement_run(sql, params, using, prepared=True))
    else:
        values = iter(rawsql.one_statement(*_tile_reads(tiles, shop_id=shop_id, now=now)))
    return [(tile, next(values), next(values) if tile.nearest else None) for tile in tiles]


# The navigation's markup per language, registry size, current entry and role: the same eight links on every page.
_nav_html: dict[tuple, SafeString] = {}


def console_nav(request) -> dict:
    """Context processor: the navigation of the console, the current entry marked, as markup (`console_nav_html`),
    and `shop_perms`, what the user may do in the shop (templates draw a button only `if "order.ship" in shop_perms`).

    Computed only when a template prints it (a callable in the context), and kept per language, role and current
    entry: an entry is drawn only for a role its page lets in (`page_perm`).
    """
    path = request.path
    perms = SimpleLazyObject(lambda: request_perms(request))

    def nav_html() -> SafeString:
        entries = _nav_paths()
        current = max(
            ((e, url) for e, url in entries if path == url or (url != "/" and path.startswith(url))),
            key=lambda item: len(item[1]),
            default=(None, None),
        )[0]
        allowed = frozenset(perms)
        key = (get_language(), len(_nav), current.url if current else None, allowed)
        html = _nav_html.get(key)
        if html is None:
            links = []
            for entry, url in sorted(entries, key=lambda item: item[0].position):
                if page_perm(url) not in allowed | {None}:
                    continue
                mark = 'aria-current="page"' if entry is current else ""
                links.append(f'<a href="{escape(url)}" {mark}>{escape(entry.label)}</a>\n    ')
            html = _nav_html[key] = mark_safe("".join(links))
        return html

    return {"console_nav_html": nav_html, "shop_perms": perms}


KEPT_INPUT_KEY = "kept_input"


def input_keep(request, form: str, **extra: str) -> None:
    """Keep what was typed in a refused form for the page the view redirects to.

    The console answers a POST with a redirect (a reload never repeats an action), which
    loses the POST; the input waits in the session for the next page, which fills `form`
    from it once (`{% kept_input "form" as kept %}`); `extra` says which of a page's many
    forms it was (a stock row). Files cannot be kept: a browser never prefills a file input.
    """
    data = {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"} | extra
    request.session[KEPT_INPUT_KEY] = {"form": form, "data": data}


def input_kept(request, form: str) -> dict:
    """What was typed in `form` before its refusal: a dict of the posted values, empty when nothing was kept."""
    if request is None or not hasattr(request, "session"):
        return {}
    if not hasattr(request, "_kept_input"):
        # taken once per request, so every form of the page sees it and the next page does not
        request._kept_input = request.session.pop(KEPT_INPUT_KEY, None)
    kept = request._kept_input
    return kept["data"] if kept and kept["form"] == form else {}
