"""The console's middleware, skipped for the JSON API: `console_only(Middleware)` and the classes MIDDLEWARE names.

An API request carries its bearer token in a header and is answered in JSON: it has no session, no
flash messages, no CSRF cookie (every API view is exempt), no signed-in console user and no page to
frame. Run on it anyway, these middleware were a quarter of the Python of
the benchmark's floor request (tests/perf/README.md, "The API's own middleware"). Each wrapper is a
subclass of the middleware it wraps (so Django's admin checks still find them) that
passes an API request straight on to the next middleware and skips its hooks for it; every other
request gets the middleware unchanged. The language (Accept-Language for the API) and the rest of
MIDDLEWARE run on both.
"""
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def console_only(middleware: type) -> type:
    """`middleware` for every request but the API's, which goes straight on to the next middleware."""

    def __call__(self, request):
        if is_api(request):
            return self.get_response(request)
        return middleware.__call__(self, request)

    namespace = {"__call__": __call__, "__module__": __name__, "sync_capable": True, "async_capable": False}
    if hasattr(middleware, "process_view"):
        namespace["process_view"] = lambda self, request, *args: None if is_api(request) else middleware.process_view(self, request, *args)
    if hasattr(middleware, "process_exception"):
        namespace["process_exception"] = lambda self, request, exc: None if is_api(request) else middleware.process_exception(self, request, exc)
    if hasattr(middleware, "process_template_response"):
        namespace["process_template_response"] = (
            lambda self, request, response: response if is_api(request) else middleware.process_template_response(self, request, response)
        )
    name = f"Console{middleware.__name__}"
    return type(name, (middleware,), {**namespace, "__qualname__": name, "__doc__": f"{middleware.__name__}, but not for the API."})


ConsoleSessionMiddleware = console_only(SessionMiddleware)
ConsoleCsrfViewMiddleware = console_only(CsrfViewMiddleware)
ConsoleAuthenticationMiddleware = console_only(AuthenticationMiddleware)
ConsoleMessageMiddleware = console_only(MessageMiddleware)
ConsoleXFrameOptionsMiddleware = console_only(XFrameOptionsMiddleware)
