"""Noise rules: what the extractor removes or rewrites so that noise never becomes a change.

Each rule is one small named function registered with `@rule(name, stage)`; its docstring is its
user documentation (`noticewatch rules` prints them). Stages run in this order:

- `markup`:  on the whole parsed page, what is never text (scripts, styles, comments, embedded objects);
             the page that remains is what every later stage reads, so its hash (`markup_sha256` in
             monitor/extract/html.py) stands for the Document: a body that differs from the last good
             one only in what this stage removes (a nonce, a build id) is not extracted again
- `page`:    on the whole parsed page, before the notice is located (banners, e-mail decoding)
- `content`: on the chosen notice element (navigation, decoration, form controls)
- `link`:    on each link target carried into the text (tracking and session parameters)
- `text`:    on each block's text (invisible characters, page time stamps, counters)
- `compare`: on the whole text before hashing, so typographic variants are one version

Vocabulary (banner vendors, tracking parameters, page-meta phrases) is data in `data/noise.toml`.
"""

from __future__ import annotations

import hashlib
import html
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import islice
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

from lxml import etree

from monitor.core import CharFold, Document
from monitor.extract.structure import legal_address_words
from monitor.extract.tree import Tree, text_of

STAGES = ("markup", "page", "content", "link", "text", "compare")


@dataclass(frozen=True)
class Rule:
    """A named noise rule; `doc` is what `noticewatch rules` shows."""

    name: str
    stage: str
    func: Callable

    @property
    def doc(self) -> str:
        return " ".join((self.func.__doc__ or "").split())


RULES: dict[str, Rule] = {}


def rule(name: str, stage: str) -> Callable[[Callable], Callable]:
    """Register a function as the noise rule `name` of `stage`."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")

    def register(func: Callable) -> Callable:
        if name in RULES:
            raise ValueError(f"duplicate rule {name!r}")
        RULES[name] = Rule(name, stage, func)
        _STAGE_RULES.clear()
        _normalised.cache_clear()  # a new text rule changes what texts normalise to
        return func

    return register


_STAGE_RULES: dict[str, list[Rule]] = {}


def rules_of(stage: str) -> list[Rule]:
    """The rules of one stage, in registration order."""
    if stage not in _STAGE_RULES:
        _STAGE_RULES[stage] = [r for r in RULES.values() if r.stage == stage]
    return _STAGE_RULES[stage]


def _apply_text_rules(text: str) -> str:
    for text_rule in rules_of("text"):
        text = text_rule.func(text)
    return text


_normalised = lru_cache(maxsize=1024)(_apply_text_rules)  # normalise_text's memory of short texts


@cache
def vocabulary() -> dict:
    raw = resources.files("monitor.extract").joinpath("data", "noise.toml").read_text("utf-8")
    return tomllib.loads(raw)


@cache
def _words(table: str, key: str) -> frozenset[str]:
    return frozenset(w.lower() for w in vocabulary()[table][key])


_SENTENCE = {"{START}": r"(?:^|(?<=[.!?|·•] ))", "{S}": r"(?:[^.!?|·•]|\.(?=\S))",
             "{END}": r"(?:\.(?=\s|$)|$|(?=\s*[|·•]))"}


@cache
def _compiled(table: str, key: str) -> re.Pattern:
    """One case-insensitive regex of a vocabulary list (with the sentence placeholders expanded)."""
    patterns = []
    for pattern in vocabulary()[table][key]:
        for placeholder, regex in _SENTENCE.items():
            pattern = pattern.replace(placeholder, regex)
        patterns.append(f"(?:{pattern})")
    return re.compile("|".join(patterns), re.I)


def _markers(node: etree._Element) -> str:
    """The element's id and classes, lowercased, as one string."""
    ident, classes = node.get("id"), node.get("class")
    if ident is None and classes is None:
        return ""
    return " ".join([ident or "", *(classes or "").split()]).lower()


