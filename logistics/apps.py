"""App config of logistics: registers its job kinds with the kernel and its parcels as a part of every order view."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = "物流"

    def ready(self) -> None:
        from logistics import jobs
        from logistics.remedies import logistics_remedies_register
        from logistics.schemas import ShipmentOut, shipment_out
        from logistics.selectors import order_ids_by_tracking_no, shipments_by_order
        from orders.parts import OrderPart, order_part_register
        from shop_admin.kernel.background import background_job_kind_register

        logistics_remedies_register()
        background_job_kind_register(run=jobs.logistics_bulk_ship, label=_("批量发货"))
        background_job_kind_register(run=jobs.logistics_waybills_print, label=_("打印面单"))
        order_part_register(
            OrderPart(
                name="shipments",
                load=shipments_by_order,
                panel_template="logistics/_order_panel.html",
                actions_template="logistics/_order_actions.html",
                list_header=_("快递单号"),
                list_template="logistics/_order_cell.html",
                bulk_template="logistics/_order_bulk.html",
                export_columns={
                    "快递公司": lambda shipments: str(shipments[0].get_carrier_display()) if shipments else "",
                    "快递单号": lambda shipments: shipments[0].tracking_no if shipments else "",
                },
                search=order_ids_by_tracking_no,
                api_field="shipments",
                api_item_schema=ShipmentOut,
                api_item=shipment_out,
            )
        )
