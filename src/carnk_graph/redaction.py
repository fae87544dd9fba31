"""What of a URL or a store's message may be printed: passwords and secret query values masked.

A store's URL can carry a password (`user:pass@`) or an API key in its query
string, and a store's error page may echo either; every line the remote client
or the CLI prints passes through `redact` first.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Iterable

#: Query-string keys whose values are secrets (API keys, tokens, signatures): never printed.
_SECRET_KEY = re.compile(r"(?i)(pass|pwd|secret|token|key|auth|sig|session|credential|cookie)")
_URL = re.compile(r"""(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"']+""")


def redact_url(url: str) -> str:
    """`url` safe to print: the password of a `user:pass@` part and secret query values become ***."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@\s]*@", "//***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _pw = userinfo.partition(":")
        netloc = f"{user}{':***' if sep else ''}@{host}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str | None) -> list[str]:
    """The secret values inside `url` (its password, secret query values): masked wherever they appear,
    also in a store's error message that echoes them."""
    if not url:
        return []
    try:
        parts = urllib.parse.urlsplit(url)
        out = [parts.password] if parts.password else []
        out += [v for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if _SECRET_KEY.search(k) and v]
    except ValueError:
        return []
    return out


def _redact_pair(pair: str) -> str:
    key, sep, _value = pair.partition("=")
    return f"{key}=***" if sep and _SECRET_KEY.search(urllib.parse.unquote_plus(key)) else pair


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every URL redacted (see redact_url) and each of `secrets` (a password) replaced by ***."""
    def one(m: re.Match) -> str:
        url = m.group(0)
        trail = len(url) - len(url.rstrip(".,:;)]}"))  # sentence punctuation after a URL
        return redact_url(url[:len(url) - trail]) + url[len(url) - trail:]

    text = _URL.sub(one, text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text
