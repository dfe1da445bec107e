"""`python -m exporter` runs the command-line interface."""

import sys

from exporter.cli import main

sys.exit(main())
