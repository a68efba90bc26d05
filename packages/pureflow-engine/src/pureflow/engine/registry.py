"""Which executor runs which node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from pureflow.core import ExecutionError, NodeExecutor, RuleNode
from pureflow.workflow import NodeDefinition


@runtime_checkable
class ExecutorRegistry(Protocol):
    """Finds the executor for a node; raises :class:`MissingExecutor` when there is none."""

    def executor_for(self, node: NodeDefinition) -> NodeExecutor: ...


class MissingExecutor(ExecutionError):
    """No executor is registered for a workflow node (reported before any node starts)."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"no executor registered for workflow node `{node_id}`")


class MappingRegistry:
    """Exact lookup by node id; entries for nodes the workflow lacks are ignored.

    A node with a rule set (:attr:`~pureflow.workflow.NodeDefinition.rule_set`) that the
    mapping does not name runs its rules (:class:`~pureflow.core.RuleNode`), before the
    fallback is considered.
    """

    __slots__ = ("_executors", "_fallback")

    def __init__(
        self, executors: Mapping[str, NodeExecutor], fallback: NodeExecutor | None = None
    ) -> None:
        self._executors = dict(executors)
        self._fallback = fallback

    def executor_for(self, node: NodeDefinition) -> NodeExecutor:
        executor = self._executors.get(node.id)
        if executor is None and node.rule_set is not None:
            executor = RuleNode(node.rule_set)
        if executor is None:
            executor = self._fallback
        if executor is None:
            raise MissingExecutor(node.id)
        return executor


class SingleExecutorRegistry:
    """One executor for every node (it dispatches on ``ctx.node_id``)."""

    __slots__ = ("_executor",)

    def __init__(self, executor: NodeExecutor) -> None:
        self._executor = executor

    def executor_for(self, node: NodeDefinition) -> NodeExecutor:  # noqa: ARG002
        return self._executor


def as_registry(
    executors: ExecutorRegistry | Mapping[str, NodeExecutor] | NodeExecutor,
) -> ExecutorRegistry:
    """Accept a registry, a mapping of node id to executor, or one shared executor."""
    if isinstance(executors, Mapping):
        return MappingRegistry(executors)
    if isinstance(executors, ExecutorRegistry) and not isinstance(executors, NodeExecutor):
        return executors
    return SingleExecutorRegistry(executors)
