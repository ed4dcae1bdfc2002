"""The layers hold: the import contracts pass, docs/layers.md draws them, and lower layers know nothing above them."""
import configparser
import subprocess
import sys
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
LAYERS_DOC = ROOT / "docs" / "layers.md"


def contract_layers() -> list[str]:
    """The layers of the import-linter contract, top first."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return [line.strip() for line in config["importlinter:contract:layers"]["layers"].splitlines() if line.strip()]


def layers_mermaid() -> str:
    layers = contract_layers()
    lines = ["flowchart TD"]
    for i, layer in enumerate(layers):
        lines.append(f'    L{i}["{layer}"]')
    for i in range(len(layers) - 1):
        lines.append(f"    L{i} --> L{i + 1}")
    return "\n".join(lines) + "\n"


def test_import_contracts_are_kept():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(ROOT / ".importlinter")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_docs_draw_the_layers_of_the_contract():
    # given the layers import-linter enforces, top to bottom
    diagram = layers_mermaid()
    # then docs/layers.md shows exactly that diagram (regenerate with: python tests/architecture/test_layers.py)
    assert diagram in LAYERS_DOC.read_text(encoding="utf-8"), "docs/layers.md is out of step with .importlinter"


def test_orders_and_the_kernel_know_no_upper_model_even_by_reverse_relation():
    lower = {"orders": {"orders", "shop_admin"}, "shop_admin": {"shop_admin"}}
    for label, allowed in lower.items():
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if field.is_relation and field.related_model is not None:
                    related = field.related_model._meta.app_label
                    assert related in allowed | {"auth", "contenttypes"}, f"{model.__name__}.{field.name} reaches {related}"


if __name__ == "__main__":
    print(layers_mermaid(), end="")
