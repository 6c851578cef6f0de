"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class SparkifyError(Exception):
    """A problem the user must act on: a bad path, an unreadable warehouse, a failed load."""

    def __init__(self, message: str, exit_code: int = 2, setting: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        #: The argument the message starts with ("songs: …"), for the CLI to name as its flag.
        self.setting = setting

    def cli_message(self) -> str:
        """The message as the CLI shows it: `songs: …` becomes `--songs: …`."""
        text = str(self)
        if self.setting and text.startswith(f"{self.setting}:"):
            return f"--{self.setting.replace('_', '-')}{text[len(self.setting):]}"
        return text


#: The optional parts of the package: pip extra → the modules it brings.
EXTRAS: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg",),
    "aws": ("boto3",),
    "redshift": ("psycopg", "boto3"),
}


def require_extra(extra: str, purpose: str) -> None:
    """Fail with the install command when an optional dependency is missing.

    DuckDB users install only the core; PostgreSQL, S3 and Redshift come with extras, and the
    first command that needs one says which, instead of an ImportError traceback."""
    import importlib

    missing = []
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SparkifyError(
            f"{purpose} needs {', '.join(missing)}: pip install 'sparkify-warehouse[{extra}]'"
        )
