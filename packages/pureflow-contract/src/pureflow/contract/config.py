"""Node configuration schemas: a JSON Schema (Draft 2020-12) for a node's ``config``.

A :class:`ConfigSchema` wraps a schema and checks it on construction
(:class:`InvalidConfigSchema` if the schema itself is not valid Draft 2020-12).
:func:`validate_config` reports *every* problem with a configuration value as a
:class:`ConfigProblem` (a JSON pointer into the value and a message), in a stable order;
:meth:`ConfigSchema.check` raises :class:`InvalidConfig` holding them all.

Formats (``"format": "uri"`` and the like) are asserted where ``jsonschema`` has a checker
for them, since a configuration is input to be checked rather than annotated.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pureflow.contract.errors import ContractError


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _path_key(path: Any) -> list[tuple[int, int, str]]:
    """Sort key for a JSON path: array indexes numerically, before object keys."""
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path]


class InvalidConfigSchema(ContractError):
    """The schema is not a valid Draft 2020-12 JSON Schema; ``location`` points into it."""

    code = "config.invalid_schema"

    def __init__(self, location: str, detail: str) -> None:
        self.location = location
        self.detail = detail
        super().__init__(f"invalid config schema at `{location or '/'}`: {detail}")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem with a configuration value: where (a JSON pointer) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location or '/'}: {self.message}"


class InvalidConfig(ContractError):
    """A configuration value does not satisfy its schema; ``problems`` lists them all."""

    code = "config.invalid"

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"config is invalid: {listed}")


@dataclass(frozen=True, slots=True)
class ConfigSchema:
    """A validated JSON Schema for node configuration (a deep copy of the given mapping)."""

    schema: Mapping[str, Any] | bool
    _validator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = copy.deepcopy(self.schema)
        if not isinstance(schema, Mapping | bool):
            raise InvalidConfigSchema(
                "", f"a schema must be an object or a boolean, got {schema!r}"
            )
        # Imported here, not at module level: jsonschema costs tens of milliseconds to
        # import, which every `pureflow` command would pay (the start-up row of
        # benchmarks/README.md).
        import jsonschema  # noqa: PLC0415

        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise InvalidConfigSchema(_pointer(err.absolute_path), err.message) from None
        object.__setattr__(self, "schema", schema)
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        object.__setattr__(self, "_validator", validator)

    def problems(self, config: object) -> list[ConfigProblem]:
        """Every problem with ``config``, sorted by location then message."""
        errors = sorted(
            self._validator.iter_errors(config),
            key=lambda error: (_path_key(error.absolute_path), error.message),
        )
        return [ConfigProblem(_pointer(error.absolute_path), error.message) for error in errors]

    def check(self, config: object) -> None:
        """Raise :class:`InvalidConfig` listing every problem, if there is any."""
        problems = self.problems(config)
        if problems:
            raise InvalidConfig(problems)


def validate_config(
    schema: ConfigSchema | Mapping[str, Any] | bool, config: object
) -> list[ConfigProblem]:
    """Every problem with ``config`` against ``schema`` (a :class:`ConfigSchema` or a raw
    schema, which is checked first and may raise :class:`InvalidConfigSchema`)."""
    if not isinstance(schema, ConfigSchema):
        schema = ConfigSchema(schema)
    return schema.problems(config)
