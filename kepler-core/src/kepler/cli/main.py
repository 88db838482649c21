"""``kepler``: the root command, global options and error reporting.

Errors Kepler raises on purpose print as ``Error: ...`` plus ``Hint: ...`` and exit with the
error's code (see :mod:`kepler.errors`); ``--debug`` (or ``KEPLER_DEBUG=1``) adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from .._version import __version__
from ..errors import EXIT_ERROR, EXIT_INTERRUPTED, KeplerError
from .lazy import LazyGroup


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kepler")
@click.option("--env", "env", metavar="NAME", envvar="KEPLER_ENV",
              help="Configuration environment (dev, staging, prod...). Env: KEPLER_ENV.")
@click.option("--project", "project", metavar="PATH", type=click.Path(file_okay=False),
              help="Project folder (default: nearest kepler.yml upward). Env: KEPLER_PROJECT.")
@click.option("--log-level", "log_level", metavar="LEVEL",
              help="DEBUG, INFO, WARNING, ERROR or CRITICAL. Env: KEPLER_LOG_LEVEL.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(env: str | None, project: str | None, log_level: str | None, debug: bool) -> None:
    """Kepler: your SPL in, any Python model out, shipped with one command.

    Installed plugins add commands below; 'kepler plugins list' shows them.
    """
    # Passed down explicitly (kepler.selection), never by writing os.environ: every
    # configuration load in this command, core's or a plugin's, sees the same choice.
    from .. import logs, selection

    selection.choose(env=env, project=project)

    logs.configure(log_level)


def _report(exc: KeplerError, debug: bool) -> int:
    from ..logs import redact

    if debug:
        traceback.print_exc()
    click.secho(f"Error: {redact(exc.message)}", fg="red", err=True)
    if exc.hint:
        click.echo(f"Hint: {redact(exc.hint)}", err=True)
    return exc.exit_code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KEPLER_DEBUG", "") not in ("", "0")
    from ..selection import isolated

    try:
        with isolated():
            result = cli.main(args=args, prog_name="kepler", standalone_mode=False)
    except KeplerError as exc:
        return _report(exc, debug)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, never hide it
        if debug:
            traceback.print_exc()
        click.secho(f"Unexpected error: {type(exc).__name__}: {exc}", fg="red", err=True)
        click.echo("Hint: rerun with --debug for the traceback and report it.", err=True)
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
