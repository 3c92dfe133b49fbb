"""The named-SQL loader: headers, parameters, result kinds and load-time errors (no DB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livesim.db.queries import QueryLoadError, QueryRegistry, parse_queries

TWO = """
-- name: get-thing^
-- One thing by id (a comment, not SQL).
SELECT * FROM things WHERE id = :id AND owner = :owner AND id::text <> :id;

-- name: count_things$
SELECT count(*) FROM things WHERE note = 'a:b' AND created > :since;

-- name: touch!
UPDATE things SET seen = now();
"""


def test_parse_numbers_params_once_in_first_use_order() -> None:
    query = parse_queries(TWO, "t.sql")["get-thing"]
    assert query.kind == "row"
    assert query.params == ("id", "owner")
    assert query.sql == ("SELECT * FROM things WHERE id = $1 AND owner = $2 "
                         "AND id::text <> $1;")


def test_casts_and_colons_in_strings_are_not_params() -> None:
    query = parse_queries(TWO, "t.sql")["count-things"]  # underscores become dashes
    assert (query.kind, query.params) == ("value", ("since",))
    assert "'a:b'" in query.sql


def test_result_kinds_follow_the_suffix() -> None:
    queries = parse_queries(TWO + "\n-- name: all\nSELECT 1;\n", "t.sql")
    assert {name: q.kind for name, q in queries.items()} == {
        "get-thing": "row", "count-things": "value", "touch": "execute", "all": "rows"}


def test_args_must_match_params_exactly() -> None:
    query = parse_queries(TWO, "t.sql")["get-thing"]
    assert query.args({"owner": "u", "id": 7}) == [7, "u"]
    with pytest.raises(QueryLoadError, match=r"missing \['owner'\], extra \['x'\]"):
        query.args({"id": 7, "x": 1})


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT 1;\n-- name: a\nSELECT 2;", "SQL before the first"),
    ("-- name: a\n-- only a comment\n", "has no SQL"),
    ("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "defined twice"),
    ("-- name: Bad Name\nSELECT 1;", "malformed header"),
])
def test_bad_files_fail_at_load(text: str, message: str) -> None:
    with pytest.raises(QueryLoadError, match=message):
        parse_queries(text, "bad.sql")


def test_registry_loads_a_folder_and_refuses_unknown_names(tmp_path: Path) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "a.sql").write_text(TWO)
    registry = QueryRegistry.load(tmp_path)
    assert "touch" in registry
    assert registry["touch"].kind == "execute"
    with pytest.raises(QueryLoadError, match="unknown query 'nope'"):
        registry["nope"]


def test_registry_refuses_a_name_defined_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "a.sql").write_text(TWO)
    (tmp_path / "queries" / "b.sql").write_text("-- name: touch!\nSELECT 1;\n")
    with pytest.raises(QueryLoadError, match="defined twice"):
        QueryRegistry.load(tmp_path)


def test_registry_refuses_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "queries").mkdir()
    with pytest.raises(QueryLoadError, match="no queries"):
        QueryRegistry.load(tmp_path)


def test_the_project_queries_all_load() -> None:
    registry = QueryRegistry.load()
    for name in ("get-user-session", "list-user-sessions", "select-events", "last-seq"):
        assert name in registry
