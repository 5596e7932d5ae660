"""Exceptions raised by the library. Only the CLI prints them and picks exit codes."""

from __future__ import annotations


class StanceError(Exception):
    """Base class: every message says what was expected, what was found and how to fix it."""


class ConfigError(StanceError):
    pass


class DataError(StanceError):
    pass


class ModelLoadError(StanceError):
    pass


class InputError(StanceError):
    """A document or input file that cannot be scored."""
