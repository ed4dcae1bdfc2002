"""The platform's admin site: Django's, with the navigation's model names and URLs found once instead of on every page.

Every admin page lists every registered app and model (the sidebar and the index). Django
builds that list per request: a `reverse()` per model and app, and names that stay lazy
translations, so sorting them translates each name at every comparison: a seventh of
a one-row changelist's time. Here a model's name (per language) and its URLs (per script
prefix) are remembered; the permission checks still run for every request, so the list
is the same one Django builds.
"""
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.text import capfirst
from django.utils.translation import get_language


class PlatformAdminSite(admin.AdminSite):
    def __init__(self, name="admin"):
        super().__init__(name)
        self._names: dict[tuple, str] = {}
        self._urls: dict[tuple, str | None] = {}

    def _name(self, key, text) -> str:
        key = (get_language(), *key)
        if key not in self._names:
            self._names[key] = str(text)
        return self._names[key]

    def _url(self, viewname: str, **kwargs) -> str | None:
        key = (get_script_prefix(), viewname, *kwargs.items())
        if key not in self._urls:
            try:
                self._urls[key] = reverse(viewname, kwargs=kwargs or None, current_app=self.name)
            except NoReverseMatch:
                self._urls[key] = None
        return self._urls[key]

    def _build_app_dict(self, request, label=None):
        """Django's AdminSite._build_app_dict, its names and URLs remembered."""
        app_dict = {}
        models = {m: m_a for m, m_a in self._registry.items() if m._meta.app_label == label} if label else self._registry
        for model, model_admin in models.items():
            app_label = model._meta.app_label
            has_module_perms = model_admin.has_module_permission(request)
            if not has_module_perms:
                continue
            perms = model_admin.get_model_perms(request)
            if True not in perms.values():
                continue
            info = (app_label, model._meta.model_name)
            model_dict = {
                "model": model,
                "name": self._name(("model", model), capfirst(model._meta.verbose_name_plural)),
                "object_name": model._meta.object_name,
                "perms": perms,
                "admin_url": None,
                "add_url": None,
            }
            if perms.get("change") or perms.get("view"):
                model_dict["view_only"] = not perms.get("change")
                model_dict["admin_url"] = self._url("admin:%s_%s_changelist" % info)  # noqa: UP031 (Django's own spelling)
            if perms.get("add"):
                model_dict["add_url"] = self._url("admin:%s_%s_add" % info)  # noqa: UP031
            if app_label in app_dict:
                app_dict[app_label]["models"].append(model_dict)
            else:
                app_dict[app_label] = {
                    "name": self._name(("app", app_label), apps.get_app_config(app_label).verbose_name),
                    "app_label": app_label,
                    "app_url": self._url("admin:app_list", app_label=app_label),
                    "has_module_perms": has_module_perms,
                    "models": [model_dict],
                }
        return app_dict


class PlatformAdminConfig(AdminConfig):
    """django.contrib.admin with PlatformAdminSite as `admin.site`."""

    default_site = "shop_admin.kernel.admin_site.PlatformAdminSite"
