"""The order list's rows, written in one pass in Python.

At a million orders drawing 20 rows through the template engine cost several times the list's
SQL (tests/perf/README.md: a per-row `{% include %}` of each part's cell, the
`date`, `masked`, `yuan` and `truncatechars` filters, a gettext per row, Django's
`get_FOO_display` rebuilding its choices dict). Here the same markup is built with
`format_html`/`escape` and the per-page constants (labels, time zone) are looked up once.
Links come from the URL conf, reversed once per process (`kernel.console.url_around`), never written as paths.
The filter bar and the bulk bar below are kept per language and role for the same reason: the
same markup on every page a role sees, drawn once.
A part gives its cell as `list_cell` (rows -> safe HTML); a part with only `list_template`
still works, rendered once per row from the template loaded once.
"""
from datetime import datetime
from html import escape as html_escape

from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from orders.constants import ExceptionKind, OrderStatus
from orders.forms import RemarkForm
from shop_admin.kernel.console import url_around
from shop_admin.kernel.templatetags.console import deadline_html, yuan
from shop_admin.kernel.text import name_mask, phone_mask


def _labels(choices) -> dict[str, str]:
    """Value -> label in the current language, each label translated once a page (a lazy label costs a gettext per use)."""
    labels: dict[str, str] = {}

    def label(value: str) -> str:
        if value not in labels:
            try:
                labels[value] = _esc(str(choices(value).label))
            except ValueError:
                labels[value] = _esc(value)
        return labels[value]

    return label


def _esc(text: str) -> str:
    # What django.utils.html.escape returns, without its lazy-argument wrapper (a few hundred calls a page).
    return html_escape(str(text))


def order_rows_html(orders: list, parts: list, *, now: datetime) -> SafeString:
    """The `<tr>` of each row of the page (`orders.selectors.OrderListRow`), as `templates/orders/_order_table.html` used to draw them."""
    tz = timezone.get_current_timezone()
    choose, flag_label, ship_by = _esc(_("选择")), _("旗帜"), _esc(_("发货截止"))
    status_label, kind_label = _labels(OrderStatus), _labels(ExceptionKind)
    order_url, order_url_end = url_around("orders:detail", "ORDERNO")
    cell_parts = [part for part in parts if part.list_template or part.list_cell]
    templates = {part.name: get_template(part.list_template) for part in cell_parts if not part.list_cell}
    out = []
    for order in orders:
        no = _esc(order.order_no)
        lines = "<br>".join(f"{_esc(name)} {_esc(spec)} ×{quantity}" for name, spec, quantity in order.lines)
        status = status_label(order.status)
        badges = "".join(f'<span class="badge bad">{kind_label(kind)}</span>' for kind in order.open_exception_kinds)
        deadline = ""
        if order.status == OrderStatus.PAID and order.ship_deadline:
            deadline = f'<br><span class="muted">{ship_by}</span> {deadline_html(order.ship_deadline, now=now)}'
        cells = []
        for pr in order.part_rows:
            part = pr.part
            if part.name in templates:
                cells.append(f"<td>{templates[part.name].render({'order': order, 'rows': pr.rows})}</td>")
            elif part.list_cell:
                cells.append(f"<td>{conditional_escape(part.list_cell(pr.rows))}</td>")
        flag = ""
        if order.remark_flag:
            flag = format_html('<span class="flag flag-{}" title="{} {}"></span>', order.remark_flag, flag_label, order.remark_flag)
        remark = order.merchant_remark or ""
        if len(remark) > 20:
            remark = Truncator(remark).chars(20)
        out.append(
            "<tr>\n"
            f'    <td><input type="checkbox" name="order_no" value="{no}" form="bulk-form" aria-label="{choose} {no}"></td>\n'
            f'    <td><a href="{order_url}{no}{order_url_end}">{no}</a></td>\n'
            f"    <td>{order.created_at.astimezone(tz):%Y-%m-%d %H:%M}</td>\n"
            f"    <td>{lines}</td>\n"
            f"    <td>{_esc(name_mask(order.recipient_name or ''))} {_esc(phone_mask(order.phone or ''))}</td>\n"
            f"    <td>{status}\n      {badges}\n      {deadline}</td>\n"
            f'    <td class="num">{_esc(yuan(order.payable))}</td>\n'
            f"    {''.join(cells)}\n"
            f"    <td>{flag} {_esc(remark)}</td>\n"
            "  </tr>\n  "
        )
    return mark_safe("".join(out))



