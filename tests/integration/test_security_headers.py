"""Security headers: a strict CSP (no inline script or style), no framing, no sniffing."""

import re


def test_pages_carry_the_security_headers(client, auth):
    auth.login("wuling.nanping")
    for path in ("/login", "/", "/cases", "/cases/new", "/api/v1/openapi.json"):
        response = client.get(path, follow_redirects=True)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_need_no_inline_script_or_style(client, auth):
    auth.login("wuling.nanping")
    page = client.get("/cases/new").text + client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert 'style="' not in page and "<style" not in page
