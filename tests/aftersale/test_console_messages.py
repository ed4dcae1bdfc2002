"""A refusal on the after-sale page reads once: its message, then only field messages that add something, by label."""
import re

from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.text import domain_error_text


def flash(response) -> str:
    found = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return found.group(1) if found else ""


def test_an_empty_message_is_refused_without_repeating_itself(order_in, open_case, console):
    case = open_case(order_in("delivered"), "return_refund")
    response = console.post(f"/aftersales/{case['id']}/operate/", {"action": "message", "message": "  "}, follow=True)
    text = flash(response)
    assert "留言不能为空" in text
    assert "留言不能为空：不能为空" not in text and text.count("不能为空") == 1


def test_a_reject_without_evidence_names_the_missing_field_by_its_label(order_in, open_case, console):
    case = open_case(order_in("delivered"), "refund_only")
    response = console.post(f"/aftersales/{case['id']}/operate/", {"action": "reject", "reason": "无质量问题"}, follow=True)
    text = flash(response)
    assert "拒绝须填写原因并提供凭证：凭证链接（每行一个）：拒绝须提供凭证" in text
    assert "evidence" not in text


def test_field_messages_are_named_by_label_never_by_key_and_said_once():
    exc = Invalid("收货地址有误", details={"fields": {"phone": "手机号须为11位", "lines.3.quantity": "数量须在1到2之间", "detail": "收货地址有误"}})
    assert domain_error_text(exc, labels={"phone": "手机号", "lines": "商品"}) == "收货地址有误：手机号：手机号须为11位；商品：数量须在1到2之间"
    # no label known: the message alone, never the raw key
    assert domain_error_text(Invalid("扣款有误", details={"fields": {"deductions.0.amount": "须为大于0的金额"}})) == "扣款有误：须为大于0的金额"
    # a bad value (an id) is not a message
    assert domain_error_text(Invalid("库存记录不存在", details={"fields": {"warehouse_id": 7}})) == "库存记录不存在"


def test_a_refused_reject_keeps_the_reason_typed(order_in, open_case, console):
    case = open_case(order_in("delivered"), "refund_only")
    page = console.post(f"/aftersales/{case['id']}/operate/", {"action": "reject", "reason": "无质量问题"}, follow=True).content.decode()
    reject = page.split('value="reject"')[1].split("</form>")[0]
    assert 'value="无质量问题"' in reject
    message = page.split('value="message"')[1].split("</form>")[0]
    assert "无质量问题" not in message  # only the refused form gets it back
