"""The subcommands, their options and exit codes; the only layer that reads the command line."""
