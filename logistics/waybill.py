"""Printed waybills and packing slips: one PDF, a waybill and a packing slip per order, numbers as Code 128."""
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from typing import BinaryIO

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from logistics.models import Shipment
from logistics.selectors import shipments_by_order
from orders.models import Order, OrderLine
from orders.selectors import orders_in_shop
from shop_admin.kernel.text import phone_mask

# --- what is printed: plain data, one entry per order ---


@dataclass(frozen=True)
class WaybillItem:
    product_name: str
    spec: str
    quantity: int


@dataclass(frozen=True)
class Waybill:
    order_no: str
    shop_name: str
    recipient_name: str
    phone_masked: str  # never the whole number: the label rides on the parcel for anyone to read
    address: str
    items: tuple[WaybillItem, ...]
    carrier: str = ""  # the carrier's name as printed; empty while the order is not shipped
    tracking_no: str = ""
    buyer_message: str = ""
    door_delivery: bool = False  # 音尊达: the courier sees it on the label and brings it to the door first
    sender_name: str = ""
    sender_address: str = ""
    sender_phone: str = ""


def waybill_for_order(*, order: Order, shipments: list[Shipment]) -> Waybill:
    """The order as printed, with its most recent parcel (`shipments` oldest first, as logistics.selectors gives them)."""
    shipment = shipments[-1] if shipments else None
    shop = order.shop
    return Waybill(
        order_no=order.order_no,
        shop_name=shop.name,
        sender_name=shop.sender_name or shop.name,
        sender_address=shop.sender_address or _shipping_warehouse(order),
        sender_phone=shop.sender_phone,
        recipient_name=order.recipient_name,
        phone_masked=phone_mask(order.phone),
        address=" ".join(part for part in (order.province, order.city, order.district, order.address_detail) if part),
        items=tuple(WaybillItem(product_name=line.product_name, spec=line.spec, quantity=line.quantity) for line in order.lines.all()),
        carrier=shipment.get_carrier_display() if shipment else "",
        tracking_no=shipment.tracking_no if shipment else "",
        buyer_message=order.buyer_message,
        door_delivery=bool(shipment and shipment.door_delivery),
    )


def _shipping_warehouse(order: Order) -> str:
    """Where the goods leave from, when the shop has no sender address: the warehouse holding the first line's stock."""
    line = next((line for line in order.lines.all() if line.stock_level_id), None)
    warehouse = line.stock_level.warehouse if line else None
    return f"{warehouse.province} {warehouse.name}" if warehouse else ""


WAYBILL_CHUNK = 200  # orders read per round of queries: a selection of thousands is never in memory at once


def waybills_for_shop(*, shop_id: int, order_nos: list[str]) -> Iterator[Waybill]:
    """The shop's orders among `order_nos`, in the order given, read a chunk at a time; other numbers are skipped."""
    for start in range(0, len(order_nos), WAYBILL_CHUNK):
        chunk = order_nos[start : start + WAYBILL_CHUNK]
        position = {order_no: index for index, order_no in enumerate(chunk)}
        orders = sorted(orders_in_shop(shop_id=shop_id, order_nos=chunk), key=lambda order: position[order.order_no])
        prefetch_related_objects(
            orders, "shop", Prefetch("lines", queryset=OrderLine.objects.order_by("pk").select_related("stock_level__warehouse"))
        )
        shipments = shipments_by_order([order.pk for order in orders])
        for order in orders:
            yield waybill_for_order(order=order, shipments=shipments.get(order.pk, []))


# --- the PDF ---

PAGE = (100 * mm, 150 * mm)  # the 100 x 150 mm thermal label that carriers' label printers take
MARGIN = 4 * mm
# One of Adobe's standard Simplified Chinese fonts, built into reportlab: PDF readers supply the glyphs
# (poppler through fontconfig, with fonts-noto-cjk here), so no font file is shipped or embedded.
CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
BAR_WIDTH = 0.33 * mm  # the narrowest bar: 2.6 dots of a 203 dpi label printer, easy for any scanner
NAME_COLUMN = 52 * mm
SPEC_COLUMN = 26 * mm
FOOTER_HEIGHT = 16 * mm  # room kept under the slip's last row for the total and the buyer's message

pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _style(size: float) -> ParagraphStyle:
    return ParagraphStyle(f"waybill-{size}", fontName=CJK_FONT, fontSize=size, leading=size * 1.25, wordWrap="CJK")


BODY, ADDRESS, NAME, TITLE = _style(9), _style(11), _style(14), _style(16)


