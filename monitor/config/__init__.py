"""noticewatch.toml: sources, storage, crawl, schedule, mail, web and frontier settings, validated up
front with one-line errors (`file: key: problem`), and the small languages of durations and schedules.
"""

from monitor.config.mail import WEEKDAYS, MailConfig, SubscriptionConfig
from monitor.config.settings import (
    Config,
    ConfigError,
    FrontierConfig,
    LoadedConfig,
    ScheduleConfig,
    SourceConfig,
    absolute_sqlite_url,
    load_config,
)
from monitor.config.timespec import build_trigger, parse_timezone

__all__ = [
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
    "build_trigger",
    "load_config",
    "parse_timezone",
]
