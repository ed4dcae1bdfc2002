"""Logging filters named in settings.LOGGING (loaded before the apps: nothing here imports a model)."""
import logging


class RefusalsNotLogged(logging.Filter):
    """Drops django.request's warning for a 409: a refusal the API answers by design (sold out, a state that moved on).

    A flash sale answers thousands of them a second; each was a formatted line on stderr, about a twentieth
    of the refusal's CPU. Other 4xx and every 5xx are still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 409
