"""Errors a user can fix; their message is one line that says what to do."""


class UserError(Exception):
    """Bad input or missing set-up; `str(err)` is shown to the user as is."""
