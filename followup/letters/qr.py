"""The QR code of a letter's short link, as a data URI an <img> can carry (no file, no network)."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    """An SVG data URI of ``url`` as a QR code (error correction M: survives a smudged print)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2))
