"""App config of logistics: registers its deadline, job and event kinds, its console page and tile, and its parcels as a part of every order view."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("物流")

    def ready(self) -> None:
        from logistics import jobs
        from logistics.constants import LogisticsEventKind
        from logistics.imports import shipments_import_check, shipments_import_write
        from logistics.remedies import logistics_remedies_register
        from logistics.schemas import ShipmentOut, shipment_out
        from logistics.selectors import (
            order_ids_by_tracking_no,
            shipment_page_url,
            shipments_brief_by_order,
            shipments_by_order,
            shipments_export_sql,
            shipments_list_cell,
            shipments_stalled,
        )
        from logistics.services.not_received import not_received_evidence
        from logistics.services.parcel_alerts import (
            shipment_delivery_due,
            shipment_delivery_timeout,
            shipment_pickup_due,
            shipment_pickup_timeout,
        )
        from logistics.services.stall import (
            shipment_stall_due,
            shipment_stall_timeout,
            stalled_flag_clear_on_resolve,
        )
        from orders.constants import ExceptionKind
        from orders.events import order_event_kinds_register
        from orders.evidence import exception_evidence_register
        from orders.exception_hooks import exception_resolved_register
        from orders.parts import OrderPart, order_part_register
        from shop_admin.kernel.background import background_job_kind_register
        from shop_admin.kernel.console import (
            DashboardTile,
            console_nav_register,
            dashboard_tile_register,
        )
        from shop_admin.kernel.deadlines import deadline_register

        deadline_register(apply_due=shipment_stall_timeout, due=shipment_stall_due, url=shipment_page_url, label=_("物流停滞"))
        deadline_register(apply_due=shipment_pickup_timeout, due=shipment_pickup_due, url=shipment_page_url, label=_("揽收超时"))
        deadline_register(apply_due=shipment_delivery_timeout, due=shipment_delivery_due, url=shipment_page_url, label=_("签收超时"))
        logistics_remedies_register()
        background_job_kind_register(run=jobs.logistics_bulk_ship, label=_("批量发货"))
        background_job_kind_register(run=jobs.logistics_waybills_print, label=_("打印面单"))
        order_event_kinds_register(LogisticsEventKind)
        from logistics.constants import Carrier
        from shop_admin.kernel.actors import actor_labels_register
        from shop_admin.kernel.text import stored_text_param_register

        # The carrier's tracking push acts on the timeline as "logistics:<code>".
        actor_labels_register({f"logistics:{code}": label for code, label in Carrier.choices})
        stored_text_param_register("carrier", Carrier)
        exception_evidence_register(kind=ExceptionKind.NOT_RECEIVED, gather=not_received_evidence)
        exception_resolved_register(kind=ExceptionKind.STALLED_LOGISTICS, on_resolved=stalled_flag_clear_on_resolve)
        console_nav_register(label=_("物流"), url="logistics", position=30)
        dashboard_tile_register(
            DashboardTile(label=_("物流停滞"), url="/logistics/?stalled=1", position=35, counted=shipments_stalled)
        )
        order_part_register(
            OrderPart(
                name="shipments",
                load=shipments_by_order,
                panel_template="logistics/_order_panel.html",
                actions_template="logistics/_order_actions.html",
                list_header=_("快递单号"),
                list_template="logistics/_order_cell.html",
                list_cell=shipments_list_cell,
                list_load=shipments_brief_by_order,
                bulk_template="logistics/_order_bulk.html",
                export_columns={
                    "快递公司": lambda shipments: str(shipments[0].get_carrier_display()) if shipments else "",
                    "快递单号": lambda shipments: shipments[0].tracking_no if shipments else "",
                },
                export_sql=shipments_export_sql,
                import_check=shipments_import_check,
                import_write=shipments_import_write,
                search=order_ids_by_tracking_no,
                api_field="shipments",
                api_item_schema=ShipmentOut,
                api_item=shipment_out,
            )
        )
