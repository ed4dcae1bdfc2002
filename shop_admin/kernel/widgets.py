"""Form widgets drawn in Python: the same markup as Django's templates, without a template render per widget.

Django renders every widget through the form renderer's templates, a `select` with one
`{% include %}` per option: the order list's filter bar (five selects, two date inputs)
cost about a third of the page's template time. These write the markup Django's
`select.html`, `select_option.html`, `input.html` and `attrs.html` write.
"""
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((option["value"], flatatt(option["attrs"]), option["label"])
             for _group, group_options, _index in widget["optgroups"] for option in group_options),
        )
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


class FastDateInput(forms.DateInput):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        value_attr = format_html(' value="{}"', widget["value"]) if widget["value"] is not None else ""
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value_attr, flatatt(widget["attrs"]))
