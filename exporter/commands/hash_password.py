"""`hash-password`: make a users-file line for the exporter's own Basic auth."""

from __future__ import annotations

import argparse
import getpass
import sys

from exporter.commands.exitcodes import ExitCode
from exporter.errors import UsageError
from exporter.web.auth import hash_password

HELP = "print a 'user:hash' line for --web-users-file (reads the password from stdin or a prompt)"
DESCRIPTION = (
    "Hash a password with salted PBKDF2-SHA256 and print the users-file line. The password is read from the "
    "terminal, or from the first line of standard input when it is not a terminal; it is never an argument."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", help="the user name")


def run(args: argparse.Namespace) -> int:
    if ":" in args.user or not args.user:
        raise UsageError("the user name must be non-empty and hold no ':'")
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("empty password")
    print(f"{args.user}:{hash_password(password)}")
    return ExitCode.OK
