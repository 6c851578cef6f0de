"""Sparkify Warehouse: Sparkify's song and event JSON as a star-schema analytics warehouse."""

__version__ = "0.1.0"
