"""The layers hold: the import contracts pass, docs/layers.md draws them and lists every registry, and lower layers know nothing above them."""
import ast
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


def registries() -> dict[str, str]:
    """Each registry of the code (a `*_register` function taking what an upper app plugs in) -> its module."""
    found = {}
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", ".venv", "node_modules"} or "migrations" in relative.parts:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            # orders_todos_register() and the like take nothing: they register an app's own entries, they hold none
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_register") and (node.args.args or node.args.kwonlyargs):
                parts = relative.with_suffix("").parts
                found[node.name] = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)  # a package: its own name
    return found


def test_docs_list_every_registry():
    # given every function an upper app registers its part with
    found = registries()
    assert "deadline_register" in found and "order_part_register" in found
    # then docs/layers.md names each with its module, as the upper app calls it
    doc = LAYERS_DOC.read_text(encoding="utf-8")
    missing = sorted(f"{module}.{name}" for name, module in found.items() if f"`{module}.{name}(" not in doc)
    assert missing == [], "docs/layers.md does not list these registries"


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
