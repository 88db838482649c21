"""Click groups whose commands come from plugin records and are imported only when run.

Kedro's ``LazyGroup`` idea, driven by ``kepler_commands`` records: ``kepler --help`` prints each
command's one-line help from its record without importing the command's module. A record with
``parent="data"`` lands in a ``kepler data`` group that exists as soon as one plugin adds to it.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import PluginConflictError
from ..records import CommandSpec


def _command_records() -> list[Any]:
    from ..plugins import get_host

    return get_host().records(CommandSpec)


def _builtin_commands() -> dict[str, Any]:
    from ..builtin import plugin

    return {record.name: record for record in plugin.kepler_commands()}


class LazyGroup(click.Group):
    """A group listing the commands that plugins declare under ``path``."""

    def __init__(self, *args: Any, path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path = path

    def _entries(self) -> dict[str, tuple[str, list[Any]]]:
        """name -> (one-line help, records): commands here, and child groups on demand.

        ``parent`` is a command path (``"data"``, ``"secrets rotate"``): a record whose parent
        lies below this group makes the next word of that path a group here.
        """
        here = tuple(self.path.split()) if self.path else ()
        entries: dict[str, tuple[str, list[Any]]] = {}
        for record in _command_records():
            parent = tuple(record.parent.split()) if record.parent else ()
            if parent == here:
                help_text, found = entries.get(record.name, (record.help, []))
                entries[record.name] = (help_text, [*found, record])
        for record in _command_records():
            parent = tuple(record.parent.split()) if record.parent else ()
            if len(parent) > len(here) and parent[: len(here)] == here:
                child = parent[len(here)]
                if child not in entries:
                    label = " ".join((*here, child))
                    from ..namespaces import NAMESPACES

                    known = NAMESPACES.get(label)
                    entries[child] = (known.cli if known else "Commands from plugins.", [])
        return entries

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self._entries()) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if self.path is None and cmd_name in _builtin_commands():
            # Core's own commands resolve without loading any plugin, so 'kepler plugins
            # disable X' works even when plugin X crashes or hangs on import.
            from ..records import import_string

            command: click.Command = import_string(_builtin_commands()[cmd_name].target)
            return command
        entry = self._entries().get(cmd_name)
        if entry is None:
            return self._not_installed(cmd_name)
        help_text, records = entry
        if len(records) > 1:
            from ..plugins.manager import conflict

            raise conflict(records)
        if not records:
            path = " ".join((*(self.path.split() if self.path else ()), cmd_name))
            return LazyGroup(name=cmd_name, help=help_text, path=path)
        from ..records import import_string

        loaded = import_string(records[0].target)
        if not isinstance(loaded, click.Command):
            raise PluginConflictError(
                f"{records[0].target} (from {records[0].distribution}) is not a click command.",
                hint="A CommandSpec target must point at a click.Command or click.Group.",
            )
        return loaded

    def _not_installed(self, cmd_name: str) -> click.Command | None:
        """A first-party command whose plugin is missing or disabled says which and how to get
        it (click's "No such command" otherwise)."""
        from ..catalogue import provider
        from ..sdk import missing

        path = " ".join((*(self.path.split() if self.path else ()), cmd_name))
        if provider("commands", path) is None:
            from ..catalogue import command_paths

            if any(known.startswith(path + " ") for known in command_paths()):
                # a group only missing plugins fill: let its subcommand say what is missing
                return LazyGroup(name=cmd_name, path=path)
            return None
        error = missing("commands", path, [], label=f"kepler {path}")
        raise error

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (help_text, _) in sorted(self._entries().items())]
        rows += [(n, c.get_short_help_str()) for n, c in sorted(self.commands.items())]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
