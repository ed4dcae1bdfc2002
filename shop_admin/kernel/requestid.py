"""One request id per request, carried into every log line of it and into the RQ jobs it enqueues.

A caller (the proxy, an ERP) may send `X-Request-ID`; 1-64 characters of `[A-Za-z0-9._-]` are kept, anything
else is replaced, so a log line can never be forged through the header. The id lives in a context variable:
the log filter (`logfilters.RequestIdFilter`) reads it, the queue class stamps it on each job's meta, and the
job class sets it again while the worker runs the job, so the job's own log lines carry it too.
"""
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver
from django_rq.queues import DjangoRQ
from rq.job import Job

from shop_admin.kernel import replicas
from shop_admin.kernel.logfilters import current_request_id

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_clean(value: str | None) -> str:
    """The id sent when it is well formed, else a new one."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes or makes the request's id, keeps it for the request's log lines and jobs, and echoes it.

    The id stays set until the request has finished (`request_finished` clears it), not only while the
    middleware runs: Django logs a 4xx/5xx after the middleware chain has returned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_clean(request.headers.get(HEADER))
        request.request_id = request_id
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _request_id_forget(**kwargs) -> None:
    current_request_id.set(None)


class RequestIdQueue(DjangoRQ):
    """Every job enqueued (now, at a time, or after a commit) remembers the request that asked for it."""

    def create_job(self, *args, **kwargs):
        job = super().create_job(*args, **kwargs)
        request_id = current_request_id.get()
        if request_id and "request_id" not in job.meta:
            job.meta["request_id"] = request_id
        return job


class RequestIdJob(Job):
    """While the worker performs the job, its log lines carry the id of the request that enqueued it.

    Each job also starts with nothing written (kernel/replicas.py): what an earlier job in the same worker wrote
    does not keep this one off the replicas, and what this one writes it reads back from the primary.
    """

    def perform(self):
        token = current_request_id.set(self.meta.get("request_id"))
        writes = replicas.writes_begin()
        try:
            return super().perform()
        finally:
            replicas.writes_end(writes)
            current_request_id.reset(token)
