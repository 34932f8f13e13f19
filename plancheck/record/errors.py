"""Why the record refuses: one line each, exit code 1 (a reason the person can fix in the record, e.g. a
finding without a disposition); usage mistakes (an unknown verdict, a run that does not exist) exit 2."""

from __future__ import annotations

from plancheck.errors import PlancheckError


class RecordRefused(PlancheckError):
    """The record refuses this action as things stand; the message says what to do first."""

    exit_code = 1


class PermissionDenied(RecordRefused):
    """The user's role does not allow the action, or the account is disabled."""


class AuthenticationFailed(RecordRefused):
    """Unknown user, disabled account or wrong password (one message for all three: nothing to probe)."""


class SignedRunFrozen(RecordRefused):
    """A signed run cannot change; corrections are amendments."""


class SignOffRefused(RecordRefused):
    """The run is not ready to sign: a failing result without a disposition, a manual check unticked."""


class RecordUsageError(PlancheckError):
    """A wrong argument: unknown verdict, role, check or finding (exit 2)."""
