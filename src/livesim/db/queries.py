"""Named SQL queries loaded from ``sql/queries/*.sql`` (aiosql's header syntax).

Each query starts with ``-- name: <name><suffix>``; the suffix says what a call
returns: none = rows, ``^`` = one row or None, ``$`` = a scalar, ``!`` = nothing.
``:param`` names are rewritten to asyncpg's ``$n`` once, at load, so a call
passes keyword arguments.  A malformed file fails at start-up, not mid-session.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from livesim.config import PROJECT_ROOT

SQL_DIR_ENV = "LIVESIM_SQL_DIR"
_HEADER = re.compile(r"^--\s*name:\s*([a-z][a-z0-9_-]*)([\^$!]?)\s*$")
# ':name' but not the '::type' of a cast nor a ':' inside an identifier
_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")
RESULT_KINDS = {"": "rows", "^": "row", "$": "value", "!": "execute"}


class QueryLoadError(ValueError):
    """A query file could not be parsed, or a query name is unknown."""


@dataclass(frozen=True, slots=True)
class Query:
    """One named statement, ready for asyncpg."""

    name: str
    kind: str  # rows | row | value | execute
    sql: str  # with $1..$n
    params: tuple[str, ...]  # parameter names in $n order

    def args(self, values: dict[str, Any]) -> list[Any]:
        missing = [name for name in self.params if name not in values]
        extra = sorted(set(values) - set(self.params))
        if missing or extra:
            raise QueryLoadError(
                f"query {self.name!r} takes {list(self.params)}; missing {missing}, extra {extra}")
        return [values[name] for name in self.params]


def sql_dir() -> Path:
    """The ``sql/`` folder: ``$LIVESIM_SQL_DIR`` or the project's own."""
    return Path(os.environ.get(SQL_DIR_ENV) or PROJECT_ROOT / "sql")


def parse_queries(text: str, source: str) -> dict[str, Query]:
    """Parse one file's queries; raise :class:`QueryLoadError` on a bad header or body."""
    queries: dict[str, Query] = {}
    name: str | None = None
    suffix = ""
    body: list[str] = []

    def flush() -> None:
        if name is None:
            if "".join(body).strip():
                raise QueryLoadError(f"{source}: SQL before the first '-- name:' header")
            return
        statement = "\n".join(line for line in body if not line.lstrip().startswith("--"))
        if not statement.strip():
            raise QueryLoadError(f"{source}: query {name!r} has no SQL")
        params: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in params:
                params.append(match.group(1))
            return f"${params.index(match.group(1)) + 1}"

        key = name.replace("_", "-")
        if key in queries:
            raise QueryLoadError(f"{source}: query {key!r} is defined twice")
        queries[key] = Query(key, RESULT_KINDS[suffix], _PARAM.sub(number, statement).strip(),
                             tuple(params))

    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            flush()
            name, suffix, body = match.group(1), match.group(2), []
        elif line.strip().startswith("-- name:"):
            raise QueryLoadError(f"{source}: malformed header {line.strip()!r}")
        else:
            body.append(line)
    flush()
    return queries


class QueryRegistry:
    """Every query of ``sql/queries``, looked up by name."""

    def __init__(self, queries: dict[str, Query]) -> None:
        self._queries = MappingProxyType(dict(queries))

    @classmethod
    def load(cls, directory: Path | None = None) -> QueryRegistry:
        directory = (directory or sql_dir()) / "queries"
        queries: dict[str, Query] = {}
        for path in sorted(directory.glob("*.sql")):
            for key, query in parse_queries(path.read_text(), path.name).items():
                if key in queries:
                    raise QueryLoadError(f"{path.name}: query {key!r} is defined twice")
                queries[key] = query
        if not queries:
            raise QueryLoadError(f"no queries found in {directory}")
        return cls(queries)

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise QueryLoadError(f"unknown query {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._queries
