"""The RQ dashboard (/admin/rq/) is for platform operations: superusers and the platform_ops group; everyone else 403."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

# The dashboard, a queue's jobs, and the page that empties a queue (its GET asks to confirm, its POST empties).
RQ_PAGES = ["/admin/rq/", "/admin/rq/queues/0/", "/admin/rq/queues/0/empty/", "/admin/rq/stats.json"]


def _signed_in(username: str, *, group: str | None = None, **flags) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw-123456", **flags)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", RQ_PAGES)
def test_an_arbitrator_is_refused_the_rq_dashboard(db, redis_conn, page):
    arbiter = _signed_in("arbiter", group="arbitrators", is_staff=True)

    assert arbiter.get(page).status_code == 403


def test_an_arbitrator_cannot_empty_a_queue(db, redis_conn, django_capture_on_commit_callbacks):
    import django_rq

    with django_capture_on_commit_callbacks(execute=True):  # the queue enqueues when the transaction commits
        django_rq.get_queue("default").enqueue("builtins.print", "kept")
    assert django_rq.get_queue("default").count == 1
    arbiter = _signed_in("arbiter", group="arbitrators", is_staff=True)

    assert arbiter.post("/admin/rq/queues/0/empty/", {"post": "yes"}).status_code == 403
    assert django_rq.get_queue("default").count == 1


def test_other_staff_and_console_users_are_refused_too(db, redis_conn, owner):
    staff = _signed_in("support", is_staff=True)
    merchant = Client()
    merchant.force_login(owner)

    assert staff.get("/admin/rq/").status_code == 403
    assert merchant.get("/admin/rq/").status_code == 403


@pytest.mark.parametrize("page", RQ_PAGES)
def test_platform_ops_and_superusers_see_it(db, redis_conn, page):
    ops = _signed_in("ops", group="platform_ops", is_staff=True)
    root = _signed_in("root", is_staff=True, is_superuser=True)

    assert ops.get(page).status_code == 200
    assert root.get(page).status_code == 200


def test_nobody_signed_in_is_sent_to_the_admin_sign_in(db, redis_conn):
    response = Client().get("/admin/rq/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_django_rq_second_copy_in_the_admin_is_not_mounted(db, redis_conn):
    # django-rq's admin entry would serve the same dashboard at /admin/django_rq/dashboard/ to any staff user.
    arbiter = _signed_in("arbiter", group="arbitrators", is_staff=True)

    assert arbiter.get("/admin/django_rq/dashboard/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_platform_ops_group_outlives_a_flush():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)  # what a transactional test leaves behind

    assert Group.objects.filter(name="platform_ops").exists()
