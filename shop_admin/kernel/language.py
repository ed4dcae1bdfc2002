"""The console's language: Chinese unless the user picked English in the language menu; the API may ask by header."""
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ConsoleLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that a console page ignores the browser's Accept-Language.

    The shop works in Chinese (zh-hans) whatever language the browser of a given
    employee happens to prefer; English is a choice made in the header's menu, kept in
    the language cookie. A JSON API client has no menu and no cookie, so under /api/
    Accept-Language still chooses the language of error messages.
    """

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(language) if language else settings.LANGUAGE_CODE
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
