"""The one error type for bad processes, parameters and files."""


class ProcessError(ValueError):
    """Raised for invalid process definitions, parameters or files; the message says what is allowed."""
