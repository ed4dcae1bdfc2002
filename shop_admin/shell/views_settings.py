"""The console's settings: the index of sections the apps register, the team (子账号) and the shop's own rule numbers."""
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import SESSION_KEY, input_keep, input_kept, settings_sections, shop_record_or_404, shop_required
from shop_admin.kernel.constants import Role
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.shoprules import RULES, shop_rules_numbers, shop_rules_update
from shop_admin.kernel.team import (
    invite_accept,
    invite_accept_new_account,
    invite_create,
    invite_max_age_hours,
    invite_read,
    member_add,
    member_disable,
    member_enable,
    member_role_change,
    team_member_get,
    team_members,
)
from shop_admin.kernel.text import domain_error_text


class MemberAddForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Role.choices)


@shop_required
def settings_index_view(request):
    return render(request, "shop_admin/settings_index.html", {"sections": settings_sections(request)})


@shop_required(perm=Perm.SHOP_MANAGE)
def team_view(request):
    kept = input_kept(request, "member_add")
    context = {
        "members": team_members(shop_id=request.shop.pk),
        "add_form": MemberAddForm(initial=kept or {"role": Role.SERVICE}),
        "role_choices": Role.choices,
        "invite_link": request.session.pop("team_invite_link", None),
        "invite_hours": invite_max_age_hours(),
    }
    return render(request, "shop_admin/settings_team.html", context)


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def member_add_view(request):
    form = MemberAddForm(request.POST)
    try:
        if not form.is_valid():
            raise forms.ValidationError(form.errors)
        membership = member_add(shop=request.shop, actor=Actor.for_user(request.user), **form.cleaned_data)
    except forms.ValidationError:
        input_keep(request, "member_add")
        messages.error(request, _("请填写用户名并选择角色"))
    except DomainError as exc:
        input_keep(request, "member_add")
        messages.error(request, domain_error_text(exc, labels=form))
    else:
        messages.success(request, _("已添加成员 %(name)s") % {"name": membership.user.get_username()})
    return redirect("settings_team")


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def invite_create_view(request):
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择角色"))
        return redirect("settings_team")
    token = invite_create(shop=request.shop, actor=Actor.for_user(request.user), role=form.cleaned_data["role"])
    # shown once, on the next page: the link is a credential and is kept nowhere else
    request.session["team_invite_link"] = request.build_absolute_uri(reverse("settings_team_join", args=[token]))
    return redirect("settings_team")


def _member_action(request, member_id: int, action, done: str):
    membership = shop_record_or_404(request, lambda shop_ids: team_member_get(shop_id=next(iter(shop_ids)), member_id=member_id))
    try:
        action(membership)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc))
    else:
        messages.success(request, done % {"name": membership.user.get_username()})
    return redirect("settings_team")


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def member_role_view(request, member_id: int):
    form = RoleForm(request.POST)
    role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")
    actor = Actor.for_user(request.user)
    return _member_action(
        request, member_id, lambda m: member_role_change(membership=m, actor=actor, role=role), _("已修改 %(name)s 的角色")
    )


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def member_disable_view(request, member_id: int):
    actor = Actor.for_user(request.user)
    return _member_action(request, member_id, lambda m: member_disable(membership=m, actor=actor), _("已停用 %(name)s"))


@require_POST
@shop_required(perm=Perm.SHOP_MANAGE)
def member_enable_view(request, member_id: int):
    actor = Actor.for_user(request.user)
    return _member_action(request, member_id, lambda m: member_enable(membership=m, actor=actor), _("已启用 %(name)s"))


def team_join_view(request, token: str):
    """The invite link: a signed-in user joins with a click; someone without an account makes one here and joins."""
    try:
        shop, role, _inviter = invite_read(token)
    except DomainError as exc:
        return render(request, "shop_admin/team_join.html", {"refused": exc.message}, status=exc.status)
    signup = UserCreationForm(request.POST or None) if not request.user.is_authenticated else None
    refused = None
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                invite_accept(token=token, user=request.user)
            elif signup.is_valid():
                user = invite_accept_new_account(
                    token=token, username=signup.cleaned_data["username"], password=signup.cleaned_data["password1"]
                )
                login(request, user, backend="shop_admin.kernel.auth.ConsoleModelBackend")
            else:
                raise forms.ValidationError(signup.errors)
        except DomainError as exc:
            refused = exc.message
        except forms.ValidationError:
            pass  # the sign-up form shows its own field errors
        else:
            request.session[SESSION_KEY] = shop.pk
            messages.success(request, _("您已加入 %(shop)s") % {"shop": shop.name})
            return redirect("dashboard")
    context = {"shop": shop, "role_label": Role(role).label, "signup": signup, "refused": refused, "token": token}
    return render(request, "shop_admin/team_join.html", context, status=422 if refused else 200)


class ShopRulesForm(forms.Form):
    """One optional whole number per rule; empty follows the platform's default. The bounds are the service's to check."""

    def __init__(self, *args, numbers: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for column, info in numbers.items():
            least, most = info["bounds"]
            rule = info["rule"]
            hint = (
                _("可选：%(choices)s") % {"choices": " / ".join(str(c) for c in rule.choices())}
                if rule.choices
                else _("范围 %(least)d–%(most)d")  % {"least": least, "most": most}
            )
            self.fields[column] = forms.IntegerField(
                label=rule.label, required=False, help_text=hint + _("；留空使用平台默认值 %(default)d") % {"default": info["default"]}
            )
            self.initial.setdefault(column, info["number"])


@shop_required(perm=Perm.SHOP_MANAGE)
def shop_rules_view(request):
    numbers = shop_rules_numbers(shop_id=request.shop.pk)
    form = ShopRulesForm(request.POST or None, numbers=numbers)
    if request.method == "POST" and form.is_valid():
        try:
            shop_rules_update(shop=request.shop, actor=Actor.for_user(request.user), numbers=form.cleaned_data)
        except DomainError as exc:
            fields = exc.details.get("fields") or {}
            for field, reason in fields.items():
                form.add_error(field if field in form.fields else None, reason)
            if not fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("店铺设置已保存"))
            return redirect("settings_shop")
    return render(request, "shop_admin/settings_shop.html", {"form": form, "rules": RULES})
