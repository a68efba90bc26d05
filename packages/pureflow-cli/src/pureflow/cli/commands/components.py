"""``pureflow components``: the components ``builtin:<name>`` can name."""

from __future__ import annotations

import click
from pureflow.cli.output import echo_text, pretty_json


@click.command("components", help="List the components available to `builtin:<name>`.")
@click.option("--json", "as_json", is_flag=True, help="Print every component's full spec.")
def command(*, as_json: bool) -> None:
    """The standard library plus components published under ``pureflow.components``."""
    from pureflow.cli.binding import component_catalog

    catalog, warnings = component_catalog()
    for warning in warnings:
        click.echo(warning, err=True)
    if as_json:
        echo_text(pretty_json({name: catalog[name].spec.to_json() for name in sorted(catalog)}))
        return
    width = max((len(name) for name in catalog), default=0)
    lines = []
    for name in sorted(catalog):
        spec = catalog[name].spec
        inputs = "any" if spec.inputs is None else ", ".join(spec.inputs) or "-"
        outputs = "any" if spec.outputs is None else ", ".join(spec.outputs) or "-"
        summary = spec.description.split(". ")[0].rstrip(".")
        lines.append(f"{name:<{width}}  in: {inputs:<4}  out: {outputs:<18}  {summary}")
    echo_text("\n".join(lines) + "\n" if lines else "")
