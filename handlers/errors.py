"""The two tiers of errors: what the user sees, and everything else (logged, apologised for)."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``str(error)`` is the translated reply markup."""

    def __init__(self, markup: str) -> None:
        super().__init__(markup)
        self.markup = markup


class Forbidden(UserError):
    """A privileged command asked by someone without the role."""
