"""``pureflow help [COMMAND...]``: a command's help, as ``pureflow COMMAND --help`` shows it."""

from __future__ import annotations

import click


@click.command("help", help="Show the help of a command (`pureflow help run`), or of pureflow.")
@click.argument("names", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Walk from the root group to the named (sub)command and print its help; an unknown
    name is a usage error that lists the commands there are."""
    root = ctx.find_root()
    current: click.Context = root
    for name in names:
        group = current.command
        if not isinstance(group, click.Group):
            raise click.UsageError(f"`{current.command_path}` has no subcommands", ctx=ctx)
        found = group.get_command(current, name)
        if found is None:
            known = ", ".join(sorted(group.list_commands(current)))
            raise click.UsageError(f"no command `{name}`; commands: {known}", ctx=ctx)
        current = click.Context(found, info_name=name, parent=current)
    click.echo(current.get_help())
