"""Reads about shops and members: which shops a user may see, with which role."""
from shop_admin.models import Membership, MerchantApiToken


def user_shop_ids(*, user) -> set[int]:
    return set(Membership.objects.filter(user=user).values_list("shop_id", flat=True))


def merchant_token_user(*, key: str):
    token = MerchantApiToken.objects.select_related("user").filter(key=key, user__is_active=True).first()
    return token.user if token else None
