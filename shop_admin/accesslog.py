"""gunicorn's logger, with the access lines (ACCESS_LOG=1) the project's logs want (`logger_class` in gunicorn.conf.py).

- The balancer's probes (`/healthz`, `/readyz`) are not logged: a balancer asks every few seconds.
- Each line carries the id of the request it reports: gunicorn writes it after the request has finished, when the id
  is no longer current, so it is taken from the response's `X-Request-ID` (`request_id`, and at the end of the text).
- With LOG_FORMAT=json (the production default) each line is one JSON object, as every other line of the process.

In gunicorn's own `setup`, which a SIGHUP runs again, so a reload keeps it; Django's LOGGING leaves this logger alone.
"""
import logging
import os

from gunicorn.glogging import Logger

from shop_admin.kernel.logfilters import JsonFormatter

PROBES = ("/healthz", "/readyz")
REQUEST_ID_ATOM = "{x-request-id}o"


def _log_format() -> str:
    # As settings.LOG_FORMAT decides it (this runs before Django is set up).
    return os.environ.get("LOG_FORMAT", "json" if os.environ.get("DJANGO_ENV") == "production" else "text")


class _RequestIdOfResponse(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else {}
        record.request_id = atoms.get(REQUEST_ID_ATOM) or "-"
        return True


class AccessLogger(Logger):
    """gunicorn's Logger whose access lines leave out the probes, carry the request id and follow LOG_FORMAT."""

    def setup(self, cfg) -> None:
        if f"%({REQUEST_ID_ATOM})s" not in cfg.access_log_format:
            cfg.set("access_log_format", f"{cfg.access_log_format} %({REQUEST_ID_ATOM})s")
        super().setup(cfg)
        for handler in self.access_log.handlers:
            handler.addFilter(_RequestIdOfResponse())
            if _log_format() == "json":
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if environ.get("PATH_INFO") in PROBES:
            return
        super().access(resp, req, environ, request_time)
