"""The lab's error types. `LabError` is the one base class the command line catches and prints as one line."""


class LabError(Exception):
    """Bad input (a config, process, file or run directory): the message names the thing, the value and what is
    allowed. Subclasses add a more specific type; every one is reported by `belieflab` as one line, exit code 2."""


class ProcessError(LabError, ValueError):
    """Raised for invalid process definitions, parameters or files; the message says what is allowed."""


class MissingFileError(LabError, FileNotFoundError):
    """A file or directory the lab needs (a run directory, its analysis.json, a corpus, a model) is missing."""


class UnwritableError(LabError, PermissionError):
    """A directory the lab must write into (a run or output directory) cannot be written; the message names the
    path and why. Raised before any work starts."""


class RunInUseError(LabError):
    """Another process holds the run directory's lock (it is training or writing into it now)."""


class DamagedFileError(LabError, ValueError):
    """A file the lab wrote earlier is inconsistent (e.g. metrics whose steps do not increase); the message names
    the file and the line."""
