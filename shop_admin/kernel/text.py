"""Text the console shows: lists joined in the user's language (、 and ； in Chinese, commas in English), masked contact details."""
from django.utils.translation import gettext as _


def join_list(items) -> str:
    return _("、").join(str(item) for item in items)


def join_messages(items) -> str:
    return _("；").join(str(item) for item in items)


def form_errors_text(form) -> str:
    """Every field error of a form, each named by its label."""
    return join_messages(_("%(field)s：%(error)s") % {"field": form.fields[f].label if f in form.fields else f, "error": e[0]} for f, e in form.errors.items())


# The masks of a buyer's contact details, as 抖店 shows them until someone allowed asks (a logged reveal). The order
# export computes the same cells in SQL (orders.exports, _MASK_SQL); a test holds the two to the same bytes.


def phone_mask(phone: str) -> str:
    """A mainland mobile as 抖店 prints it: 138****8000."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def name_mask(name: str) -> str:
    """A recipient as 张*: the first character only."""
    return f"{name[:1]}*" if name else ""


def address_detail_mask(detail: str) -> str:
    """The street part of an address as 文三****: province, city and district stay whole beside it."""
    return f"{detail[:2]}****" if detail else ""