# The list's bulk bar and column heads by language, role and parts: the same on every page a role sees.
_CHROME: dict[tuple, tuple[SafeString, SafeString]] = {}


def order_table_chrome(*, parts: list, perms: set[str], can_edit: bool) -> tuple[SafeString, SafeString]:
    """The bulk bar (`orders/_order_bulk_bar.html`, with each part's buttons, which get `perms`) and the column heads
    (`orders/_order_table_head.html`) of the order list, drawn once per language, role and registered parts:
    forty-odd template nodes and twenty translations that every page and every htmx partial printed alike."""
    key = (get_language(), can_edit, frozenset(perms), tuple((p.name, p.bulk_template, p.list_template) for p in parts))
    chrome = _CHROME.get(key)
    if chrome is None:
        # the flag's colours and names are the order page's (RemarkForm), so a flag set in bulk looks the same there
        context = {"parts": parts, "perms": perms, "can_edit": can_edit, "flag_choices": RemarkForm.base_fields["flag"].choices}
        bar, head = (
            mark_safe(get_template(name).render(context).strip())
            for name in ("orders/_order_bulk_bar.html", "orders/_order_table_head.html")
        )
        chrome = _CHROME[key] = (bar, head)
    return chrome


_STATUS_LABELS: dict[str, list[tuple[str, str]]] = {}  # language -> each status's (value, label), escaped


def order_tabs_html(*, tabs_query: str, status: str | None, counts: dict[str, int], cap: int) -> SafeString:
    """The status tabs after 全部 (one per status, with its capped count), as `templates/orders/order_list.html`
    drew them with a loop: fifty-odd template nodes a page, where this is a line of Python per tab."""
    query = _esc(tabs_query)
    joined = f"?{query}&" if tabs_query else "?"
    language = get_language()
    labels = _STATUS_LABELS.get(language)
    if labels is None:
        labels = _STATUS_LABELS[language] = [(_esc(value), _esc(label)) for value, label in OrderStatus.choices]
    out = []
    for (value, label), status_value in zip(labels, OrderStatus.values, strict=True):
        count = counts.get(status_value, 0)
        current = 'aria-current="page"' if status_value == status else ""
        out.append(
            f'<a href="{joined}status={value}" {current}>{label}'
            f'<span class="count">{f"{cap}+" if count > cap else count}</span></a>'
        )
    return mark_safe("".join(out))


# The filter bars drawn, by language and submitted values: a bar depends on nothing else (its choices are the
# form's constants), and a merchant paging through a filter or switching tabs asks for the same bar again.
# Emptied when full (a few hundred distinct filters), so a process keeps a bounded number.
_FILTER_BARS: dict[tuple, SafeString] = {}
_FILTER_BARS_KEPT = 256


def order_filter_fields_html(form) -> SafeString:
    """The filter bar's labelled fields, as `templates/orders/order_list.html` drew them with a loop over the form.

    The loop's tags (an `if` per field, the label, the error, the search box's attributes) were a tenth of the page;
    written in Python, the bar was still a twentieth (every option's label translated and escaped), so the bars
    drawn are kept per language and submitted values (the visible fields' raw values: the errors follow from them).
    """
    fields = form.visible_fields()
    key = (get_language(), *(form.data.get(field.html_name) for field in fields))
    bar = _FILTER_BARS.get(key)
    if bar is None:
        if len(_FILTER_BARS) >= _FILTER_BARS_KEPT:
            _FILTER_BARS.clear()
        bar = _FILTER_BARS[key] = _filter_fields_html(fields)
    return bar


def _filter_fields_html(fields) -> SafeString:
    search_title = conditional_escape(_("按 / 键快速搜索"))
    out = []
    for field in fields:
        if field.name == "q":
            title = f' title="{search_title}"'
            value = conditional_escape(field.value() or "")
            placeholder = conditional_escape(field.field.widget.attrs.get("placeholder", ""))
            control = f'<input type="search" name="q" value="{value}" placeholder="{placeholder}" data-search maxlength="60">'
        else:
            title, control = "", conditional_escape(str(field))
        error = f'<span class="error" role="alert">{conditional_escape(field.errors[0])}</span>' if field.errors else ""
        out.append(f"\n  <label{title}>{conditional_escape(field.label)}\n    {control}\n    {error}\n  </label>\n  ")
    return mark_safe("".join(out))