class _PageStreamingDocument(pdfdoc.PDFDocument):
    """reportlab's PDF document, except that each finished page goes to the file at once.

    reportlab keeps every page (its content uncompressed) until save() and then builds the whole file in
    memory, growing with every label (tests/perf/README.md has the figures). Here showPage() writes the page and its content
    stream and lets them go; what only the end knows (the fonts dictionary, the page tree, the catalog, the
    cross-reference table) is written at save() by the same loop as reportlab's format(). What stays behind
    is reportlab's bookkeeping of object names, numbers and offsets, under a kilobyte a page.
    This leans on pdfdoc internals (Reference, idToObject, idToOffset), which is why requirements.txt pins
    reportlab exactly; tests/logistics/test_waybill.py rasterises and scans the result and measures memory.
    """

    def __init__(self, out: BinaryIO, **kwargs):
        super().__init__(**kwargs)
        self._out = out
        self._offset = 0
        self._write(pdfdoc.PDFFile(self._pdfVersion).format(self))  # the header

    def _write(self, data: bytes) -> int:
        offset = self._offset
        self._out.write(data)
        self._offset += len(data)
        return offset

    def _write_object(self, name: str) -> None:
        self.idToOffset[name] = self._write(pdfdoc.PDFIndirectObject(name, self.idToObject[name]).format(self))
        self.idToObject[name] = None  # written: only its number and offset are needed from now on

    def addPage(self, page) -> None:
        name = self.thisPageName()
        super().addPage(page)
        self._write_object(name)  # formatting the page registers its content stream (and, once, the page tree)
        self._write_object(page.Contents.__InternalName__)
        self.Pages.pages[-1] = pdfdoc.PDFObjectReference(name)

    def format(self) -> bytes:
        """Write what is left, the cross-reference table and the trailer; nothing is left for save() to write."""
        root, info = self.Reference(self.Catalog), self.Reference(self.info)
        names, number = [], 1
        while number in self.numberToId:  # writing an object may register more: look again each time
            name = self.numberToId[number]
            if name not in self.idToOffset:
                self._write_object(name)
            names.append(name)
            number += 1
        xref = pdfdoc.PDFCrossReferenceTable()
        xref.addsection(0, names)
        start = self._write(xref.format(self))
        trailer = pdfdoc.PDFTrailer(startxref=start, Size=len(names) + 1, Root=root, Info=info, ID=self.ID())
        self._write(trailer.format(self))
        return b""


class _LabelCanvas(Canvas):
    """reportlab's canvas, drawing into a _PageStreamingDocument."""

    def __init__(self, out: BinaryIO, **kwargs):
        super().__init__(out, **kwargs)
        self._doc = _PageStreamingDocument(out, compression=self._pageCompression, invariant=self._doc.invariant)
        self._make_preamble()  # again, so that the initial font is registered in this document


class _Cursor:
    """Where the next block goes on the current page: each block is drawn below the previous one."""

    def __init__(self, canvas: Canvas):
        self.canvas = canvas
        self.y = PAGE[1] - MARGIN

    def room(self) -> float:
        return self.y - MARGIN

    def gap(self, space: float = 2 * mm) -> None:
        self.y -= space

    def text(self, text: str, style: ParagraphStyle) -> None:
        paragraph = Paragraph(escape(text), style)  # escaped: a product name may hold "<" or "&"
        _, height = paragraph.wrap(PAGE[0] - 2 * MARGIN, self.y)
        paragraph.drawOn(self.canvas, MARGIN, self.y - height)
        self.y -= height

    def rule(self) -> None:
        self.gap(1.5 * mm)
        self.canvas.setLineWidth(0.8)
        self.canvas.line(MARGIN, self.y, PAGE[0] - MARGIN, self.y)
        self.gap(2 * mm)

    def barcode(self, value: str, *, height: float, caption: str) -> None:
        """Code 128, centred, with the number in plain characters under it for a person to read."""
        symbol = Code128(value, barWidth=BAR_WIDTH, barHeight=height)
        symbol.drawOn(self.canvas, (PAGE[0] - symbol.width) / 2, self.y - height)
        self.y -= height + 4 * mm
        self.canvas.setFont(LATIN_FONT, 10)
        self.canvas.drawCentredString(PAGE[0] / 2, self.y + 1 * mm, value)
        self.canvas.setFont(CJK_FONT, 8)
        self.canvas.drawString(MARGIN, self.y + 1 * mm, caption)
        self.gap(1 * mm)

    def row(self, name: str, spec: str, quantity: str) -> None:
        name_cell, spec_cell, height = _row(name, spec)
        name_cell.drawOn(self.canvas, MARGIN, self.y - name_cell.height)
        spec_cell.drawOn(self.canvas, MARGIN + NAME_COLUMN + 2 * mm, self.y - spec_cell.height)
        self.canvas.setFont(CJK_FONT, BODY.fontSize)
        self.canvas.drawRightString(PAGE[0] - MARGIN, self.y - BODY.fontSize, quantity)
        self.y -= height


