"""asyncpg's errors translated into livesim's, in one place."""

from __future__ import annotations

import asyncio

import asyncpg

from livesim.errors import ApiError, Conflict, InvalidInput, Unavailable


class DatabaseError(Exception):
    """The database failed in a way no client input explains."""


# SQLSTATE classes that mean "the database is away or busy for now", never "this
# statement is wrong": connection exceptions (08), operator intervention such as a
# shutdown or restart (57P01-57P05), insufficient resources (53), and the transient
# conflicts a retry resolves (40001 serialization, 40P01 deadlock).
TRANSIENT_SQLSTATE_PREFIXES = ("08", "57P", "53", "40001", "40P01")


def is_transient(error: BaseException) -> bool:
    """True when retrying the same statement later may succeed."""
    if isinstance(error, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError
                  | TimeoutError | asyncio.CancelledError):
        # a dropped or broken connection, or asyncpg giving up on one
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)


def translate(error: BaseException) -> Exception:
    """Map an asyncpg error to the error livesim raises in its place."""
    if isinstance(error, ApiError):
        return error
    if is_transient(error):
        return Unavailable("the database is unreachable", code="database_unavailable")
    if isinstance(error, asyncpg.UniqueViolationError):
        return Conflict("the record already exists", code="duplicate",
                        details=[{"field": error.constraint_name or "",
                                  "message": "already exists"}])
    if isinstance(error, asyncpg.CheckViolationError | asyncpg.NotNullViolationError):
        return InvalidInput("the record breaks a rule of the schema", code="invalid_record",
                            details=[{"field": getattr(error, "constraint_name", None) or "",
                                      "message": "breaks a rule of the schema"}])
    if isinstance(error, asyncpg.DataError):
        return InvalidInput(f"the database refused a value: {error}", code="invalid_value")
    return DatabaseError(f"{type(error).__name__}: {error}")
