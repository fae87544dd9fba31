"""HTTP content negotiation: pick the best of the formats we offer for an Accept header.

RFC 9110 rules, kept small: media ranges with q-values (q=0 refuses a type), the
most specific range that matches an offer sets its quality, ties go to the order
of our offers (so a browser's `text/html,...,*/*;q=0.8` gets HTML and `curl`'s
`*/*` gets the first offer).
"""
from __future__ import annotations


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """(media range, quality) pairs of an Accept header; no header means */*."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    out = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out or [("*/*", 1.0)]


def _specificity(media_range: str, offer: str) -> int:
    """How closely a range matches an offer: 3 exact, 2 type/*, 1 */*, 0 no match."""
    if media_range == offer:
        return 3
    kind, _, sub = media_range.partition("/")
    if sub == "*" and offer.split("/", 1)[0] == kind:
        return 2
    if media_range == "*/*":
        return 1
    return 0


def negotiate(header: str | None, offers: list[str]) -> str | None:
    """The offer the client prefers most (None when it accepts none of them)."""
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for offer in offers:
        spec, q = 0, 0.0
        for media, quality in ranges:
            s = _specificity(media, offer.lower())
            if s > spec:
                spec, q = s, quality
        if spec and q > best_q:
            best, best_q = offer, q
    return best
