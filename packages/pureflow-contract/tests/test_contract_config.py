"""Config schemas: the schema is checked, every problem of a config is reported."""

from __future__ import annotations

import pytest
from pureflow.contract import (
    ConfigProblem,
    ConfigSchema,
    InvalidConfig,
    InvalidConfigSchema,
    validate_config,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 1},
        "batch": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
        "endpoint": {"type": "string", "format": "ipv4"},
    },
    "required": ["path"],
    "additionalProperties": False,
}


def test_a_valid_config_has_no_problems() -> None:
    assert validate_config(SCHEMA, {"path": "/tmp", "batch": 3, "tags": ["a"]}) == []


def test_every_problem_is_reported_with_its_location() -> None:
    problems = validate_config(
        SCHEMA,
        {"batch": 0, "tags": ["ok", 1, "ok", 2], "extra": True, "endpoint": "999.1.1.1"},
    )
    assert [p.location for p in problems] == [
        "",
        "",
        "/batch",
        "/endpoint",
        "/tags/1",
        "/tags/3",
    ]
    messages = [p.message for p in problems]
    assert "'path' is a required property" in messages
    assert any("'extra' was unexpected" in m for m in messages)
    assert messages[2] == "0 is less than the minimum of 1"
    assert "is not a 'ipv4'" in messages[3]
    assert messages[4] == "1 is not of type 'string'"


def test_array_indexes_sort_numerically() -> None:
    schema = ConfigSchema({"type": "array", "items": {"type": "integer"}})
    problems = schema.problems(["x"] * 12)
    assert [p.location for p in problems][:3] == ["/0", "/1", "/2"]
    assert problems[-1].location == "/11"


def test_check_raises_with_all_problems() -> None:
    schema = ConfigSchema(SCHEMA)
    schema.check({"path": "x"})
    with pytest.raises(InvalidConfig) as info:
        schema.check({"path": "", "batch": "x"})
    assert info.value.code == "config.invalid"
    assert info.value.problems == [
        ConfigProblem("/batch", "'x' is not of type 'integer'"),
        ConfigProblem("/path", "'' should be non-empty"),
    ]
    assert str(info.value) == (
        "config is invalid: /batch: 'x' is not of type 'integer'; /path: '' should be non-empty"
    )


def test_an_invalid_schema_is_rejected_clearly() -> None:
    with pytest.raises(InvalidConfigSchema) as info:
        ConfigSchema({"type": "object", "properties": {"n": {"type": "integr"}}})
    assert info.value.code == "config.invalid_schema"
    assert info.value.location == "/properties/n/type"
    assert str(info.value).startswith("invalid config schema at `/properties/n/type`: ")
    with pytest.raises(InvalidConfigSchema, match="must be an object or a boolean"):
        ConfigSchema([])  # type: ignore[arg-type]


def test_boolean_schemas() -> None:
    assert validate_config(True, {"anything": 1}) == []
    assert [p.location for p in validate_config(False, 1)] == [""]


def test_the_schema_is_copied() -> None:
    raw = {"type": "object"}
    schema = ConfigSchema(raw)
    raw["type"] = "string"
    assert schema.problems({}) == []
