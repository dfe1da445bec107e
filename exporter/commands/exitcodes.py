"""Process exit codes shared by every subcommand."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the target could not be scraped, or a rule test failed
    USAGE = 2  # bad option, bad configuration, missing file: fix the invocation
