"""Bringing watch lists from urlwatch and changedetection.io in, and writing ours out.

Each importer turns the other tool's entries into source fields (url, name, select/remove CSS,
render, paused, schedule) and says, per entry, what it could not carry over: a filter we have no
equivalent for, a shell job, an XPath. Nothing is dropped silently; the user reads the report and
decides. Text-only steps such as urlwatch's `html2text` are not reported: noticewatch extracts text
itself, so they have nothing left to do.

Formats, as those tools write them:
- urlwatch `urls.yaml`: YAML documents separated by `---`, one job each (`url` / `navigate` /
  `command`, `name`, `filter` as a legacy string "css:main,html2text" or a list of `kind` or
  `{kind: subfilter}` items; a css/xpath subfilter may be `{selector, exclude, ...}`).
- changedetection.io backup zip: one `<uuid>/watch.json` per watch and `changedetection.json` with the
  settings (tags), or in older versions a single `url-watches.json` with `{"watching": {uuid: watch}}`.
  A watch has `url`, `title`, `include_filters`, `subtractive_selectors` (older: `css_filter`),
  `paused`, `fetch_backend`, `time_between_check`, and many options of its own.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.config.settings import SourceConfig, selector_problem

# Steps that only turn HTML into text or tidy whitespace: our extractor does that already.
URLWATCH_TEXT_ONLY = {"html2text", "strip", "beautify", "pretty-xml", "format-xml", "remove-duplicate-lines"}
# Job keys with no effect on what noticewatch watches (bookkeeping, reporting, retries).
URLWATCH_IGNORED_KEYS = {"name", "url", "navigate", "kind", "filter", "use_browser", "max_tries", "index_number",
                         "treat_new_as_changed", "user_visible_url", "enabled", "diff_filter", "additions_only",
                         "deletions_only", "contextlines", "monospace", "ignore_connection_errors",
                         "ignore_timeout_errors", "ignore_too_many_redirects", "ignore_http_error_codes",
                         "ignore_dh_key_too_small", "wait_until", "wait_for", "timeout"}
CHANGEDETECTION_BROWSER_BACKENDS = ("html_webdriver", "playwright", "webdriver", "extra_browser_")
# Watch keys whose non-empty value changes what is watched and that we cannot carry over.
CHANGEDETECTION_UNMAPPED = ("ignore_text", "trigger_text", "text_should_not_be_present", "extract_text",
                            "browser_steps", "headers", "body", "webdriver_js_execute_code", "conditions",
                            "proxy")


@dataclass
class ImportedEntry:
    """One entry of the other tool: the source fields we made from it (None if nothing could be) and notes."""

    label: str
    fields: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


class ImportFormatError(Exception):
    """The file is not in the format the importer reads; one line for the user."""


def _add_css(fields: dict[str, Any], key: str, selector: str, notes: list[str], what: str) -> None:
    if selector_problem(selector) is None:
        fields.setdefault(key, []).append(selector)
    else:
        notes.append(f"{what} {selector!r} is not a CSS selector noticewatch can use")


# ---------------------------------------------------------------------------------------------- urlwatch


def _urlwatch_filters(spec: Any) -> Iterator[tuple[str, Any]]:
    """(kind, subfilter) pairs of both filter notations."""
    if spec is None:
        return
    if isinstance(spec, str):
        for part in spec.split(","):
            kind, _, sub = part.strip().partition(":")
            if kind:
                yield kind, sub or None
        return
    if isinstance(spec, dict):
        spec = [spec]
    for item in spec:
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, dict):
            yield from item.items()


def _urlwatch_filter(fields: dict[str, Any], kind: str, sub: Any, notes: list[str]) -> None:
    if kind in URLWATCH_TEXT_ONLY:
        return
    shorthand = {"element-by-id": "#{}", "element-by-class": ".{}", "element-by-tag": "{}"}
    if kind in shorthand and isinstance(sub, str):
        sub, kind = shorthand[kind].format(sub), "css"
    if kind != "css":
        notes.append(f"filter {kind!r} not mapped (noticewatch has CSS select/remove only)")
        return
    options = sub if isinstance(sub, dict) else {"selector": sub}
    selector = options.get("selector")
    if not isinstance(selector, str) or not selector.strip():
        notes.append("css filter without a selector not mapped")
        return
    if fields.get("select"):
        # A second css step narrows the first one's result: the descendant combinator says the same.
        previous = fields["select"]
        if len(previous) == 1 and "," not in previous[0] and "," not in selector:
            fields["select"] = [f"{previous[0]} {selector}"]
        else:
            notes.append(f"chained css filter {selector!r} not mapped")
    else:
        _add_css(fields, "select", selector, notes, "css selector")
    if isinstance(options.get("exclude"), str):
        _add_css(fields, "remove", options["exclude"], notes, "css exclude")
    for option in sorted(set(options) - {"selector", "exclude", "method"}):
        notes.append(f"css option {option!r} not mapped")


def from_urlwatch(text: str) -> list[ImportedEntry]:
    """Entries of a urlwatch `urls.yaml`."""
    try:
        jobs = [job for job in yaml.safe_load_all(text) if job is not None]
    except yaml.YAMLError as exc:
        raise ImportFormatError(f"not a urlwatch jobs file (YAML): {str(exc).splitlines()[0]}") from None
    entries = []
    for index, job in enumerate(jobs, start=1):
        if not isinstance(job, dict):
            raise ImportFormatError(f"job {index}: not a mapping of keys (is this a urlwatch urls.yaml?)")
        label = str(job.get("name") or job.get("url") or job.get("navigate") or job.get("command") or f"job {index}")
        url = job.get("url") or job.get("navigate")
        if not url:
            reason = "shell command job" if "command" in job else "no url"
            entries.append(ImportedEntry(label, None, [f"{reason}: cannot be watched by noticewatch"]))
            continue
        notes: list[str] = []
        fields: dict[str, Any] = {"url": str(url), "name": job.get("name")}
        if job.get("use_browser") or "navigate" in job or job.get("kind") == "browser":
            fields["render"] = "browser"
        for kind, sub in _urlwatch_filters(job.get("filter")):
            _urlwatch_filter(fields, kind, sub, notes)
        notes += [f"key {key!r} not mapped" for key in job if key not in URLWATCH_IGNORED_KEYS]
        entries.append(ImportedEntry(label, fields, notes))
    return entries


def to_urlwatch(sources: Iterable[SourceConfig]) -> str:
    """Our sources as urlwatch jobs (select -> css, remove -> its exclude), which `from_urlwatch` reads back."""
    jobs = []
    for source in sources:
        job: dict[str, Any] = {"name": source.name, "url": source.start_url}
        if source.render == "browser":
            job["use_browser"] = True
        if source.select or source.remove:
            css: dict[str, str] = {"selector": ", ".join(source.select) or "html"}
            if source.remove:
                css["exclude"] = ", ".join(source.remove)
            job["filter"] = [{"css": css}, "html2text"]
        jobs.append(job)
    return yaml.safe_dump_all(jobs, sort_keys=False, allow_unicode=True, explicit_start=True)


# ------------------------------------------------------------------------------------ changedetection.io


def _interval(spec: Any) -> str | None:
    """`time_between_check` {weeks, days, hours, minutes, seconds} as an "every 6h" schedule."""
    if not isinstance(spec, dict):
        return None
    units = {"weeks": "w", "days": "d", "hours": "h", "minutes": "m", "seconds": "s"}
    parts = [f"{int(spec[k])}{u}" for k, u in units.items() if str(spec.get(k) or "0").isdigit() and int(spec[k] or 0)]
    return f"every {''.join(parts)}" if parts else None


def _watch_entry(watch: dict[str, Any], tags: dict[str, str]) -> ImportedEntry:
    url = watch.get("url")
    label = str(watch.get("title") or url or watch.get("uuid") or "watch")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return ImportedEntry(label, None, [f"url {url!r} is not an http(s) address"])
    notes: list[str] = []
    fields: dict[str, Any] = {"url": url, "name": watch.get("title") or watch.get("page_title")}
    processor = watch.get("processor") or "text_json_diff"
    if processor != "text_json_diff":
        notes.append(f"processor {processor!r} not mapped (watched as text)")
    include = list(watch.get("include_filters") or [])
    if watch.get("css_filter"):
        include.append(watch["css_filter"])
    for selector in include:
        selector = str(selector).strip()
        if selector.startswith(("xpath:", "xpath1:", "/", "json:", "jq:", "jqraw:")):
            notes.append(f"filter {selector!r} not mapped (noticewatch has CSS select/remove only)")
        else:
            _add_css(fields, "select", selector, notes, "include filter")
    for selector in watch.get("subtractive_selectors") or []:
        selector = str(selector).strip()
        if selector.startswith(("xpath:", "xpath1:", "/")):
            notes.append(f"remove filter {selector!r} not mapped (XPath)")
        else:
            _add_css(fields, "remove", selector, notes, "remove selector")
    if watch.get("paused"):
        fields["paused"] = True
    if str(watch.get("fetch_backend") or "").startswith(CHANGEDETECTION_BROWSER_BACKENDS):
        fields["render"] = "browser"
    if not watch.get("time_between_check_use_default", True):
        fields["schedule"] = _interval(watch.get("time_between_check"))
    if (watch.get("method") or "GET").upper() != "GET":
        notes.append(f"method {watch['method']} not mapped (noticewatch fetches with GET)")
    notes += [f"{key} not mapped" for key in CHANGEDETECTION_UNMAPPED if watch.get(key)]
    names = [tags.get(t, t) for t in watch.get("tags") or []] + ([watch["tag"]] if watch.get("tag") else [])
    if names:
        notes.append(f"tags not mapped: {', '.join(map(str, names))}")
    return ImportedEntry(label, fields, notes)


def _tags(settings: Any) -> dict[str, str]:
    try:
        raw = settings["settings"]["application"].get("tags") or {}
    except (KeyError, TypeError, AttributeError):
        return {}
    return {uuid: str(tag.get("title", uuid)) for uuid, tag in raw.items() if isinstance(tag, dict)}


def _watches_of(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("watching"), dict):
        return [dict(w, uuid=u) for u, w in data["watching"].items() if isinstance(w, dict)]
    if isinstance(data, dict) and "url" in data:
        return [data]
    raise ImportFormatError("no watches found (expected url-watches.json, a watch.json or a backup zip)")


def from_changedetection(path: Path) -> list[ImportedEntry]:
    """Entries of a changedetection.io backup (.zip) or of its url-watches.json / watch.json."""
    try:
        if zipfile.is_zipfile(path):
            return _from_zip(path)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise ImportFormatError(f"cannot read a changedetection.io backup: {exc}") from None
    return [_watch_entry(w, _tags(data)) for w in _watches_of(data)]


def _from_zip(path: Path) -> list[ImportedEntry]:
    with zipfile.ZipFile(path) as archive:
        def load(name: str) -> Any:
            return json.loads(archive.read(name).decode("utf-8"))

        names = archive.namelist()
        legacy = next((n for n in names if n.rsplit("/", 1)[-1] == "url-watches.json"), None)
        settings = next((n for n in names if n.rsplit("/", 1)[-1] == "changedetection.json"), None)
        tags = _tags(load(legacy or settings)) if (legacy or settings) else {}
        watches = _watches_of(load(legacy)) if legacy else []
        for name in sorted(n for n in names if n.endswith("/watch.json")):
            watches.append(dict(load(name), uuid=name.split("/")[-2]))
    if not watches:
        raise ImportFormatError("no watches found in the backup zip")
    return [_watch_entry(w, tags) for w in watches]
