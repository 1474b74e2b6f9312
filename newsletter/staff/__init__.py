"""Staff accounts and how they sign in, for both shells (CLI and web); imports only the kernel.

`accounts` (argon2 passwords, roles, deactivation, resets), `sessions` (server-side sessions),
`totp` (second factor, recovery codes, the require-for-everyone rule), `login` (password then code,
with a throttle over the audit log). The account basics are re-exported here.
"""

from newsletter.staff.accounts import STAFF_ROLES, Staff, StaffError, add_user, authenticate, get_user

__all__ = ["STAFF_ROLES", "Staff", "StaffError", "add_user", "authenticate", "get_user"]
