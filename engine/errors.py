"""Error types with messages a user can act on."""

from __future__ import annotations


class CloudScreenError(Exception):
    """Base class of every error CloudScreen raises on purpose."""


class UsageError(CloudScreenError):
    """Bad input from the user (bad flag, account id, region, service). CLI exit code 2."""


class CheckDefinitionError(CloudScreenError):
    """A check's metadata is missing or inconsistent. Raised at import, so the test suite fails."""


class AssumeRoleError(CloudScreenError):
    """The audit role of an account cannot be assumed."""

    def __init__(self, account_id: str, role_arn: str, code: str, message: str) -> None:
        self.account_id = account_id
        self.role_arn = role_arn
        self.code = code
        super().__init__(
            f"role {role_arn} cannot be assumed: {code} — {message} "
            "(check that the role exists and its trust policy allows the scanner and external id)"
        )


class StoreError(CloudScreenError):
    """The result store cannot be read or written."""


class ScanCancelled(CloudScreenError):
    """The scan was cancelled while this work was running."""
