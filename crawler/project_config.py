"""The noticewatch configuration a crawl runs with, read once from the Scrapy settings' NOTICEWATCH_CONFIG."""

from __future__ import annotations

import sys

from monitor.config import ConfigError, LoadedConfig, load_config


def config_from_settings(settings) -> LoadedConfig:
    """Load the configuration file the settings name; a bad one stops the crawl with one line (exit 2)."""
    try:
        return load_config(settings.get("NOTICEWATCH_CONFIG") or None)
    except ConfigError as exc:
        print(f"noticewatch: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
