"""App config of after-sale."""
from django.apps import AppConfig


class AftersaleConfig(AppConfig):
    name = "aftersale"
    verbose_name = "售后"
