import unicodedata

MAX_USERNAME = 150


def canonical_username(raw: str) -> str:
    """One spelling per name: NFKC (full-width and ligature letters become plain ones), then
    case-folded, so `Alice`, `ALICE` and `ａｌｉｃｅ` are one person to the throttle and SSO."""
    return unicodedata.normalize("NFKC", raw.strip()).casefold()
