"""Helpers several test modules share; none of them is a test module."""
