"""The spiders of the project: `notices`, one cycle over the configured sources (or worker mode).
"""
