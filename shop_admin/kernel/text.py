"""Text the console shows: lists joined in the user's language (、 and ； in Chinese, commas in English), refusals, masked phones."""
from collections.abc import Mapping

from django.utils.translation import gettext as _

from shop_admin.kernel.errors import DomainError


def join_list(items) -> str:
    return _("、").join(str(item) for item in items)


def join_messages(items) -> str:
    return _("；").join(str(item) for item in items)


def form_errors_text(form) -> str:
    """Every field error of a form, each named by its label."""
    return join_messages(_("%(field)s：%(error)s") % {"field": form.fields[f].label if f in form.fields else f, "error": e[0]} for f, e in form.errors.items())


def domain_error_text(exc: DomainError, *, labels=None) -> str:
    """A refusal as the console shows it: the message, then each field message that adds something, named by its label.

    `labels` is a form (its fields' labels) or a mapping of field name to label. A field
    message the main message already says ("留言不能为空" / "不能为空") is dropped, and a
    field without a label is shown by its message alone: a raw key means nothing to a merchant.
    """
    fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
    if not isinstance(fields, Mapping):
        return exc.message
    if labels is not None and not isinstance(labels, Mapping):
        labels = {name: field.label for name, field in labels.fields.items()}
    labels = labels or {}
    parts, seen = [], {exc.message}
    for key, text in fields.items():
        # a non-text value is the bad input itself (an id, a code), not a message
        if not isinstance(text, str) or not text.strip() or text in exc.message or text in seen:
            continue
        seen.add(text)
        label = labels.get(key) or labels.get(str(key).split(".")[0])
        parts.append(_("%(field)s：%(error)s") % {"field": label, "error": text} if label else text)
    return exc.message + (_("：") + join_messages(parts) if parts else "")


def phone_mask(phone: str) -> str:
    """A mainland mobile as 抖店 prints it: 138****8000."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"
