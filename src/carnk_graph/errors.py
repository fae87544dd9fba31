"""Typed errors and the one table that maps them to exit codes.

The CLI catches `CarnkError`, prints its one-line message and exits with its
code; anything else is a bug and gets a traceback only under --debug.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's flag without importing typing: every command imports this module
if TYPE_CHECKING:
    from pathlib import Path

OK = 0
NOT_CONFORMING = 1
BAD_INPUT = 2
REASONER = 3
REFUSED = 4
TIMEOUT = 5
REMOTE = 6


def printable(text: str) -> str:
    """`text` with control and other non-printing characters written as escapes (\\x1b, \\n, \\u2028).

    Messages quote file names and file contents; from hostile input those could
    hold a newline (breaking the one-line contract) or a terminal escape sequence.
    """
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class CarnkError(Exception):
    """Base of every expected failure; `exit_code` is the CLI contract (the table EXIT_CODES)."""

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.path = printable(str(path)) if path is not None else None
        self.line = line
        self.column = column
        self.detail = printable(" ".join(str(message).split()))  # always one line
        super().__init__(self.detail)

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + self.detail

    @property
    def exit_code(self) -> int:
        """The code of the nearest class of this error in EXIT_CODES."""
        return next(EXIT_CODES[cls] for cls in type(self).__mro__ if cls in EXIT_CODES)


class BadInputError(CarnkError):
    """Unparseable or ill-formed input, bad usage, unknown names (exit 2)."""


class CurationTableError(BadInputError):
    """A bad cell, row or header in a curation table (ontology/tables/*.tsv): file:line:column, exit 2."""


class NotConformingError(CarnkError):
    """Data violates the shapes, or a quality check returned rows (exit 1)."""


class ReasonerError(CarnkError):
    """No Java, an inconsistent ontology, unsatisfiable classes (exit 3)."""


class ReasonerTimeoutError(CarnkError):
    """The reasoner ran past its time limit (exit 5, like any time limit; its JVM is killed)."""


class RefusedError(CarnkError):
    """Refused for safety: network, file access, an update in a query (exit 4)."""


class QueryTimeoutError(CarnkError):
    """A query ran past its time limit (exit 5)."""


class RemoteStoreError(CarnkError):
    """A remote triple store was unreachable or answered with an error (exit 6)."""


#: The one table of exit codes: each error class of the CLI contract and its code (a subclass takes
#: its nearest listed class's code).
EXIT_CODES: dict[type, int] = {
    CarnkError: BAD_INPUT,
    BadInputError: BAD_INPUT,
    NotConformingError: NOT_CONFORMING,
    ReasonerError: REASONER,
    RefusedError: REFUSED,
    ReasonerTimeoutError: TIMEOUT,
    QueryTimeoutError: TIMEOUT,
    RemoteStoreError: REMOTE,
}


def exit_code_for(exc: BaseException) -> int:
    """The exit code the CLI contract gives an exception."""
    if isinstance(exc, CarnkError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return 70  # EX_SOFTWARE: a bug, not a user error
