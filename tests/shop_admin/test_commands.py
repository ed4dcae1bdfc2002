"""The commands of the contract: seed_demo, buyer_token, merchant_token, and the production settings check."""
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import Buyer, Order
from shop_admin.kernel.models import Shop

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_seed_demo_is_idempotent_and_covers_every_state(db):
    first = run("seed_demo")
    assert "merchant" in first and "demo12345" in first
    counts = Order.objects.count()
    run("seed_demo")
    assert Order.objects.count() == counts
    assert Shop.objects.count() == 2
    statuses = set(Order.objects.filter(shop__name="抖店演示旗舰店").values_list("status", flat=True))
    assert statuses >= {"pending_payment", "deposit_paid", "paid", "shipped", "delivered", "completed", "cancelled", "closed", "rejected"}
    assert Order.objects.filter(shop__name="小李的杂货铺").exists()


def test_buyer_token_creates_the_buyer_once(db):
    token = run("buyer_token", "alice")
    assert len(token) == 40
    assert run("buyer_token", "alice") == token
    assert Buyer.objects.filter(name="alice").count() == 1


def test_merchant_token_is_stable_and_needs_a_shop_member(owner):
    token = run("merchant_token", "owner")
    assert run("merchant_token", "owner") == token
    with pytest.raises(CommandError):
        run("merchant_token", "nobody")


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "shop.example.com",
        "PAYMENT_CALLBACK_SECRET": "p",
        "LOGISTICS_CALLBACK_SECRET": "l",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DJANGO_ENV": "production", "ALLOWED_HOSTS": "shop.example.com"})
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
