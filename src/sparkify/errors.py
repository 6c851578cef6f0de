"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class SparkifyError(Exception):
    """A problem the user must act on: a bad path, an unreadable warehouse, a failed load."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
