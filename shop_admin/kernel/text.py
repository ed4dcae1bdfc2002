"""Text the console shows: lists joined in the user's language (、 and ； in Chinese, commas in English), refusals,
masked contact details."""
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


# --- texts the system writes for people: stored as a message id and parameters, put into words when read ---

_param_choices: dict[str, type] = {}


def stored_text_param_register(name: str, choices) -> None:
    """A stored text's parameter called `name` holds a code of `choices` (a TextChoices): it is read as the choice's label."""
    if _param_choices.get(name, choices) is not choices:
        raise ValueError(f"stored text parameter {name!r} is registered twice")
    _param_choices[name] = choices


def _param_text(name: str, value):
    choices = _param_choices.get(name)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if isinstance(value, list):
        # A list of names, or of stored texts ([msgid, params] each: an address's several slips).
        return join_list(stored_text(*item) if isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict) else item for item in value)
    return value


def stored_text(msgid: str, params: dict | None = None) -> str:
    """A text the system stored as its message id (the Chinese source) and parameters, in the reader's language.

    The one way every stored system text is read (exception details and resolutions, event reasons, reconciliation
    mismatches, import errors): it was written in no language, so a Chinese and an English reader each see their own.
    A person's own words are stored without parameters and come back as written; rows from before texts were stored
    this way come back as written too, translated where they are a message id of the catalogue.
    """
    if not msgid:
        return ""
    text = _(msgid)
    if not params:
        return text
    try:
        return text % {name: _param_text(name, value) for name, value in params.items()}
    except (KeyError, ValueError, TypeError):
        # A catalogue that lost a placeholder must not break the page: the words without their values.
        return text


def stored_params(data: dict | None, key: str, params: dict | None) -> dict:
    """`data` (a row's JSON) with a stored text's parameters under `key`, when it has any."""
    data = dict(data or {})
    if params is not None:
        data[key] = params
    return data
