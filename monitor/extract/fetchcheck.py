"""Is a fetched page really the notice? Error pages served with 200, bot and captcha walls, login
redirects, consent walls and bodies that lost most of their text are suspicious fetches.

The spider re-fetches a suspicious page once; if it is still suspicious it is recorded as a fetch
problem with the reason given here, never as a change, and the last good version stands. The checks
are cheap: regular expressions over the title and raw markup run only when the extracted text is
short or much shorter than before, so an ordinary notice costs one length comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.core import Document

SHORT_PAGE_CHARS = 1000  # without an earlier version, a page this short may be an error or wall page

_LOGIN_PATH = re.compile(r"(^|[/_.-])(log-?in|sign-?in|signon|inloggen|aanmelden|anmelden|connexion|auth|sso|"
                         r"wp-login|account/login|session/new)([/_.?-]|$)", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_STRONG_TITLE = re.compile(
    r"^\s*(404|410|403|500|502|503)\b|\b(not found|niet gevonden|nicht gefunden|introuvable|page not found|"
    r"just a moment|attention required|access denied|toegang geweigerd|zugriff verweigert|acc[eè]s refus[eé]|"
    r"are you a robot|security check|ddos protection|request blocked|verify you are human|captcha)\b", re.I)
_WALL_MARKUP = re.compile(
    r"cf-challenge|cf_chl_|challenge-platform|cf-turnstile|g-recaptcha|h-captcha|hcaptcha|px-captcha|"
    r"datadome|_incapsula_|distil_r_captcha|captcha-delivery|perimeterx", re.I)
_WALL_TEXT = re.compile(
    r"just a moment|checking your browser|checking if the site connection is secure|verify you are human|"
    r"are you a robot|ben je een robot|ik ben geen robot|i'?m not a robot|unusual traffic|access denied|"
    r"toegang geweigerd|zugriff verweigert|request blocked|bot detection|enable javascript and cookies to continue",
    re.I)
_ERROR_TEXT = re.compile(
    r"\b(404|410)\b|not found|niet gevonden|nicht gefunden|introuvable|does not exist|bestaat niet|"
    r"no longer available|niet meer beschikbaar|something went wrong|er is iets (mis)?gegaan|"
    r"internal server error|service unavailable|temporarily unavailable|tijdelijk niet beschikbaar|"
    r"(under|in) maintenance|onderhoud|wartungsarbeiten|erreur|fehler", re.I)
_LOGIN_TEXT = re.compile(r"type=[\"']?password|log ?in to continue|inloggen om verder te gaan|"
                         r"please (log|sign) in|meld je aan|bitte melden sie sich an", re.I)
_CONSENT_TEXT = re.compile(r"cookie|consent|toestemming|einwilligung|consentement", re.I)


@dataclass(frozen=True)
class FetchPolicy:
    """Thresholds of the suspicious-fetch checks ([crawl] min_text_chars and max_text_loss)."""

    min_text_chars: int = 200
    max_text_loss: float = 0.5


def _title(body: bytes) -> str:
    match = _TITLE.search(body[:65536])
    return match.group(1).decode("utf-8", "replace").strip() if match else ""


def assess_fetch(document: Document, body: bytes, *, url: str | None = None, final_url: str | None = None,
                 previous_chars: int | None = None, policy: FetchPolicy = FetchPolicy()) -> str | None:
    """The reason a fetch is not a trustworthy version of the notice, or None if it looks fine."""
    chars = document.char_count()
    if url and final_url and urlsplit(final_url).path != urlsplit(url).path \
            and _LOGIN_PATH.search(urlsplit(final_url).path) and not _LOGIN_PATH.search(urlsplit(url).path):
        return f"redirected to a login page ({final_url})"
    lost = previous_chars is not None and previous_chars > 0 and chars < previous_chars * (1 - policy.max_text_loss)
    short = chars < policy.min_text_chars or lost or (previous_chars is None and chars < SHORT_PAGE_CHARS)
    title = _title(body)
    if not short and not _STRONG_TITLE.search(title):
        return None
    head = body[:262144].decode("utf-8", "replace")
    if _WALL_MARKUP.search(head) or _WALL_TEXT.search(title) or (short and _WALL_TEXT.search(head)):
        return "bot or captcha wall" + (f" ({title[:80]})" if title else "")
    if _ERROR_TEXT.search(title) or (short and _ERROR_TEXT.search(" ".join(b.text for b in document.blocks[:5]))):
        return "error page served with HTTP 200" + (f" ({title[:80]})" if title else "")
    if short and _LOGIN_TEXT.search(head):
        return "login page instead of the notice"
    if short and chars < policy.min_text_chars * 2 and _CONSENT_TEXT.search(head):
        return f"consent wall without the notice ({chars} characters of text)"
    if chars < policy.min_text_chars:
        return f"empty or tiny body: {chars} characters of text"
    if lost:
        share = round(100 * (1 - chars / previous_chars))
        return f"lost {share}% of its text ({chars} of {previous_chars} characters)"
    return None
