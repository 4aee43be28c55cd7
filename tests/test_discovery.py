"""Finding the notice from a home page by the words of its links (nl/en/de/fr), language preferred."""

from __future__ import annotations

import pytest

from monitor.extract.discover import find_notice_links

BASE = "https://www.voorbeeld.nl/"


def _best(links_html: str, language: str | None = None) -> str | None:
    links = find_notice_links(f"<html><body><footer>{links_html}</footer></body></html>", BASE, language)
    return links[0].url if links else None


@pytest.mark.parametrize(("anchor", "url"), [
    ('<a href="/privacyverklaring">Privacyverklaring</a>', BASE + "privacyverklaring"),
    ('<a href="/juridisch/pb">Privacybeleid</a>', BASE + "juridisch/pb"),
    ('<a href="/reglement">Privacyreglement</a>', BASE + "reglement"),
    ('<a href="/avg">Gegevensbescherming</a>', BASE + "avg"),
    ('<a href="/de/ds">Datenschutzerklärung</a>', BASE + "de/ds"),
    ('<a href="/fr/pc">Politique de confidentialité</a>', BASE + "fr/pc"),
    ('<a href="/en/legal">Privacy Policy</a>', BASE + "en/legal"),
    ('<a href="/en/ps">Privacy statement</a>', BASE + "en/ps"),
    ('<a href="/legal/privacy-notice">Legal</a>', BASE + "legal/privacy-notice"),
])
def test_privacy_vocabulary_in_text_or_address_finds_the_notice(anchor, url):
    assert _best('<a href="/contact">Contact</a>' + anchor + '<a href="/voorwaarden">Voorwaarden</a>') == url


def test_the_configured_language_is_preferred():
    links = ('<a href="/en/privacy-policy">Privacy policy</a> <a href="/nl/privacyverklaring">Privacyverklaring</a>'
             ' <a href="/de/datenschutz">Datenschutz</a>')
    assert _best(links, "nl") == BASE + "nl/privacyverklaring"
    assert _best(links, "de") == BASE + "de/datenschutz"
    assert _best(links, "en") == BASE + "en/privacy-policy"


def test_cookie_settings_and_unrelated_links_are_not_the_notice():
    assert _best('<a href="#" class="cookie">Cookie-instellingen</a> <a href="/over">Over ons</a>') is None
    assert _best('<a href="/privacy-instellingen">Privacy-instellingen</a> '
                 '<a href="/privacy">Privacy</a>') == BASE + "privacy"
    assert _best('<a href="mailto:privacy@voorbeeld.nl">privacy@voorbeeld.nl</a>') is None
