"""What a server said, made fit to print: short, without markup, without secrets.

A wrong URL prefix answers with a whole HTML page (170 kB), and a server may echo the request
back, token and all; a problem's message carries `server_text` of the body instead.
"""

from __future__ import annotations

import html
import os
import re

LIMIT = 300
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
# Authorization values, `token=…` / `api_key: …` pairs, and Hub tokens wherever they stand.
_SECRET_SHAPES = [
    re.compile(
        r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|token|basic)\s+)?[^\s\"',;&]+"
    ),
    re.compile(r"(?i)\b((?:bearer|token)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b((?:access_?|api_?|auth_?|hf_?)?(?:token|key|secret|password)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"',;&]+"
    ),
    re.compile(r"()\bhf_[A-Za-z0-9]{8,}"),
]
_SECRET_NAMES = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)


def environment_secrets() -> list[str]:
    """Values of the environment's token, key, secret and password variables (long enough to
    be one: a redacted `1` would garble every number)."""
    return [v for k, v in os.environ.items() if _SECRET_NAMES.search(k) and len(v) >= 8]


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every secret it shows replaced by `***`."""
    for value in sorted({*environment_secrets(), *(secrets or [])}, key=len, reverse=True):
        text = text.replace(value, "***")
    for shape in _SECRET_SHAPES:
        text = shape.sub(lambda m: m.group(1) + "***", text)
    return text


def server_text(body: object, secrets: list[str] | None = None, limit: int = LIMIT) -> str:
    """A server's answer for a message: HTML tags stripped, whitespace collapsed, secrets
    redacted, at most `limit` characters."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    if "<" in text:
        text = html.unescape(_TAG.sub(" ", text))
    text = redact(" ".join(text.split()), secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"
