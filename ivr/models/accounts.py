"""Officials, radio hosts and admins: accounts, the audit log, notes on messages."""

from __future__ import annotations
