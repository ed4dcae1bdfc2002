"""The code's shape holds: modules stay small, comments say why and not how fast, the console links through URL names."""
import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE_LINES_MAX = 400
_NOT_PROJECT = {".venv", "node_modules", ".git", ".data", "backups", "staticfiles"}


def project_files(pattern: str):
    for path in sorted(ROOT.rglob(pattern)):
        parts = path.relative_to(ROOT).parts
        if not (_NOT_PROJECT & set(parts)):
            yield path


def _code_files():
    """Project Python outside migrations and tests."""
    for path in project_files("*.py"):
        parts = path.relative_to(ROOT).parts
        if "migrations" not in parts and parts[0] != "tests":
            yield path


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _code_files()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES_MAX
    }
    assert long == {}, f"split these into a package by concern (at most {MODULE_LINES_MAX} lines each)"


# A figure that was measured: a duration below a second or with decimals or a range, a size, a speed-up. A rule's
# own duration ("cached for 15 s", "every 5 s") is a whole number of seconds and passes.
_TIMING = re.compile(
    r"\d[\d.,]*(?:\s*[-–]\s*\d[\d.,]*)?\s*(?:ms|µs|μs|milliseconds?|microseconds?|KB|kB|MB|GB)\b"
    r"|\d+\.\d+\s*s\b|\d+\s*[-–]\s*\d+\s*s\b|\d+\s*s of CPU"
    r"|\d[\d.,]*\s*(?:x|×|times)\s+(?:faster|slower|the time|the CPU)"
    r"|\bmilliseconds?\b",
    re.IGNORECASE,
)


def _comments_and_docstrings(source: str):
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                yield node.body[0].lineno, docstring


def test_comments_give_no_timings_outside_the_benchmarks():
    # Figures go stale the day they are written; tests/perf/README.md records them with the run that measured them.
    found = []
    for path in project_files("*.py"):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts or relative.parts[:2] == ("tests", "perf"):
            continue
        for line, text in _comments_and_docstrings(path.read_text(encoding="utf-8")):
            for match in _TIMING.finditer(text):
                found.append(f"{relative}:{line}: {match.group(0)!r}")
    assert found == [], "move the figures to tests/perf/README.md; say why in the comment"


# A link or form target written as a path: the console's paths come from the URL conf (`{% url %}`, `reverse()`).
_PATH_LITERAL = re.compile(r"""\b(?:href|action|formaction|hx-get|hx-post|hx-put|hx-delete)\s*=\s*\\?["'](/[^"'\\]*)""")
_PATHS_ALLOWED = ("/static/",)  # static files; external links start with a scheme and never match


def test_templates_and_python_name_their_urls_instead_of_writing_paths():
    found = []
    for path in [*project_files("*.html"), *_code_files()]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _PATH_LITERAL.finditer(line):
                if not match.group(1).startswith(_PATHS_ALLOWED):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert found == [], "use {% url %} in templates and reverse() in Python"
