"""The commands of the contract: buyer_token, merchant_token, and the production settings check (seed_demo: test_seed_demo.py)."""
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import Buyer

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


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
