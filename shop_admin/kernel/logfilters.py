"""Logging filters named in settings.LOGGING (loaded before the apps: nothing here imports a model)."""
import json
import logging
from contextvars import ContextVar

# The id of the request (or of the request that enqueued the job) being served; set by kernel/requestid.py.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RefusalsNotLogged(logging.Filter):
    """Drops django.request's warning for a 409: a refusal the API answers by design (sold out, a state that moved on).

    A flash sale answers thousands of them a second; each was a formatted line on stderr, about a twentieth
    of the refusal's CPU. Other 4xx and every 5xx are still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 409


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the request's or job's id, `-` outside of both."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True


class ProbesNotLogged(logging.Filter):
    """Drops the access-log line of a health probe: a balancer asks every few seconds, and a line each would bury the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(path in message for path in ('"GET /healthz', '"GET /readyz'))


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): what a log collector parses without a pattern."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