_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


def _tokens(markers: str) -> set[str]:
    return {t for t in _TOKEN_SPLIT.split(markers) if t}


def _inside(node: etree._Element, names: set[str] | frozenset[str]) -> bool:
    return any(parent.tag in names for parent in node.iterancestors())


# ---------------------------------------------------------------- page stage


@rule("scripts-and-styles", "markup")
def drop_scripts_and_styles(tree: Tree) -> None:
    """Scripts (including JSON-LD and inline data), styles, <noscript>, <template>, embedded objects and
    HTML comments are never notice text: they carry nonces, build ids and tracking payloads."""
    tree.remove_comments()
    for node in tree.tags(("script", "style", "noscript", "template", "link", "meta", "svg", "canvas", "iframe",
                           "object", "embed")):
        tree.decompose(node)


def decode_cfemail(hex_string: str) -> str | None:
    """Decode Cloudflare's e-mail obfuscation: the first byte is the XOR key of the rest."""
    try:
        data = bytes.fromhex(hex_string.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


_CF_HREF = re.compile(r"/cdn-cgi/l/email-protection#([0-9a-fA-F]+)")


@rule("cloudflare-email", "page")
def decode_cloudflare_email(tree: Tree) -> None:
    """Cloudflare e-mail obfuscation (`data-cfemail`, `/cdn-cgi/l/email-protection#...`) uses a new key on
    every request. The address is decoded, so the address itself is content and a changed address is a
    change."""
    for node in tree.tags():
        attrib = node.attrib
        if "data-cfemail" in attrib:
            address = decode_cfemail(attrib["data-cfemail"])
            if address is not None:
                tree.replace_with_text(node, address)
        elif node.tag == "a" and "cdn-cgi" in attrib.get("href", ""):
            match = _CF_HREF.search(attrib["href"])
            address = decode_cfemail(match.group(1)) if match else None
            if address is not None:
                node.set("href", "mailto:" + address)


INLINE_TAGS = frozenset({"a", "span", "strong", "b", "em", "i", "u", "small", "abbr", "sup", "sub", "code",
                         "mark", "time", "label", "cite", "q", "s", "del", "ins"})
MAX_BANNER_CHARS = 3000  # a banner is short; a longer element holds more than a banner and is kept


def _is_control(node: etree._Element) -> bool:
    if node.tag == "button" or node.get("role") == "button":
        return True
    if node.tag == "input":
        return (node.get("type") or "").lower() in ("button", "submit")
    return node.tag == "a" and bool(_tokens(_markers(node)) & {"btn", "button"})


def _control_label(node: etree._Element) -> str:
    return (node.get("value") or "") if node.tag == "input" else text_of(node, " ")


def _action_controls(tree: Tree, node: etree._Element, accept: re.Pattern) -> int:
    return sum(1 for c in tree.tags(under=node) if _is_control(c) and accept.search(_control_label(c)))


@cache
def _vendor_markers() -> re.Pattern:
    return re.compile("|".join(re.escape(v) for v in vocabulary()["banners"]["vendor_markers"]))


def _is_consent_markup(markers: str) -> bool:
    if not markers.strip():
        return False
    if _vendor_markers().search(markers):
        return True
    tokens = _tokens(markers)
    if tokens & _words("banners", "compound_tokens"):
        return True
    return bool(tokens & _words("banners", "subject_tokens")) and bool(tokens & _words("banners", "widget_tokens"))


_NOT_BANNERS = frozenset({"html", "body", "main", "article"})


@rule("consent-banners", "page")
def drop_consent_banners(tree: Tree) -> None:
    """Cookie and consent banners and walls (OneTrust, Cookiebot, CookieYes, Didomi, Usercentrics, ...),
    newsletter pop-ups and chat widgets: recognised by vendor ids/classes, by class words such as
    `cookie` + `banner`, or by a short block whose buttons accept or refuse cookies."""
    for node in tree.tags():
        if node in tree.gone or node.tag in _NOT_BANNERS or node.tag in INLINE_TAGS:
            continue
        if _is_consent_markup(_markers(node)) and len(text_of(node, " ")) < MAX_BANNER_CHARS:
            tree.decompose(node)
    accept = _compiled("banners", "action_phrases")
    subject = _compiled("banners", "subject_phrases")
    for control in [c for c in tree.tags() if _is_control(c)]:
        if control in tree.gone or not accept.search(_control_label(control)):
            continue
        outer: etree._Element | None = None
        for ancestor in control.iterancestors():
            if ancestor.tag in _NOT_BANNERS:
                break
            text = text_of(ancestor, " ")
            if len(text) > MAX_BANNER_CHARS:
                break
            if subject.search(text) and _action_controls(tree, ancestor, accept) >= 2:
                outer = ancestor
        if outer is not None:
            tree.decompose(outer)


@rule("popups-and-dialogs", "page")
def drop_popups(tree: Tree) -> None:
    """Dialogs and modal pop-ups that ask for an e-mail address (newsletter sign-up) or hold a chat are
    removed; a dialog holding notice text (a 'meer details' layer) is kept."""
    subject = _compiled("banners", "popup_phrases")
    dialogs = [n for n in tree.tags() if n.tag == "dialog" or n.get("role") in ("dialog", "alertdialog")
               or n.get("aria-modal") == "true"]
    for node in dialogs:
        if node in tree.gone:
            continue
        has_email_field = any((i.get("type") or "").lower() == "email" for i in tree.tags(("input",), under=node))
        text = text_of(node, " ")
        if has_email_field or (len(text) < 800 and subject.search(text)):
            tree.decompose(node)


# ------------------------------------------------------------- content stage


@rule("site-chrome", "content")
def drop_site_chrome(tree: Tree) -> None:
    """Navigation (<nav>, role=navigation, breadcrumbs, skip links, share buttons), the site's header and
    footer when they stand outside the notice's <main>/<article>, and side bars (<aside>) outside an
    <article>: they reorder, gain items and change promotions without the notice changing."""
    root = tree.root
    inside_notice = root.tag in ("main", "article") or root.get("role") == "main"
    anywhere = _compiled("chrome", "anywhere")
    outside = _compiled("chrome", "outside_notice")
    for node in tree.tags():
        if node in tree.gone:
            continue
        name, role = node.tag, node.get("role")
        if name == "nav" or role in ("navigation", "search", "menubar", "toolbar"):
            tree.decompose(node)
            continue
        outer = not inside_notice and not _inside(node, {"main", "article"})
        site_part = (name in ("header", "footer") or role in ("banner", "contentinfo", "complementary")) and outer
        side_bar = name == "aside" and root.tag != "article" and not _inside(node, {"article"})
        attrib = node.attrib
        markers = _markers(node) if name not in INLINE_TAGS and ("id" in attrib or "class" in attrib) else ""
        furniture = bool(markers.strip()) and bool(anywhere.search(markers) or (outer and outside.search(markers)))
        if site_part or side_bar or furniture:
            tree.decompose(node)


HEADINGS = {f"h{i}": i for i in range(1, 7)}
_TEXT_LENGTH = etree.XPath("string-length(normalize-space(.))")


def _heading_count(node: etree._Element) -> int:
    return sum(1 for _ in node.iterdescendants(*HEADINGS))


def _title_heading(root: etree._Element) -> etree._Element | None:
    """The first heading of the highest rank under `root`: the notice's title."""
    best = None
    for heading in root.iterdescendants(*HEADINGS):
        if best is None or HEADINGS[heading.tag] < HEADINGS[best.tag]:
            best = heading
    return best


def _drop_with_title(tree: Tree, node: etree._Element) -> None:
    """Remove the element, and the heading just before it when that heading titles nothing else (the next
    element is a heading of the same rank or higher, or there is none)."""
    previous, following = node.getprevious(), node.getnext()
    if previous is not None and previous.tag in HEADINGS and not (previous.tail or "").strip() \
            and not (node.tail or "").strip() and previous not in tree.gone \
            and (following is None or HEADINGS.get(following.tag, 9) <= HEADINGS[previous.tag]):
        tree.decompose(previous)
    tree.decompose(node)


_TOGGLE_CANDIDATES = etree.XPath(".//input[@type] | .//*[@role or @aria-checked]")
_TOGGLE_ROLES = frozenset({"switch", "checkbox", "radio"})


def _is_toggle(node: etree._Element) -> bool:
    if node.tag == "input" and (node.get("type") or "").lower() in ("checkbox", "radio"):
        return True
    return node.get("role") in _TOGGLE_ROLES or "aria-checked" in node.attrib
#: How many levels above a toggle or a link its panel or list may stand (a label in a row in a fieldset in a
#: panel in a box): it bounds the work on a page of many controls nested deep.
NEAR = 8
PANEL_CHARS = 400  # what a panel holds beside its toggles' blocks: its title, introduction and buttons


@rule("consent-panels", "content")
def drop_consent_panels(tree: Tree) -> None:
    """Consent managers' purpose and partner lists rendered in the page (a privacy centre with a switch
    per purpose or vendor) are not notice text. Toggles are check boxes, radio buttons, role=switch /
    checkbox / radio and aria-checked; the outermost element holding two or more of them whose text
    outside its children with toggles is at most PANEL_CHARS (400) characters (a title, an
    introduction) is removed, with a heading that titles only it, unless it holds the notice's title
    (the first heading of the highest rank)."""
    root = tree.root
    toggles = [t for t in _TOGGLE_CANDIDATES(root) if _is_toggle(t) and t not in tree.gone]
    if len(toggles) < 2:
        return
    counts: dict[etree._Element, int] = {}
    for toggle in toggles:
        for ancestor in islice(toggle.iterancestors(), NEAR):
            if ancestor is root:
                break
            counts[ancestor] = counts.get(ancestor, 0) + 1
    title = _title_heading(root)
    for node in [n for n in root.iterdescendants(etree.Element) if counts.get(n, 0) >= 2]:
        if node in tree.gone or (title is not None and (node is title or node in title.iterancestors())):
            continue
        beside = _TEXT_LENGTH(node) - sum(_TEXT_LENGTH(c) for c in node if c in counts or c in toggles)
        if beside <= PANEL_CHARS:
            _drop_with_title(tree, node)


def _is_email_field(node: etree._Element) -> bool:
    return (node.get("type") or "").lower() == "email" or any("email" in (node.get(a) or "").lower()
                                                            for a in ("name", "autocomplete"))
MAX_SIGN_UP_CHARS = 500


@rule("sign-up-forms", "content")
def drop_sign_up_forms(tree: Tree) -> None:
    """A short block around an e-mail field (a newsletter sign-up, a 'stay informed' box, a contact form)
    is not notice text: the outermost element around the field that holds at most MAX_SIGN_UP_CHARS (500)
    characters and at most one heading is removed. A notice is never that short; a page wrapped in one
    <form> keeps its text."""
    root = tree.root
    for field_ in list(root.iterdescendants("input")):
        if field_ in tree.gone or not _is_email_field(field_):
            continue
        outer = None
        for ancestor in field_.iterancestors():
            if ancestor is root or _TEXT_LENGTH(ancestor) > MAX_SIGN_UP_CHARS or _heading_count(ancestor) > 1:
                break
            outer = ancestor
        if outer is not None:
            _drop_with_title(tree, outer)


_ROLES_OR_LIVE = etree.XPath(".//*[@role or @aria-live]")  # attribute tests only: comparing in XPath is slow
_LIVE_ROLES = frozenset({"alert", "status", "marquee", "log", "timer"})
MAX_ANNOUNCEMENT_CHARS = 400


@rule("announcements", "content")
def drop_announcements(tree: Tree) -> None:
    """Site announcements and status messages (role=alert/status/marquee/log/timer, aria-live regions)
    inside the content are not notice text: such an element without headings and of at most
    MAX_ANNOUNCEMENT_CHARS (400) characters is removed, unless a control points to it (an accordion's panel
    that announces itself is notice text)."""
    live = [n for n in _ROLES_OR_LIVE(tree.root)
            if n.get("role") in _LIVE_ROLES or n.get("aria-live") in ("polite", "assertive")]
    if not live:
        return
    referenced = _referenced_ids(tree)
    for node in live:
        if node is not tree.root and node not in tree.gone and node.get("id") not in referenced \
                and _heading_count(node) == 0 and _TEXT_LENGTH(node) <= MAX_ANNOUNCEMENT_CHARS:
            tree.decompose(node)


@rule("links-before-the-title", "content")
def drop_links_before_the_title(tree: Tree) -> None:
    """What stands before the notice's first heading and is mostly (MIN_LINK_SHARE, 80%) link text (a
    promotion strip, a 'back to overview' link, breadcrumbs without a class) is not notice text. Text without links
    there (a 'last updated' line, an introduction) stays."""
    root = tree.root
    first = next(root.iterdescendants(*HEADINGS), None)
    if first is None:
        return
    around = set(first.iterancestors())
    before = []
    for node in root.iterdescendants(etree.Element):
        if node is first:
            break
        if node not in around and node.getparent() in around:
            before.append(node)
    for node in before:
        chars = _TEXT_LENGTH(node)
        links = sum(_TEXT_LENGTH(a) for a in node.iter("a"))
        if chars and links >= MIN_LINK_SHARE * chars and node not in tree.gone:
            tree.decompose(node)


_RAW_LENGTH = etree.XPath("string-length(.)")
MAX_RAW_RATIO = 8
MIN_LINK_SHARE = 0.8  # of a link list's text inside its links
MIN_OTHER_PAGES = 3  # distinct pages a related/see-also list links to
MIN_PEOPLE = 8  # distinct external pages a hall-of-fame or customer list links to
_LIST_TAGS = frozenset({"ul", "ol", "div", "section", "aside", "dl", "menu", "table", "tbody", "footer", "header"})


def _pages_linked(node: etree._Element, url: str | None) -> tuple[int, int, int]:
    """(distinct targets, of them on this site, of them legal text by their address) of the node's links."""
    page = urlsplit(url or "")
    host = (page.hostname or "").removeprefix("www.")
    targets: set[tuple[str, str]] = set()
    for anchor in node.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#") or link_scheme(href) not in ("http", "https", None):
            continue
        parts = urlsplit(href)
        link_host = (parts.hostname or "").removeprefix("www.")
        if not link_host and not parts.path:
            continue
        targets.add((link_host if link_host != host else "", (parts.path or "/") + ("?" + parts.query
                                                                                   if parts.query else "")))
    words = legal_address_words()
    internal = sum(1 for h, _ in targets if not h)
    legal = sum(1 for h, path in targets if any(w in (h + path).lower() for w in words))
    return len(targets), internal, legal


@rule("link-lists", "content")
def drop_link_lists(tree: Tree) -> None:
    """Lists of links to other pages inside the content are not notice text: a block (list, box,
    section) whose text is mostly (MIN_LINK_SHARE, 80%) link text is removed, with a heading that titles only
    it, when it links MIN_OTHER_PAGES (3) or more pages of the same site (related articles, 'see also',
    'read more') or MIN_PEOPLE (8) or more pages elsewhere that are not legal text (a hall of fame, a
    customer list). A notice's list of recipients or sub-processors linking their privacy policies
    stays, and so does a paragraph with links."""
    root = tree.root
    links: dict[etree._Element, int] = {}  # links under each element
    link_chars: dict[etree._Element, float] = {}  # characters of their text
    for anchor in root.iterdescendants("a"):
        if anchor.get("href"):
            chars = _TEXT_LENGTH(anchor)
            for ancestor in islice(anchor.iterancestors(), NEAR):
                if ancestor is root:
                    break
                links[ancestor] = links.get(ancestor, 0) + 1
                link_chars[ancestor] = link_chars.get(ancestor, 0) + chars
    candidates = [n for n in root.iterdescendants(*_LIST_TAGS) if links.get(n, 0) >= MIN_OTHER_PAGES]
    for node in candidates:  # outer ones first
        if node in tree.gone:
            continue
        # The raw length (white space included) rules out a large block at C speed; white space of
        # indented markup may make a list's raw text a few times its text, never MAX_RAW_RATIO times.
        if _RAW_LENGTH(node) * MIN_LINK_SHARE > MAX_RAW_RATIO * link_chars[node] \
                or link_chars[node] < MIN_LINK_SHARE * _TEXT_LENGTH(node):
            continue
        pages, internal, legal = _pages_linked(node, tree.url)
        if (internal >= MIN_OTHER_PAGES and internal * 10 >= 7 * pages) or \
                (pages >= MIN_PEOPLE and legal * 2 < pages):
            _drop_with_title(tree, node)


@rule("form-controls", "content")
def drop_form_controls(tree: Tree) -> None:
    """Form controls (hidden inputs with CSRF tokens, selects, text areas, plain buttons) are removed; the
    <form> itself stays, because some sites wrap the whole page in one. Buttons that open an accordion
    or a tab (aria-expanded, aria-controls, role=tab) keep their text: it titles notice content."""
    for node in tree.tags(("input", "select", "textarea", "datalist", "output", "progress", "meter")):
        tree.decompose(node)
    for button in tree.tags(("button",)):
        if button in tree.gone:
            continue
        disclosure = "aria-expanded" in button.attrib or "aria-controls" in button.attrib \
            or button.get("role") == "tab"
        if not disclosure:
            tree.decompose(button)


def _referenced_ids(tree: Tree) -> set[str]:
    """The ids that controls point to (aria-controls, data-target, data-bs-target, href="#id")."""
    referenced: set[str] = set()
    for node in tree.tags():
        attrib = node.attrib
        for attr in ("aria-controls", "data-target", "data-bs-target", "href"):
            value = attrib.get(attr)
            if value is not None:
                referenced.update(v.lstrip("#") for v in value.split() if v)
    return referenced


_PANEL_CONTENT = ("p", "li", "table", "dl", "h1", "h2", "h3", "h4", "h5", "h6")


@rule("aria-hidden-decoration", "content")
def drop_aria_hidden_decoration(tree: Tree) -> None:
    """Elements with aria-hidden="true" are decoration (icons, arrows) and are removed, unless they are a
    collapsed panel: referenced by a control (aria-controls, href="#id", data-target), a tab panel or
    region, or holding block content. Hidden-until-clicked text is notice text."""
    referenced = _referenced_ids(tree)
    hidden = [node for node in tree.tags() if node.get("aria-hidden") == "true"]
    for node in hidden:
        if node in tree.gone:
            continue
        panel = (node.get("id") in referenced or node.get("role") in ("tabpanel", "region")
                 or bool(tree.tags(_PANEL_CONTENT, under=node)))
        if not panel:
            tree.decompose(node)


# ---------------------------------------------------------------- link stage


@rule("tracking-parameters", "link")
def strip_tracking_parameters(url: str, page_url: str | None) -> str:
    """Tracking, session and cache-busting parameters (utm_*, gclid, fbclid, mc_eid, _ga, jsessionid,
    csrf tokens, nonces, ...) are removed from link targets before they count as content."""
    parts = urlsplit(url)
    path = re.sub(r";(jsessionid|phpsessid|sid)=[^/?#]*", "", parts.path, flags=re.I)
    names = _words("links", "drop_parameters")
    prefixes = tuple(vocabulary()["links"]["drop_prefixes"])
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in names and not k.lower().startswith(prefixes)]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), parts.fragment))


