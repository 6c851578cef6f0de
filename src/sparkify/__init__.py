"""Sparkify Warehouse: Sparkify's song and event JSON as a star-schema analytics warehouse.

The supported API (see the README, "Python API"):

    import sparkify

    with sparkify.connect("sparkify.duckdb") as wh:
        summary = sparkify.load(wh, songs="data/song_data", logs="data/log_data")
        print(summary.load_id, summary.rows, summary.rejected)
        print(sparkify.query(wh, "top_songs", limit=5).rows)
"""

__version__ = "0.1.0"

from sparkify.api import (  # noqa: E402  (after __version__: the CLI reads it from here)
    CheckResult,
    ExportSummary,
    GenerateSummary,
    LoadSummary,
    QueryResult,
    S3Options,
    SparkifyError,
    Warehouse,
    check,
    connect,
    export,
    generate,
    load,
    query,
    report,
    sql,
    write_report,
)

__all__ = [
    "CheckResult", "ExportSummary", "GenerateSummary", "LoadSummary", "QueryResult", "S3Options", "SparkifyError",
    "Warehouse", "__version__", "check", "connect", "export", "generate", "load", "query", "report", "sql", "write_report",
]
