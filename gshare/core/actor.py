"""Who acts: a signed-in person (a `User` row) or the operator at the command line.

Every service takes the acting party as `actor`. Both kinds satisfy `Actor`; the access package
asks `actor.is_operator` where the operator's answer differs (the operator passes every check,
and the audit log records "no person"). `None` stands for an anonymous reader (a public link).
"""

from __future__ import annotations

from typing import Protocol


class Actor(Protocol):
    """What the access rules read of whoever acts."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def department_id(self) -> int | None: ...

    @property
    def disabled(self) -> bool: ...

    @property
    def is_operator(self) -> bool: ...


class Operator:
    """The operator at the command line: every check passes, the audit log shows no person."""

    id = None
    role = "system_admin"
    department_id = None
    disabled = False
    is_operator = True

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()
