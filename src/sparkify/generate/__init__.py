"""Demo data: realistic song files and event logs in the original layout, at any scale."""

from sparkify.generate.catalogue import GenerateSummary, generate, log_json

__all__ = ["GenerateSummary", "generate", "log_json"]
