"""Errors that reach a person: each says what was read, where, and what to do."""

from __future__ import annotations


class PlancheckError(Exception):
    """Base of the errors plancheck reports to a person (never a bare traceback)."""

    exit_code = 2

    def __init__(self, what: str, *, where: str = "", fix: str = "") -> None:
        self.what, self.where, self.fix = what, where, fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text}; {self.fix}" if self.fix else text


class ConfigError(PlancheckError):
    """plancheck.toml is missing, unreadable or wrong."""


class SourceError(PlancheckError):
    """A source could not be read: the other sources and checks still run."""


class TemplateError(SourceError):
    """A PDF template is invalid: names file and line (a SourceError, so other sources still run)."""


class ConnectionFailed(PlancheckError):
    """A database or device could not be reached."""


class PatientNotFound(PlancheckError):
    """No patient with that ID in the source."""


class RuleError(PlancheckError):
    """A rule file is invalid: names file and line."""


class AnalysisError(PlancheckError, ValueError):
    """Delivery analysis (MU density, gamma) cannot run on these inputs; a ValueError as in pymedphys."""
