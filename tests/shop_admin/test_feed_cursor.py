"""The one feed cursor of the merchant API's lists (orders, exceptions, after-sale cases): round trip, and forged ones refused."""
import base64
from datetime import datetime, timedelta, timezone

import pytest

from shop_admin.kernel.api import feed_cursor_decode, feed_cursor_encode
from shop_admin.kernel.errors import Invalid


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_gives_back_its_time_and_id():
    moment = datetime(2026, 12, 7, 21, 5, 1, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert feed_cursor_decode(feed_cursor_encode(moment, 42)) == (moment, 42)
    assert feed_cursor_decode(feed_cursor_encode(None, 7), nullable=True) == (None, 7)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        forged("2026-12-07T00:00:00+08:00"),  # no id
        forged("2026-12-07T00:00:00+08:00|x"),
        forged("2026-12-07T00:00:00+08:00|0"),
        forged(f"2026-12-07T00:00:00+08:00|{2**63}"),  # beyond bigint
        forged("2026-12-07T00:00:00+20:00|1"),  # an offset PostgreSQL refuses
        forged("yesterday|1"),
        forged("-|1"),  # no time where the feed's time is never empty
    ],
)
def test_a_forged_cursor_is_a_422_naming_the_field(cursor):
    with pytest.raises(Invalid) as refused:
        feed_cursor_decode(cursor)
    assert refused.value.details["fields"].keys() == {"cursor"}
