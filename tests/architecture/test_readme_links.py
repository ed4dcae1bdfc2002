"""The README stands alone in a clone: every file it links or names by a relative path is inside the repository."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _inside(target: str) -> bool:
    path = (ROOT / target.split("#", 1)[0]).resolve()
    return path.is_relative_to(ROOT) and path.exists()


def test_every_relative_link_of_the_readme_resolves_inside_the_repository():
    text = README.read_text()
    links = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:|#", t)]
    assert links, "the README links its docs"
    assert [t for t in links if not _inside(t)] == []


def test_the_readme_names_no_file_outside_the_repository():
    text = README.read_text()
    assert re.findall(r"`\.\./[^`]*`|\]\(\.\./[^)]*\)", text) == []
    for doc in ("docs/domain-rules.md", "docs/contract.md"):
        assert f"({doc})" in text and (ROOT / doc).exists()
