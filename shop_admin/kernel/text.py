"""Text the console shows: lists joined in the user's language (、 and ； in Chinese, commas in English), masked phones."""
from django.utils.translation import gettext as _


def join_list(items) -> str:
    return _("、").join(str(item) for item in items)


def join_messages(items) -> str:
    return _("；").join(str(item) for item in items)


def form_errors_text(form) -> str:
    """Every field error of a form, each named by its label."""
    return join_messages(_("%(field)s：%(error)s") % {"field": form.fields[f].label if f in form.fields else f, "error": e[0]} for f, e in form.errors.items())


def phone_mask(phone: str) -> str:
    """A mainland mobile as 抖店 prints it: 138****8000."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"
