"""Building order CSV files the way merchants' tools write them (Excel in UTF-8 or GBK, the 抖店 console)."""
import csv
import io

from orders.resources import EXPORT_HEADERS

ROW = {
    "订单号": "202611220001",
    "下单时间": "2026-11-22 10:30:00",
    "订单状态": "待发货",
    "SKU编码": "TEA-1",
    "商品名称": "蜂蜜柚子茶",
    "商品规格": "500g",
    "数量": "2",
    "单价": "59.90",
    "运费": "0.00",
    "优惠金额": "0.00",
    "应付金额": "119.80",
    "收件人": "张三",
    "手机号": "13800138000",
    "省": "浙江省",
    "市": "杭州市",
    "区": "西湖区",
    "详细地址": "文三路478号华星时代广场A座1201",
    "快递公司": "",
    "快递单号": "",
    "买家留言": "",
    "商家备注": "",
}


def row(**changes) -> dict:
    return {**ROW, **changes}


def csv_file(rows: list[dict], *, encoding: str = "utf-8", headers: list[str] | None = None) -> bytes:
    """The rows under `headers` (default the contract's), in `encoding` ("utf-8-sig" writes the BOM)."""
    headers = headers or EXPORT_HEADERS
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    for values in rows:
        writer.writerow([values.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith("\ufeff".encode()), "exports start with a BOM so Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
