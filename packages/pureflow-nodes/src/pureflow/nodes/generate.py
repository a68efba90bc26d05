"""``sequence``: a range of integers, as control integers or formatted text."""

from __future__ import annotations

from pureflow.contract import Determinism, RetryDisposition
from pureflow.core import (
    ComponentConfigError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop

_CONTROL = PayloadKind.CONTROL


@component(
    name="sequence",
    inputs=[],
    outputs=["out"],
    determinism=Determinism.DETERMINISTIC,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "start": {"type": "integer", "default": 0},
            "stop": {"type": "integer", "description": "Exclusive, like Python's range."},
            "step": {"type": "integer", "default": 1, "not": {"const": 0}},
            "format": {
                "type": "string",
                "description": "Emit text: a str.format template such as `row {}` or "
                "`{:05d}`, given the number.",
            },
        },
        required=["stop"],
    ),
)
class Sequence:
    """Emit `start`, `start + step`, ... up to but not including `stop` (Python's range),
    as control integers, or as control strings through `format`.

    Stops early, without error, when every consumer of `out` has left.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.numbers = range(
            int(config.get("start", 0)), int(config["stop"]), int(config.get("step", 1))
        )
        template = config.get("format")
        self.template: str | None = None if template is None else str(template)
        if self.template is not None:
            try:
                self.template.format(0)
            except (IndexError, KeyError, ValueError) as err:
                raise ComponentConfigError(
                    f"`{self.template}` is not a template for one number: {err}",
                    location="/format",
                ) from None

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        template = self.template
        for number in self.numbers:
            value: int | str = number if template is None else template.format(number)
            if not await send_or_stop(out, out.packet(PacketPayload(_CONTROL, value))):
                return
