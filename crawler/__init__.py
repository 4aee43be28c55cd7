"""The Scrapy project of noticewatch: settings, middlewares, pipelines and the `notices` spider.

It only fetches: what it fetched goes to monitor's public faces (archive first, then the store).
"""
