"""The shipped Jinja templates (web pages and e-mail digests): package data, read with importlib.resources."""