def _row(name: str, spec: str) -> tuple[Paragraph, Paragraph, float]:
    """A packing-slip row's two wrapped cells and the height the row takes."""
    name_cell, spec_cell = Paragraph(escape(name), BODY), Paragraph(escape(spec), BODY)
    height = max(name_cell.wrap(NAME_COLUMN, PAGE[1])[1], spec_cell.wrap(SPEC_COLUMN, PAGE[1])[1])
    return name_cell, spec_cell, height + 1 * mm


def _draw_waybill(canvas: Canvas, waybill: Waybill) -> None:
    page = _Cursor(canvas)
    page.text(waybill.carrier or _("未发货"), TITLE)
    if waybill.door_delivery:
        page.text(_("【音尊达】送货上门 优先派送"), BODY)
    page.gap()
    if waybill.tracking_no:
        page.barcode(waybill.tracking_no, height=18 * mm, caption=_("快递单号"))
    else:
        page.text(_("尚未发货，没有快递单号"), BODY)
    page.rule()
    page.text(_("收件人"), BODY)
    page.text(f"{waybill.recipient_name}  {waybill.phone_masked}", NAME)
    page.gap(1 * mm)
    page.text(waybill.address, ADDRESS)
    page.rule()
    page.text(_("寄件：%(shop)s") % {"shop": " ".join(part for part in (waybill.sender_name or waybill.shop_name, waybill.sender_phone) if part)}, BODY)
    if waybill.sender_address:
        page.text(waybill.sender_address, BODY)
    page.rule()
    page.barcode(waybill.order_no, height=12 * mm, caption=_("订单号"))
    count = sum(item.quantity for item in waybill.items)
    page.text(_("共 %(count)s 件商品，明细见发货清单") % {"count": count}, BODY)


def _slip_page(canvas: Canvas, waybill: Waybill, *, continued: bool) -> _Cursor:
    page = _Cursor(canvas)
    page.text(_("发货清单（续）") if continued else _("发货清单"), TITLE)
    page.text(waybill.shop_name, BODY)
    page.gap()
    page.barcode(waybill.order_no, height=10 * mm, caption=_("订单号"))
    if not continued:
        page.text(_("收件人：%(name)s  %(phone)s") % {"name": waybill.recipient_name, "phone": waybill.phone_masked}, BODY)
        page.text(waybill.address, BODY)
    page.rule()
    page.row(_("商品名称"), _("规格"), _("数量"))
    page.rule()
    return page


def _draw_packing_slip(canvas: Canvas, waybill: Waybill) -> int:
    """The slip on as many pages as its lines need; returns that number."""
    pages = 1
    page = _slip_page(canvas, waybill, continued=False)
    for index, item in enumerate(waybill.items):
        needed = _row(item.product_name, item.spec)[2] + (FOOTER_HEIGHT if index == len(waybill.items) - 1 else 0)
        if page.room() < needed:
            canvas.showPage()
            pages += 1
            page = _slip_page(canvas, waybill, continued=True)
        page.row(item.product_name, item.spec, str(item.quantity))
    page.rule()
    page.text(_("合计 %(count)s 件") % {"count": sum(item.quantity for item in waybill.items)}, BODY)
    if waybill.buyer_message:
        page.text(_("买家留言：%(message)s") % {"message": waybill.buyer_message}, BODY)
    return pages


def waybills_render(waybills: Iterable[Waybill], out: BinaryIO) -> int:
    """Write one PDF with each order's waybill followed by its packing slip; returns the number of pages.

    `waybills` is consumed one entry at a time and each page is written to `out` when it is finished, so
    memory stays flat however many orders the document holds.
    """
    canvas = _LabelCanvas(out, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(_("快递面单"))
    pages = 0
    for waybill in waybills:
        _draw_waybill(canvas, waybill)
        canvas.showPage()
        pages += 1 + _draw_packing_slip(canvas, waybill)
        canvas.showPage()
    if not pages:
        canvas.showPage()  # a PDF needs a page: an empty selection prints one blank label
        pages = 1
    canvas.save()
    return pages
