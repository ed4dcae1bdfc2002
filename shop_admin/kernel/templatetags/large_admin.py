"""The rows of a large changelist (`shop_admin.kernel.admin.LargeTableAdmin`), written with what is the same on every row looked up once.

Django's `items_for_result` resolves each column's field, rebuilds a choice field's
label dict, looks up the date format and reverses and re-resolves the change URL on
every cell of every row: at 50 rows that was two fifths of a changelist's time. Here
the per-column facts (field, classes, labels, format, URL shape) are found once a page
and each cell prints the same markup Django's code prints. Popups and editable lists
keep Django's own code.
"""
import datetime

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
    quote,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import Library
from django.urls import NoReverseMatch
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = Library()

_PK_MARK = "9081726354"  # stands for the primary key in the change URL's shape; digits, so quote() leaves it as is


class _Column:
    """What every cell of one column shares."""

    def __init__(self, cl, index: int, name, is_first_link_candidate: bool):
        self.name = name
        self.classes = [f"field-{_coerce_field_name(name, index)}"]
        if cl.list_display_links is None:
            self.link = False
        elif is_first_link_candidate and not cl.list_display_links:
            self.link = True
        else:
            self.link = name in cl.list_display_links
        try:
            self.field = _get_non_gfk_field(cl.lookup_opts, name) if isinstance(name, str) else None
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            self.field = None
        field = self.field
        self.labels = None
        self.is_fk = field is not None and isinstance(field.remote_field, models.ManyToOneRel)
        # (a relation's choices would be every related row; its cell prints the related object instead)
        if field is not None and not self.is_fk and getattr(field, "flatchoices", None):
            try:
                # Labels as printed, in this request's language: the same text dict(field.flatchoices) gives per cell.
                self.labels = {value: label for value, label in field.flatchoices}
                hash(tuple(self.labels))
            except TypeError:
                self.labels = None
        self.nowrap = field is not None and isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        self.is_datetime = (
            field is not None and not field.auto_created and self.labels is None and isinstance(field, models.DateTimeField)
        )


def _fast_items(cl, columns: list[_Column], result, empty: str, datetime_format: str, url_for):
    """The cells of one row: the markup of django.contrib.admin's items_for_result(cl, result, None)."""
    first = True
    for column in columns:
        field = column.field
        empty_value_display = empty
        row_classes = column.classes
        try:
            if field is None:
                f, attr, value = lookup_field(column.name, result, cl.model_admin)
            else:
                f, attr, value = field, None, getattr(result, column.name)
        except ObjectDoesNotExist:
            result_repr = empty_value_display
        else:
            empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if f is None or f.auto_created:
                if column.name == "action_checkbox":
                    row_classes = ["action-checkbox"]
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                result_repr = display_for_value(value, empty_value_display, boolean)
                if isinstance(value, (datetime.date, datetime.time)):
                    row_classes = [*row_classes, "nowrap"]
            else:
                if column.is_fk:
                    field_val = getattr(result, f.name)
                    result_repr = empty_value_display if field_val is None else field_val
                elif column.labels is not None:
                    result_repr = column.labels.get(value, empty_value_display)
                elif column.is_datetime and value not in f.empty_values:
                    result_repr = dateformat.format(timezone.template_localtime(value), datetime_format)
                else:
                    result_repr = display_for_field(value, f, empty_value_display, avoid_link=column.link)
                if column.nowrap:
                    row_classes = [*row_classes, "nowrap"]
        row_class = f' class="{" ".join(row_classes)}"'
        if column.link:
            table_tag = "th" if first else "td"
            first = False
            url = url_for(result)
            if url is None:
                link_or_text = conditional_escape(result_repr)
            else:
                link_or_text = f'<a href="{conditional_escape(url)}">{conditional_escape(result_repr)}</a>'
            yield mark_safe(f"<{table_tag}{row_class}>{link_or_text}</{table_tag}>")
        else:
            yield mark_safe(f"<td{row_class}>{conditional_escape(result_repr)}</td>")


def _change_url_for(cl):
    """result -> its change URL with the changelist's filters kept, as items_for_result builds it; None if there is none."""
    try:
        shape = cl.url_for_result(cl.result_list[0]) if cl.result_list else None
    except NoReverseMatch:
        return lambda result: None
    if shape is None:
        return lambda result: None
    first_pk = quote(cl.result_list[0].pk)
    marked = shape.replace(f"/{first_pk}/", f"/{_PK_MARK}/", 1)
    kept = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, marked)
    if marked == shape or kept.count(_PK_MARK) != 1:
        # A URL whose shape cannot be reused: build each one as Django does.
        return lambda result: add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(result)
        )
    return lambda result: kept.replace(_PK_MARK, str(quote(result.pk)), 1)


def _rows(cl):
    if cl.formset or cl.is_popup or cl.to_field:
        yield from results(cl)
        return
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        column = _Column(cl, index, name, first)
        if column.link:
            first = False
        columns.append(column)
    empty = cl.model_admin.get_empty_value_display()
    datetime_format = formats.get_format("DATETIME_FORMAT")
    url_for = _change_url_for(cl)
    for result in cl.result_list:
        yield ResultList(None, _fast_items(cl, columns, result, empty, datetime_format, url_for))


def large_result_list(cl):
    """The context of django.contrib.admin's `result_list` tag, its rows built by `_rows`."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": list(_rows(cl)),
    }


@register.tag(name="large_result_list")
def large_result_list_tag(parser, token):
    return InclusionAdminNode(parser, token, func=large_result_list, template_name="change_list_results.html", takes_context=False)

