"""Form widgets drawn in Python: the same markup as Django's templates, without a template render per widget.

Django renders every widget through the form renderer's templates, a `select` with one
`{% include %}` per option: the order list's filter bar (five selects, two date inputs)
cost about a third of the page's template time. These write the markup Django's
`select.html`, `select_option.html`, `input.html` and `attrs.html` write.
"""
import copy

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    def __deepcopy__(self, memo):
        # What Django's ChoiceWidget.__deepcopy__ does (every form copies its fields' widgets), less its second
        # normalisation of choices already normalised when they were set: a fifth of the order list's form.
        obj = copy.copy(self)
        obj.attrs = self.attrs.copy()
        obj._choices = copy.copy(self._choices)
        memo[id(self)] = obj
        return obj

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        # Django's optgroups() builds a dict per option (attrs copied, an index, a template name) only for
        # the template to print three of its keys; a flat choice list is printed straight from the choices.
        if self.allow_multiple_selected or any(isinstance(label, (list, tuple)) for _value, label in self.choices):
            return self._render_from_context(name, value, attrs)
        values = self.format_value(value)
        options, has_selected = [], False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            selected = not has_selected and str(option_value) in values
            has_selected |= selected
            options.append(
                f'<option value="{conditional_escape(option_value)}"{" selected" if selected else ""}>'
                f"{conditional_escape(option_label)}</option>"
            )
        attrs_html = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs_html, mark_safe("".join(options)))

    def _render_from_context(self, name, value, attrs) -> SafeString:
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
