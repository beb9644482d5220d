"""Keep passwords and tokens out of reprs, logs, errors and tool output.

Two layers: URLs are rewritten structurally (`user:***@host`, secret-looking query
parameters masked), and every secret value registered at startup (passwords, tokens,
interpolated environment values) is masked wherever it appears in free text.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

MASK = "***"

# Query parameters whose values are credentials in the URL schemes we accept.
SECRET_PARAMS = frozenset(
    {
        "password",
        "pass",
        "pwd",
        "passwd",
        "secret",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "sslpassword",
        "authsource_password",
        "tlscertificatekeyfilepassword",
    }
)

# scheme://user:password@host  -> mask the password, even in free text.
_USERINFO_RE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s/]+)@")
# key=value pairs in free text (DSN-style "password=secret").
_KV_RE = re.compile(
    r"(?P<key>\b(?:" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r"))=(?P<val>[^\s&;'\"]+)",
    re.IGNORECASE,
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it shows up later."""
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)
            decoded = unquote(value)
            if decoded != value:
                _secrets.add(decoded)
            _secrets.add(quote(value, safe=""))


def forget_secrets() -> None:
    """Drop every registered secret (for tests, which configure many servers in one process)."""
    with _lock:
        _secrets.clear()


def redact_url(url: str) -> str:
    """Return `url` with its password and secret query parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _pw = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if sep else f"{userinfo}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="*/:")
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        rebuilt += f"?{query}"
    if parts.fragment:
        rebuilt += f"#{parts.fragment}"
    return redact(rebuilt)


def redact(text: str) -> str:
    """Mask registered secrets, URL passwords and `password=...` pairs in free text."""
    if not text:
        return text
    text = _USERINFO_RE.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _KV_RE.sub(lambda m: f"{m['key']}={MASK}", text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            # Whole tokens only: a password "postgres" must not turn "postgresql" into "***ql".
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message (and any traceback) of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            formatter = logging.Formatter()
            message = f"{message}\n{formatter.formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