@rule("same-site-links", "link")
def relative_same_site(url: str, page_url: str | None) -> str:
    """A link to the notice's own site is kept as its path, so http/https, www and absolute/relative
    spellings of the same link are one text; links elsewhere keep their full address."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "") and page_url:
        page = urlsplit(page_url)
        host = (parts.hostname or "").removeprefix("www.")
        if not parts.netloc or host == (page.hostname or "").removeprefix("www."):
            return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    if parts.scheme in ("http", "https"):
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, parts.fragment))
    return url


#: Link schemes whose targets are kept in the text; any other (javascript:, vbscript:, data:, file:,
#: ...) keeps only the label. A relative link has no scheme and is kept.
SAFE_SCHEMES = ("http", "https", "mailto", "tel")
_URL_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\s\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def link_scheme(href: str) -> str | None:
    """The scheme a browser (or a Markdown viewer) could see in `href`, read after removing every
    white-space, control and invisible character (so "java&#9;script:" is javascript:); None for a
    relative link."""
    match = _SCHEME.match(_URL_INVISIBLE.sub("", href))
    return match.group(1).lower() if match else None


def link_target(href: str, page_url: str | None = None) -> str | None:
    """The target of a link as it counts in the text, or None for links that are not content
    (fragments on the same page, empty) or not safe (a scheme outside `SAFE_SCHEMES`)."""
    href = _URL_INVISIBLE.sub(" ", href).strip()
    if not href or href.startswith("#") or link_scheme(href) not in (*SAFE_SCHEMES, None):
        return None
    scheme = link_scheme(href)
    if scheme in ("mailto", "tel"):
        return scheme + ":" + href.split(":", 1)[1].replace(" ", "")
    for link_rule in rules_of("link"):
        href = link_rule.func(href, page_url)
    if link_scheme(href) not in (*SAFE_SCHEMES, None):
        return None
    if page_url and urlsplit(href).fragment and not urlsplit(href).netloc:
        page_path = urlsplit(page_url).path or "/"
        if urlsplit(href).path == page_path and not urlsplit(href).query:
            return None
    return href


# ---------------------------------------------------------------- text stage

INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"), None)
SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


_INVISIBLE_CHARS = re.compile("[" + "".join(map(chr, INVISIBLE)) + "]")


@rule("invisible-characters", "text")
def drop_invisible(text: str) -> str:
    """Unicode NFC; zero-width characters, soft hyphens and BOMs removed; every run of white space
    (including no-break and thin spaces) becomes one space."""
    if not text.isascii():  # ASCII text is NFC already and holds no invisible characters
        text = unicodedata.normalize("NFC", text)
        printable = text.isprintable()  # the invisible characters are all non-printable (format) ones
        if not printable:
            text = _INVISIBLE_CHARS.sub("", text)
    else:
        printable = text.isprintable()
    # Printable text's only white space is the ASCII space: without a double, leading or trailing one
    # there is nothing to collapse (splitting and joining a long paragraph costs more than these checks).
    if printable and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())  # str.split's white space is exactly SPACES (tests/test_noise_rules.py)


@rule("page-meta", "text")
def drop_page_meta(text: str) -> str:
    """Statements about the page rather than the notice are removed: generation time stamps ("pagina
    gegenereerd op ...", "vandaag is ..."), visitor counters ("u bent bezoeker 1234", "5.321 keer
    bekeken"), reading time ("leestijd 6 minuten"). The notice's own date statement is kept."""
    if not _has_digit(text):  # every pattern needs a digit (data/noise.toml)
        return text
    lowered = text.lower()
    for trigger in _triggers():
        if trigger in lowered:
            break
    else:
        return text
    pattern = _compiled("page_meta", "patterns")
    if not pattern.search(text):
        return text
    return SPACES.sub(" ", pattern.sub(" ", text)).strip(" |·•-–")


_DIGIT = re.compile(r"\d")


def _has_digit(text: str) -> bool:
    """Does the text hold a digit (any script's, as the patterns' \\d)? ASCII text is checked by substring."""
    if text.isascii():
        for digit in "0123456789":  # noqa: SIM110  (a plain loop: a generator costs more than the ten searches)
            if digit in text:
                return True
        return False
    return _DIGIT.search(text) is not None


@cache
def _triggers() -> tuple[str, ...]:
    """Substrings looked for in the lowercased text: many times faster than one regex alternation."""
    return tuple(w.lower() for w in vocabulary()["page_meta"]["triggers"])


CACHED_TEXT_CHARS = 2000  # texts up to this long are remembered (at most 1024 of them: a few MB at most)


def normalise_text(text: str) -> str:
    """Every text-stage rule in order.

    The rules are pure functions of the text, so the results for texts of up to CACHED_TEXT_CHARS are
    remembered: every fetch of a notice holds the same paragraphs, and re-extracting an archive (or a
    crawl worker meeting the page again, with a fresh nonce) would otherwise normalise each one anew."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _normalised(text)
    return _apply_text_rules(text)



# ------------------------------------------------------------- compare stage

_FOLD = CharFold({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u2039": "'", "\u203a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...",
})


@rule("typography", "compare")
def fold_typography(text: str) -> str:
    """Curly and straight quotes, guillemets, all dash variants and the ellipsis compare equal (NFKC
    also folds ligatures and full-width forms), so a typographic restyle is not a new version."""
    return _FOLD(unicodedata.normalize("NFKC", text))


def comparison_text(text: str) -> str:
    """The text as it is compared and hashed: every compare-stage rule applied."""
    for compare_rule in rules_of("compare"):
        text = compare_rule.func(text)
    return text


_LINK_TARGET = re.compile(r"\]\(([^)\s]*)\)")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def canonical_url(target: str) -> str:
    """One spelling of a link target: percent-encodings decoded, scheme and host lowercased, default
    port, empty query and empty fragment dropped, query parameters in sorted order."""
    target = html.unescape(target)
    if target.lower().startswith(("mailto:", "tel:", "sms:", "fax:")):
        scheme, _, rest = target.partition(":")
        return scheme.lower() + ":" + unquote(rest).strip()
    parts = urlsplit(target)
    netloc = parts.netloc.lower()
    host, _, port = netloc.rpartition(":") if ":" in netloc.rsplit("@", 1)[-1] else (netloc, "", "")
    if port and _DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        netloc = host
    query = "&".join(sorted(f"{unquote_plus(k)}={unquote_plus(v)}" if v or "=" in pair else unquote_plus(k)
                            for pair in parts.query.split("&") if pair
                            for k, _, v in [pair.partition("=")]))
    return urlunsplit((parts.scheme.lower(), netloc, unquote(parts.path), query, unquote(parts.fragment)))


@rule("decoded-forms", "compare")
def decode_equivalent_forms(text: str) -> str:
    """Equal text is equal: character references left in the text (decimal, hex or named, as a CMS
    double-escapes them) are decoded, and link targets compare in one spelling (percent-encodings
    decoded, host case, default ports, empty query, parameter order)."""
    if "&" in text:
        text = html.unescape(text)
    if "](" not in text:
        return text
    return _LINK_TARGET.sub(lambda m: "](" + canonical_url(m.group(1)) + ")", text)


def text_sha256(document: Document) -> str:
    """Hash of a document's text as compared (typographic variants folded): equal hashes, no change."""
    return hashlib.sha256(comparison_text(document.text()).encode("utf-8")).hexdigest()
