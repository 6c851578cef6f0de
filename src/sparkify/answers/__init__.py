"""Answers from the star schema: data-quality checks, the analysts' report, charts and output."""
