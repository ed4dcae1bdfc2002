"""What every orders model shares: money columns and random tokens."""
import secrets

MONEY = {"max_digits": 12, "decimal_places": 2}


def _new_token() -> str:
    return secrets.token_hex(20)
