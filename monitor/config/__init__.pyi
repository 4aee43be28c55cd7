"""noticewatch.toml: sources, storage, crawl, schedule, mail, web and frontier settings, validated up
front with one-line errors (`file: key: problem`), and the small languages of durations and schedules.
"""

from .edit import SourcesFile, export_toml
from .importers import ImportedEntry, ImportFormatError, from_changedetection, from_urlwatch, to_urlwatch
from .mail import WEEKDAYS, MailConfig, SubscriptionConfig
from .settings import (
    LANGUAGES,
    Config,
    ConfigError,
    FrontierConfig,
    LoadedConfig,
    ScheduleConfig,
    SourceConfig,
    absolute_sqlite_url,
    css_selector,
    find_config_path,
    load_config,
    parse_config,
)
from .timespec import build_trigger, local_iso, parse_moment, parse_timezone

__all__ = [
    "ImportFormatError",
    "ImportedEntry",
    "LANGUAGES",
    "SourcesFile",
    "export_toml",
    "find_config_path",
    "from_changedetection",
    "from_urlwatch",
    "local_iso",
    "parse_config",
    "parse_moment",
    "to_urlwatch",
    "Config",
    "ConfigError",
    "FrontierConfig",
    "LoadedConfig",
    "MailConfig",
    "ScheduleConfig",
    "SourceConfig",
    "SubscriptionConfig",
    "WEEKDAYS",
    "absolute_sqlite_url",
    "css_selector",
    "build_trigger",
    "load_config",
    "parse_timezone",
]
