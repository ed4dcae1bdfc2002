"""Shapes of the after-sale API: a case as the merchant's order view lists it."""
from shop_admin.kernel.api import Schema, time_str


class AfterSaleBriefOut(Schema):
    id: int
    type: str
    status: str
    reply_deadline: str | None


def aftersale_brief_out(case) -> dict:
    return {"id": case.pk, "type": case.type, "status": case.status, "reply_deadline": time_str(case.reply_deadline)}
