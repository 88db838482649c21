"""The magics ``%load_ext kepler`` registers.

- one query magic per connector that declares a ``query_option`` (kepler-splunk's ``spl``):
  ``%%spl earliest=-24h out=df`` over the cell's query, ``%spl [options] query`` on one line.
  It reads through :func:`kepler.capabilities.read_data`, the same path as ``kp.data.read`` and
  the CLI's ``--spl``, so core names no connector;
- ``%kepler <command>``: any CLI command, run in this process;
- ``%kepler_debug on|off``: full tracebacks for Kepler errors, or the short form;
- the magics plugins yield from ``kepler_magics``.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import KeplerError
from . import args as magic_args
from .errors import DEBUG
from .summary import QueryResult

Magic = Callable[..., Any]


def query_magic(shell: Any, connector: str, option: str) -> Magic:
    """``%spl`` / ``%%spl`` for ``connector``: bind the rows to ``out`` (default ``df``) in the
    notebook and return a summary of them."""

    def magic(line: str, cell: str | None = None) -> QueryResult:
        from ..capabilities import read_data

        parsed = magic_args.parse(line, cell, shell.user_ns)
        started = time.perf_counter()
        frame = read_data(parsed.query, connector=connector, **parsed.options)
        shell.user_ns[parsed.out] = frame
        return QueryResult(frame, name=parsed.out, connector=connector,
                           seconds=time.perf_counter() - started)

    magic.__name__ = option
    magic.__doc__ = (
        f"Run a {connector} query; the rows go to a DataFrame (``out=``, default ``df``).\n\n"
        f"Cell: ``%%{option} earliest=-24h latest=now out=df cache=true chunks=4`` and the query "
        f"below it. Line: ``%{option} earliest=-1h <query>`` (put ``--`` before the query to pass "
        "other options). ``$name`` inserts a notebook variable; ``$$`` is a literal ``$``.")
    return magic


def kepler_magic(line: str) -> None:
    """``%kepler plugins list``: run a ``kepler`` command in this process.

    Click's exits never reach the kernel: a usage error or a non-zero status fails the cell
    with the CLI's own message; a Kepler error shows its message and hint."""
    import click

    from ..cli.main import cli
    from ..selection import isolated

    argv = shlex.split(line)
    try:
        with isolated():
            code = cli.main(args=argv, prog_name="kepler", standalone_mode=False)
    except click.exceptions.Abort:
        raise KeplerError("Aborted.") from None
    except click.ClickException as exc:
        raise KeplerError(f"kepler {line}: {exc.format_message()}",
                          hint="'%kepler --help' lists the commands.") from None
    except SystemExit as exc:  # a command calling sys.exit() itself
        code = exc.code
    if isinstance(code, int) and code != 0:
        raise KeplerError(f"'kepler {line}' exited with status {code}.")


def debug_magic(line: str) -> str:
    """``%kepler_debug on|off``: full tracebacks for Kepler errors (on) or message and hint."""
    word = line.strip().lower()
    if word in ("on", "1", "true"):
        DEBUG.on = True
    elif word in ("off", "0", "false"):
        DEBUG.on = False
    elif word:
        raise KeplerError(f"%kepler_debug takes on or off, not {line.strip()!r}.")
    return f"Kepler debug {'on: full tracebacks' if DEBUG.on else 'off: message and hint only'}."


def contributed(shell: Any) -> Iterator[tuple[str, str, Magic]]:
    """(kind, name, function) of every magic to register: core's, then each connector's query
    magic, then the plugins' own (a plugin's magic wins over core's of the same name)."""
    from ..capabilities import query_options
    from ..plugins import get_host
    from ..records import MagicSpec, import_string

    yield "line", "kepler", kepler_magic
    yield "line", "kepler_debug", debug_magic
    # Installed connectors' options, and the catalogue's first-party ones: %%spl without
    # kepler-splunk then says what to pip install instead of "magic not found".
    for option, connector in query_options().items():
        if option.isidentifier():
            yield "line_cell", option, query_magic(shell, connector, option)
    for record in get_host().records(MagicSpec):
        yield record.magic_kind, record.name, import_string(record.target)


def register(shell: Any) -> list[str]:
    """Register every magic on ``shell``; returns their names (``%spl``, ``%%spl``...)."""
    from IPython.core.magic import no_var_expand

    names = []
    for kind, name, function in contributed(shell):
        shell.register_magic_function(no_var_expand(function), magic_kind=kind,
                                      magic_name=name)
        names.append(("%%" if kind == "cell" else "%") + name)
    return names


__all__ = ["contributed", "debug_magic", "kepler_magic", "query_magic", "register"]
