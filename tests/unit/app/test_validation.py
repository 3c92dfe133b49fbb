"""The declaration layer and the JSON pre-checks: pure, synchronous, one behaviour per test."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from livesim.app.api import SYMBOL_RULE, TIMEFRAME
from livesim.app.contract import (
    AnyObject,
    Integer,
    Number,
    OneOf,
    String,
)
from livesim.app.inputs import (
    Body,
    Field,
    Param,
    Problems,
    parse_query,
)
from livesim.app.operation import SessionIdConverter
from livesim.app.validation import MAX_JSON_DEPTH, parse_json_object
from livesim.config import Settings
from livesim.errors import InvalidInput

SETTINGS = Settings(auth_mode="dev")
SESSION = Body("Session", {
    "symbol": Field(SYMBOL_RULE, required=True),
    "timeframe": Field(TIMEFRAME, required=True),
    "startMs": Field(Integer(0, 10**15), required=True),
    "speed": Field(Number(1, 200)),
    "config": Field(AnyObject(100)),
})


def details(error: pytest.ExceptionInfo[InvalidInput]) -> list[dict[str, str]]:
    assert error.value.status == 400
    return [dict(item) for item in error.value.field_details]


def check(rule: Any, value: Any) -> str | None:
    message: str | None = rule.check(value, SETTINGS)
    return message


# ---- JSON bodies ------------------------------------------------------------------


def test_parse_json_object_valid_object_returns_dict() -> None:
    assert parse_json_object(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "JSON object"),
    (b"[1, 2]", "JSON object"),
    (b'"text"', "JSON object"),
    (b"null", "JSON object"),
    (b"{", "line 1"),
    (b'{"a": NaN}', "NaN"),
    (b'{"a": -Infinity}', "Infinity"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b"\xff\xfe{}", "UTF-8"),
    (b'{"a": ' + b"1" * 5000 + b"}", "JSON object"),
])
def test_parse_json_object_bad_body_is_invalid_json(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json_object(raw)
    assert caught.value.code == "invalid_json"
    assert reason in caught.value.message


def test_parse_json_object_deep_nesting_is_invalid_json() -> None:
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        raw = '{"a": ' + "[" * depth + "]" * depth + "}"
        with pytest.raises(InvalidInput, match="nested") as caught:
            parse_json_object(raw)
        assert caught.value.code == "invalid_json"


def test_parse_json_object_nesting_at_limit_is_accepted() -> None:
    depth = MAX_JSON_DEPTH - 1
    assert parse_json_object('{"a": ' + "[" * depth + "]" * depth + "}")


# ---- value checks -----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 5, 10])
def test_integer_in_range_passes(value: int) -> None:
    assert check(Integer(0, 10), value) is None


@pytest.mark.parametrize("value", [-1, 11, True, False, 1.5, 1e300, "5", None, [], {}, 10**400])
def test_integer_out_of_range_or_wrong_type_fails(value: Any) -> None:
    assert check(Integer(0, 10), value) == "must be a whole number from 0 to 10"


@pytest.mark.parametrize("value", [1, 1.5, 200, 200.0])
def test_number_in_range_passes(value: float) -> None:
    assert check(Number(1, 200), value) is None


@pytest.mark.parametrize("value", [True, 0.99, 200.01, float("nan"), float("inf"), "7", None,
                                   10**309, -(10**400)])
def test_number_bool_nan_huge_or_out_of_range_fails(value: Any) -> None:
    assert check(Number(1, 200), value) == "must be a number from 1 to 200"


def test_number_bound_from_settings_is_read_at_check_time() -> None:
    rule = Number(1, lambda settings: settings.max_speed)
    assert rule.check(300, SETTINGS.with_changes(max_speed=500.0)) is None
    assert rule.check(300, SETTINGS) == "must be a number from 1 to 200"
    assert rule.schema(SETTINGS) == {"type": "number", "minimum": 1, "maximum": 200}


def test_string_length_and_pattern_are_checked() -> None:
    rule = String(max_length=5, pattern=re.compile(r"[a-z]+"), hint="lowercase, 1-5")
    assert check(rule, "abc") is None
    assert all(check(rule, v) == "lowercase, 1-5" for v in ("", "abcdef", "ABC", "abc\n", 5))
    assert rule.schema(SETTINGS)["pattern"] == "^(?:[a-z]+)$"


def test_one_of_lists_the_allowed_values() -> None:
    rule = OneOf(("fail", "skip"))
    assert check(rule, "skip") is None
    assert check(rule, "SKIP") == "must be one of fail, skip"
    assert check(rule, ["fail"]) == "must be one of fail, skip"


def test_any_object_rejects_lists_and_too_many_keys() -> None:
    rule = AnyObject(max_keys=2)
    assert check(rule, {"a": 1}) is None
    assert check(rule, []) is not None
    assert check(rule, {"a": 1, "b": 2, "c": 3}) == "must be an object with at most 2 keys"


@pytest.mark.parametrize("value", ["BTCUSDT", "EUR/USD", "BRK.B", "es:F", "a" * 32])
def test_symbol_well_formed_passes(value: str) -> None:
    assert check(SYMBOL_RULE, value) is None


@pytest.mark.parametrize("value", ["", "-BTC", "BTC USDT", "BTC\n", "a" * 33, "ß", "٣", 42,
                                   None])
def test_symbol_malformed_fails(value: Any) -> None:
    assert check(SYMBOL_RULE, value) is not None


def test_timeframe_unknown_lists_valid_ones() -> None:
    assert check(TIMEFRAME, "1h") is None
    message = check(TIMEFRAME, "7m")
    assert message is not None
    assert "1m" in message
    assert "1d" in message


# ---- bodies -----------------------------------------------------------------------


def test_body_lists_every_problem_in_stable_order() -> None:
    body = {"symbol": "BTC USDT", "startMs": True, "speed": "fast", "zzz": 1, "aaa": 2}
    problems = SESSION.problems(body, SETTINGS)
    assert problems.items == [
        {"field": "aaa", "message": "unknown field"},
        {"field": "zzz", "message": "unknown field"},
        {"field": "symbol", "message": problems.items[2]["message"]},
        {"field": "timeframe", "message": "required"},
        {"field": "startMs", "message": "must be a whole number from 0 to 1000000000000000"},
        {"field": "speed", "message": "must be a number from 1 to 200"},
    ]


def test_body_valid_returns_copy() -> None:
    body = {"symbol": "BTCUSDT", "timeframe": "1m", "startMs": 0, "config": {}}
    result = SESSION.parse(body, SETTINGS)
    assert result == body
    assert result is not body


def test_body_invalid_raises_with_its_code_and_details() -> None:
    body = Body("X", SESSION.fields, message="bad session", code="invalid_session")
    with pytest.raises(InvalidInput) as caught:
        body.parse({"symbol": "x"}, SETTINGS)
    assert caught.value.code == "invalid_session"
    assert caught.value.message == "bad session"
    assert [d["field"] for d in details(caught)] == ["timeframe", "startMs"]


def test_body_exclusive_pair_needs_exactly_one() -> None:
    body = Body("Range", {"startMs": Field(Integer(0, 10), True),
                          "start": Field(String(), True)}, exclusive=(("startMs", "start"),))
    assert not body.problems({"startMs": 1}, SETTINGS)
    assert not body.problems({"start": "2024-01-01"}, SETTINGS)
    assert body.problems({}, SETTINGS).items == [
        {"field": "startMs", "message": "required (or start)"}]
    assert body.problems({"startMs": 1, "start": "x"}, SETTINGS).items == [
        {"field": "start", "message": "give startMs or start, not both"}]
    assert body.schema(SETTINGS)["allOf"] == [
        {"oneOf": [{"required": ["startMs"]}, {"required": ["start"]}]}]


def test_problems_empty_does_not_raise() -> None:
    problems = Problems()
    problems.raise_if_any("never")
    assert not problems


# ---- query strings ----------------------------------------------------------------


EVENT_PARAMS = {"fromSeq": Param(Integer(1, 2**62), 1), "limit": Param(Integer(1, 1000), 500),
                "order": Param(OneOf(("asc", "desc")), "asc")}


def test_parse_query_defaults_when_absent() -> None:
    assert parse_query(MultiDict({}), EVENT_PARAMS, SETTINGS) == {
        "fromSeq": 1, "limit": 500, "order": "asc"}


def test_parse_query_empty_value_is_checked_like_any_other() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_query(MultiDict({"limit": ""}), EVENT_PARAMS, SETTINGS)
    assert [d["field"] for d in details(raised)] == ["limit"]


def test_parse_query_parses_given_values() -> None:
    args = MultiDict({"fromSeq": "42", "limit": "10", "order": "desc"})
    assert parse_query(args, EVENT_PARAMS, SETTINGS) == {
        "fromSeq": 42, "limit": 10, "order": "desc"}


@pytest.mark.parametrize(("args", "field"), [
    ({"fromSeq": "0"}, "fromSeq"),
    ({"fromSeq": "1.5"}, "fromSeq"),
    ({"fromSeq": "1e3"}, "fromSeq"),
    ({"fromSeq": " 1"}, "fromSeq"),
    ({"fromSeq": "9" * 30}, "fromSeq"),
    ({"fromSeq": "\u00b2"}, "fromSeq"),  # a digit to str.isdigit(), not a number
    ({"fromSeq": "\uff11"}, "fromSeq"),  # fullwidth 1
    ({"fromSeq": "1_000"}, "fromSeq"),  # int() takes it; the wire does not
    ({"limit": "1001"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"order": "sideways"}, "order"),
    ({"order": "x" * 1000}, "order"),
    ({"fromseq": "1"}, "fromseq"),
])
def test_parse_query_bad_value_is_invalid_query(args: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(MultiDict(args), EVENT_PARAMS, SETTINGS)
    assert caught.value.code == "invalid_query"
    assert [d["field"] for d in details(caught)] == [field]


def test_parse_query_repeated_parameter_is_invalid_query() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(MultiDict([("limit", "1"), ("limit", "2")]), EVENT_PARAMS, SETTINGS)
    assert details(caught) == [{"field": "limit", "message": "given more than once"}]


def test_parse_query_missing_required_lists_each() -> None:
    params = {"symbol": Param(SYMBOL_RULE, required=True),
              "timeframe": Param(TIMEFRAME, required=True),
              "startMs": Param(Integer(0, 10**15), required=True)}
    with pytest.raises(InvalidInput) as caught:
        parse_query(MultiDict({"symbol": "BTC\n"}), params, SETTINGS)
    assert [d["field"] for d in details(caught)] == ["symbol", "timeframe", "startMs"]
    assert details(caught)[1]["message"] == "required"


# ---- path parameters --------------------------------------------------------------


def test_session_id_canonical_uuid_is_lowercased() -> None:
    raw = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert re.fullmatch(SessionIdConverter.regex, raw)
    assert SessionIdConverter(None).to_python(raw) == raw.lower()  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [
    "", "nope", "0f8fad5bd9cb469fa16570867728950e",
    "{0f8fad5b-d9cb-469f-a165-70867728950e}", "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
    "0f8fad5b-d9cb-469f-a165-70867728950e\n", "0f8fad5b-d9cb-469f-a165-70867728950g",
    "../../etc/passwd",
])
def test_session_id_malformed_matches_no_route(raw: str) -> None:
    assert re.fullmatch(SessionIdConverter.regex, raw) is None
