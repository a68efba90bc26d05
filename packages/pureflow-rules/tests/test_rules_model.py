"""Scalars, field paths, globs, conditions, actions and rule-set construction."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pureflow.rules import (
    ABSENT,
    DEAD_LETTER_PORT,
    AllMatchesTerminalAction,
    Always,
    And,
    ArrivedOnPort,
    ConditionSurface,
    DeadLetter,
    Drop,
    EmptyFieldPath,
    EmptyRuleId,
    EmptyRuleSetId,
    EvaluationStrategy,
    ExecutionMetadataEq,
    FieldAbsent,
    FieldEq,
    FieldExists,
    FieldGt,
    FieldGte,
    FieldIn,
    FieldLt,
    FieldLte,
    FieldMatches,
    FieldNeq,
    FieldPath,
    GlobPattern,
    Halt,
    HopCountGt,
    HopCountLte,
    Never,
    Not,
    Or,
    Route,
    Rule,
    RuleError,
    RuleSet,
    ScalarKind,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
    format_float,
)
from pureflow.types import IdentifierError

S = ScalarValue


# --- scalars -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "-0"),
        (2.5, "2.5"),
        (-123.25, "-123.25"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "10000000000000000"),
    ],
)
def test_float_display_matches_rust(value: float, text: str) -> None:
    assert format_float(value) == text
    assert str(S.floating(value)) == text


def test_scalar_display() -> None:
    assert str(S.string("x")) == '"x"'
    assert str(S.string('a"b')) == '"a"b"'  # raw, no escaping
    assert str(S.integer(10)) == "10"
    assert str(S.integer(-3)) == "-3"
    assert str(S.boolean(True)) == "true"
    assert str(S.boolean(False)) == "false"
    assert str(S.null()) == "null"


def test_scalar_equality_needs_the_same_kind() -> None:
    assert S.integer(1) != S.floating(1.0)
    assert S.boolean(True) != S.integer(1)
    assert S.integer(1) == S.integer(1)
    assert S.floating(1) == S.floating(1.0)
    assert S.floating(1).kind is ScalarKind.FLOAT
    assert hash(S.string("a")) == hash(S.string("a"))


def test_scalar_construction_is_strict() -> None:
    with pytest.raises(TypeError):
        S.integer(True)
    with pytest.raises(TypeError):
        S.integer(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64 signed bits"):
        S.integer(2**63)
    assert S.integer(-(2**63)).value == -(2**63)
    with pytest.raises(TypeError):
        S.floating(True)
    with pytest.raises(ValueError, match="finite"):
        S.floating(float("nan"))
    with pytest.raises(TypeError):
        S.boolean(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ScalarValue(ScalarKind.NULL, 0)


def test_scalar_of_picks_the_exact_type() -> None:
    assert S.of(True) == S.boolean(True)
    assert S.of(1) == S.integer(1)
    assert S.of(1.5) == S.floating(1.5)
    assert S.of("s") == S.string("s")
    assert S.of(None) == S.null()
    assert repr(S.of(1.5)) == "ScalarValue.floating(1.5)"
    assert repr(S.null()) == "ScalarValue.null()"


# --- field paths -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u2028"])
def test_blank_field_paths_are_rejected(text: str) -> None:
    with pytest.raises(EmptyFieldPath, match="field path must not be empty"):
        FieldPath(text)


def test_field_path_resolution() -> None:
    payload = {"account": {"type": "gold", "n": None}, "list": [1, 2], "": {"x": 1}}
    assert FieldPath("account.type").resolve(payload) == "gold"
    assert FieldPath("account.n").resolve(payload) is None
    assert FieldPath("account.missing").resolve(payload) is ABSENT
    assert FieldPath("account.type.deeper").resolve(payload) is ABSENT
    assert FieldPath("list.0").resolve(payload) is ABSENT  # no array indexing
    assert FieldPath(".x").resolve(payload) == 1  # empty segment is the key ""
    assert FieldPath("amount").resolve(None) is ABSENT
    assert FieldPath("amount").resolve(b"bytes") is ABSENT


# --- globs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("/api/v*/users", "/api/v2/users", True),
        ("/api/v*/users", "/api/v2/users/1", False),
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("?", "", False),
        ("?", "é", True),
        ("a*b*c", "abbbc", True),
        ("a*b*c", "acb", False),
        ("*.json", "x.json", True),
        ("[ab]", "a", False),  # no classes: brackets are literal
        ("[ab]", "[ab]", True),
        ("\\*", "\\x", True),  # no escapes: backslash is literal
    ],
)
def test_glob_matches(pattern: str, text: str, expected: bool) -> None:
    assert GlobPattern(pattern).matches(text) is expected


def _reference(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab*?", max_size=10))
def test_glob_agrees_with_a_regex_reference(pattern: str, text: str) -> None:
    assert GlobPattern(pattern).matches(text) is _reference(pattern, text)


def test_glob_is_not_exponential() -> None:
    pattern = GlobPattern("*a" * 30 + "*b")
    start = time.perf_counter()
    assert not pattern.matches("a" * 3000)
    assert time.perf_counter() - start < 5


# --- conditions and actions --------------------------------------------------------------


def test_condition_surfaces() -> None:
    path = FieldPath("a")
    assert FieldEq(path, S.integer(1)).surface is ConditionSurface.PAYLOAD
    assert FieldMatches(path, GlobPattern("*")).surface is ConditionSurface.PAYLOAD
    assert TagExists("k").surface is ConditionSurface.TAG
    assert SourceNode("n").surface is ConditionSurface.PROVENANCE
    assert HopCountGt(1).surface is ConditionSurface.PROVENANCE
    assert WorkflowIs("w").surface is ConditionSurface.EXECUTION_CONTEXT
    assert ExecutionMetadataEq("k", S.null()).surface is ConditionSurface.EXECUTION_CONTEXT
    assert And([]).surface is ConditionSurface.COMBINATOR
    assert Not(Always()).surface is ConditionSurface.COMBINATOR
    assert Never().surface is ConditionSurface.CONSTANT
    assert ConditionSurface.EXECUTION_CONTEXT.label == "execution_context"


def test_trace_descriptions() -> None:
    p = FieldPath("amount")
    v = S.integer(10000)
    cases = [
        (FieldEq(p, v), "amount == 10000"),
        (FieldNeq(p, S.string("x")), 'amount != "x"'),
        (FieldGt(p, v), "amount > 10000"),
        (FieldLt(p, S.floating(1.0)), "amount < 1"),
        (FieldGte(p, v), "amount >= 10000"),
        (FieldLte(p, v), "amount <= 10000"),
        (FieldIn(p, (S.integer(1), S.string("b"))), 'amount in [1, "b"]'),
        (FieldIn(p, ()), "amount in []"),
        (FieldExists(p), "amount exists"),
        (FieldAbsent(p), "amount absent"),
        (FieldMatches(p, GlobPattern("1*")), "amount matches 1*"),
        (TagEq("priority", S.string("high")), 'tag:priority == "high"'),
        (TagExists("k"), "tag:k exists"),
        (TagAbsent("k"), "tag:k absent"),
        (SourceNode("src"), "source_node == src"),
        (ArrivedOnPort("in"), "arrived_on == in"),
        (HopCountGt(3), "hop_count > 3"),
        (HopCountLte(3), "hop_count <= 3"),
        (WorkflowIs("flow"), "workflow == flow"),
        (ExecutionMetadataEq("env", S.boolean(True)), "exec_meta:env == true"),
        (And([Always(), Never(), TagExists("k")]), "(always AND never AND tag:k exists)"),
        (Or([Always(), Never()]), "(always OR never)"),
        (Not(Always()), "NOT (always)"),
        (Always(), "always"),
        (Never(), "never"),
    ]
    for condition, text in cases:
        assert condition.describe() == text


def test_walk_is_pre_order() -> None:
    a, b, c, d = (TagExists(k) for k in "abcd")
    tree = And([a, Or([b, Not(c)]), d])
    assert [x.describe() for x in tree.walk()] == [
        tree.describe(),
        "tag:a exists",
        "(tag:b exists OR NOT (tag:c exists))",
        "tag:b exists",
        "NOT (tag:c exists)",
        "tag:c exists",
        "tag:d exists",
    ]


def test_identifier_fields_are_validated() -> None:
    with pytest.raises(IdentifierError, match="node id must not contain whitespace"):
        SourceNode("bad node")
    with pytest.raises(IdentifierError):
        Route("")
    with pytest.raises(ValueError, match=r"0\.\.=4294967295"):
        HopCountGt(2**32)
    with pytest.raises(TypeError):
        HopCountLte(True)


def test_actions() -> None:
    assert str(Route("high-value-out")) == "Route(high-value-out)"
    assert str(Drop()) == "Drop"
    assert str(DeadLetter("bad")) == "DeadLetter(bad)"
    assert str(Tag("k", S.string("v"))) == 'Tag(k="v")'
    assert str(Tag("k", S.floating(2.0))) == "Tag(k=2)"
    assert str(Halt("stop")) == "Halt(stop)"
    assert [a.is_terminal for a in (Route("p"), Drop(), DeadLetter("r"), Halt("m"))] == [True] * 4
    assert not Tag("k", S.null()).is_terminal
    assert DEAD_LETTER_PORT == "dead_letter"


# --- rules and rule sets -----------------------------------------------------------------


def rule(rule_id: str, priority: int, action: object = None) -> Rule:
    return Rule(rule_id, Always(), action or Route("out"), priority)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "  ", "\u3000"])
def test_empty_ids_are_rejected(bad: str) -> None:
    with pytest.raises(EmptyRuleId, match=r"^rule id must not be empty$"):
        Rule(bad, Always(), Drop())
    with pytest.raises(EmptyRuleSetId, match=r"^rule set id must not be empty$"):
        RuleSet.new(bad, EvaluationStrategy.FIRST_MATCH, [], Drop())


def test_rules_are_stable_sorted_by_priority() -> None:
    rs = RuleSet.new(
        "rs",
        EvaluationStrategy.FIRST_MATCH,
        [rule("a", 20), rule("b", 10), rule("c", 30), rule("d", 10)],
        Drop(),
    )
    assert [r.id for r in rs.rules] == ["b", "d", "a", "c"]


@pytest.mark.parametrize("action", [Route("out"), Halt("x"), Drop(), DeadLetter("r")])
def test_all_matches_rejects_terminal_actions(action: object) -> None:
    with pytest.raises(AllMatchesTerminalAction) as info:
        RuleSet.new(
            "rs",
            EvaluationStrategy.ALL_MATCHES,
            [rule("tagger", 1, Tag("k", S.null())), rule("bad", 2, action)],
            Drop(),
        )
    assert info.value.rule_id == "bad"
    assert str(info.value) == (
        f"rule `bad` in AllMatches rule set uses terminal action `{action}`: "
        "AllMatches rules may only use Tag actions"
    )
    assert isinstance(info.value, RuleError)
    assert info.value.code == "rules.all_matches_terminal_action"


def test_all_matches_accepts_tags_and_any_default() -> None:
    rs = RuleSet.new(
        "rs", EvaluationStrategy.ALL_MATCHES, [rule("t", 1, Tag("k", S.null()))], Route("out")
    )
    assert rs.default_action == Route("out")


def test_first_match_accepts_every_action() -> None:
    actions = [Route("o"), Drop(), DeadLetter("r"), Tag("k", S.null()), Halt("m")]
    rules = [rule(f"r{i}", i, a) for i, a in enumerate(actions)]
    assert len(RuleSet.new("rs", EvaluationStrategy.FIRST_MATCH, rules, Drop()).rules) == 5


def test_strategy_labels() -> None:
    assert EvaluationStrategy.FIRST_MATCH.label == "first-match"
    assert EvaluationStrategy.ALL_MATCHES.record_label == "all_matches"
    assert EvaluationStrategy.SCORE.value == "Score"
