"""Errors a subcommand reports as one line on stderr before exiting with ExitCode.USAGE."""


class UsageError(Exception):
    """The invocation cannot work as given (bad option value, missing or unreadable file)."""
