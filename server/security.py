"""Security headers on every response, and requests refused before any view sees them.

The pages use no inline scripts, inline event handlers or style attributes, so the content
security policy can forbid them; the app may not be framed. A NUL character in the path, a posted
form or (outside the API, which names the parameter in a 422) the query string answers 400: no
database stores one in text, and PostgreSQL refuses it with an error.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _has_nul(pairs) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def _refuse_nul() -> None:
    if "\x00" in request.path:
        abort(400)
    # Forms as browsers post them (an upload's multipart body answers for itself: 415/422).
    form = request.mimetype == "application/x-www-form-urlencoded"
    if form and _has_nul(request.form.items(multi=True)):
        abort(400)
    if not request.path.startswith("/api/") and _has_nul(request.args.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    """Add the headers to every response; refuse NUL characters in requests."""
    app.before_request(_refuse_nul)
    app.after_request(_headers)
