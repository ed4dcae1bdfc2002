"""The demo's evidence images: small PNGs shipped as the shell's static files, linked at the console `make run` serves."""
from django.templatetags.static import static

# Evidence is an http(s) link (evidence_clean); the demo's point at the console `make run` starts, which serves them.
DEMO_SITE = "http://127.0.0.1:8000"


def demo_evidence(name: str) -> str:
    """The link to one of `shop_admin/shell/static/demo/evidence/` (damaged-box, buyer-photo, outbound-check)."""
    return f"{DEMO_SITE}{static(f'demo/evidence/{name}.png')}"
