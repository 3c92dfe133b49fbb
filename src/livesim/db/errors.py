"""asyncpg's errors translated into livesim's, in one place."""

from __future__ import annotations

import asyncpg

from livesim.errors import ApiError, Conflict, InvalidInput, Unavailable


class DatabaseError(Exception):
    """The database failed in a way no client input explains."""


def translate(error: BaseException) -> Exception:
    """Map an asyncpg error to the error livesim raises in its place."""
    if isinstance(error, asyncpg.UniqueViolationError):
        return Conflict("the record already exists", code="duplicate",
                        details={"constraint": error.constraint_name})
    if isinstance(error, asyncpg.CheckViolationError | asyncpg.NotNullViolationError):
        return InvalidInput("the record breaks a rule of the schema", code="invalid_record",
                            details={"constraint": getattr(error, "constraint_name", None)})
    if isinstance(error, asyncpg.DataError):
        return InvalidInput(f"the database refused a value: {error}", code="invalid_value")
    if isinstance(error, OSError | asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError
                  | asyncpg.InterfaceError):
        return Unavailable("the database is unreachable", code="database_unavailable")
    if isinstance(error, ApiError):
        return error
    return DatabaseError(f"{type(error).__name__}: {error}")
