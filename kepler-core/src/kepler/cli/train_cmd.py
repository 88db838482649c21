"""``kepler train ALGORITHM --data FILE --target COLUMN``: one command per installed trainer.

The group's subcommands are every algorithm a plugin registers with ``kepler_trainers``, each
given the same generic options, plus any command a plugin adds explicitly with
``CommandSpec(parent="train", ...)`` (kepler-torch's ``kepler train pytorch`` with its
``--epochs``); an explicit command wins over the generic one of the same name. Listing and
``--help`` read only the records, so they import no framework.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..records import TrainerSpec
from .lazy import LazyGroup

_Command = TypeVar("_Command", bound=Callable[..., Any])

#: Option names of ``kepler train`` a connector's query shorthand may not take.
RESERVED_OPTIONS = frozenset({
    "data", "connector", "query", "earliest", "latest", "target", "features", "task",
    "test-size", "split", "time-column", "cv", "random-state", "name", "param", "save", "json",
    "groups", "force", "per-group", "executor", "min-rows",
    "help"})


def _trainer_records() -> list[Any]:
    from ..plugins import get_host

    return get_host().records(TrainerSpec)


class TrainGroup(LazyGroup):
    """``kepler train``: explicit ``parent="train"`` commands, then one generic command per
    trainer record."""

    def _entries(self) -> dict[str, tuple[str, list[Any]]]:
        entries = super()._entries()
        for record in _trainer_records():
            if record.name in entries and not _is_trainer(entries[record.name][1]):
                continue  # an explicit command of the same name wins
            tasks = ", ".join(record.tasks)
            origin = record.framework or record.distribution
            help_text = record.description or f"{origin}" + (f" ({tasks})" if tasks else "")
            _, found = entries.get(record.name, (help_text, []))
            entries[record.name] = (help_text, [*found, record])
        return entries

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self._entries().get(cmd_name)
        if entry is None:
            raise _unknown_algorithm(cmd_name, sorted(self._entries()))
        _, records = entry
        if not _is_trainer(records):
            return super().get_command(ctx, cmd_name)
        if len(records) > 1:
            from ..plugins.manager import conflict

            raise conflict(records)
        return generic_command(records[0])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self._entries():
            with formatter.section("Commands"):
                from ..catalogue import install_hint

                formatter.write_text("No trainer plugin is installed. "
                                     + install_hint("trainers"))
            return
        super().format_commands(ctx, formatter)


def _unknown_algorithm(name: str, known: list[str]) -> Exception:
    """A typo is a usage error with the closest name; a first-party algorithm whose plugin is
    missing or disabled says what to install or enable (in CLI words, not the SDK's)."""
    import difflib

    from ..catalogue import provider
    from ..sdk import missing

    if provider("trainers", name) is not None:
        return missing("train", name, known, label=f"kepler train {name}")
    close = difflib.get_close_matches(name, known, n=1)
    return click.UsageError(
        f"No algorithm named {name!r}." + (f" Did you mean {close[0]!r}?" if close else "")
        + " 'kepler train --help' lists the installed ones.")


def _is_trainer(records: list[Any]) -> bool:
    return bool(records) and all(isinstance(r, TrainerSpec) for r in records)


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, each value read as YAML: ``200`` -> int, ``0.1`` -> float,
    ``true`` -> bool, ``null`` -> None, ``[1, 2]`` -> list, anything else a string."""
    import yaml

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE (e.g. n_estimators=200).",
                                     param_hint="'--param'")
        try:
            params[key] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            params[key] = raw
    return params


def load_data(data: Path | None, connector: str | None, query: str | None,
              earliest: str | None, latest: str | None) -> Any:
    """The training data of a ``kepler train`` command, always read through a connector:
    ``--data FILE`` is the ``file`` connector, ``--connector NAME --query TEXT`` (or a
    connector's shorthand such as ``--spl TEXT``) any other."""
    from ..capabilities import read_data

    if (data is None) == (query is None):
        raise click.UsageError("Give the training data with exactly one of --data FILE or "
                               "--query TEXT (with --connector NAME, or a shorthand such as "
                               "--spl).")
    if data is not None:
        if earliest or latest or connector:
            raise click.UsageError("--connector, --earliest and --latest go with --query.")
        return read_data(str(data), connector="file")
    assert query is not None
    return read_data(query, connector=connector, earliest=earliest, latest=latest)


def _query_shorthands() -> dict[str, str]:
    """``--spl`` and the like: an option name per connector that declares one."""
    from ..capabilities import query_options

    return {option: connector for option, connector in query_options().items()
            if option not in RESERVED_OPTIONS and option.replace("-", "_").isidentifier()}


def training_options(*, split_default: str | None = "auto",
                     split_help: str = "time: hold out the newest rows; auto: time when the data "
                     "has a time column (_time), else random."
                     ) -> Callable[[_Command], _Command]:
    """The options every ``kepler train NAME`` command takes, as one decorator.

    A plugin's explicit command (``CommandSpec(parent="train", name=...)``) stacks its own
    options on top and hands everything to :func:`run_training`, so its data, split, registry
    and output options are exactly those of the generic commands::

        @click.command(name="pytorch")
        @click.option("--epochs", type=int, default=20)
        @training_options()
        def pytorch(epochs, **options):
            run_training("pytorch", options, epochs=epochs)
    """
    decorators = [
        click.option("--data", "data",
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Training data: .parquet, .csv, .json or .jsonl."),
        click.option("--connector", metavar="NAME", help="Or: pull the data with this connector "
                     "('kepler plugins list'; default: data.connector, or the only one)."),
        click.option("--query", metavar="TEXT", help="With --connector: its query (SPL, SQL, "
                     "a URL...)."),
        *(click.option(f"--{option}", metavar="TEXT", help=f"Shorthand for --connector "
                       f"{connector} --query TEXT.")
          for option, connector in sorted(_query_shorthands().items())),
        click.option("--earliest", help="With --query: earliest time (-7d, @d, ISO 8601...)."),
        click.option("--latest", help="With --query: latest time."),
        click.option("--target", help="The column to predict (optional for anomaly/clustering)."),
        click.option("--features", help="Comma-separated input columns (default: all others)."),
        click.option("--task", default="auto", show_default=True,
                     help="classification, regression, anomaly, clustering, or auto."),
        click.option("--test-size", type=float, default=0.2, show_default=True,
                     help="Fraction of rows held out for the metrics."),
        click.option("--split", type=click.Choice(["auto", "random", "time", "group"]),
                     default=split_default, show_default=split_default is not None,
                     help=split_help),
        click.option("--time-column", help="With --split time: the timestamp column (default: "
                     "_time or the only datetime column)."),
        click.option("--cv", type=click.IntRange(min=2), help="Cross-validate with N folds."),
        click.option("--random-state", type=int, default=0, show_default=True),
        click.option("--name", help="Registry name (default: <target>-<algorithm>)."),
        click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="An algorithm parameter, e.g. --param n_estimators=300."),
        click.option("--groups", metavar="COLUMN", help="Keep each value of COLUMN wholly in "
                     "training or held out (a pump, a plant); implies --split group."),
        click.option("--per-group", "per_group", metavar="COLUMN", help="Train one model per "
                     "value of COLUMN (an asset, a line) and save them as one model group "
                     "(kp.train.per_group)."),
        click.option("--executor", metavar="NAME", help="With --per-group: where the groups "
                     "train: local (default), dask, dask://scheduler:8786."),
        click.option("--min-rows", "min_rows", type=click.IntRange(min=2), help="With "
                     "--per-group: skip groups with fewer rows (default: 30)."),
        click.option("--force", is_flag=True, help="Save a new version even when an identical "
                     "one (same data, algorithm, parameters) is in the registry."),
        click.option("--save/--no-save", default=True, show_default=True,
                     help="Save the model as the next version in the registry."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print the model's summary as JSON."),
    ]

    def apply(command: _Command) -> _Command:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def run_training(trainer: str, options: dict[str, Any], **keywords: Any) -> Any:
    """Load the data the :func:`training_options` name, train ``kp.train.<trainer>`` with them
    plus ``keywords`` (the command's own options; ``--param`` pairs come on top), print the
    report and return the model."""
    import kepler as kp

    options = dict(options)
    extra = parse_params(options.pop("params", ()))
    time_column = options.pop("time_column", None)
    if time_column:
        extra["time_column"] = time_column
    connector, query = options.pop("connector", None), options.pop("query", None)
    for option, named in _query_shorthands().items():
        text = options.pop(option.replace("-", "_"), None)
        if text is not None:
            if query is not None:
                raise click.UsageError(f"Give one query: --{option} repeats --query.")
            connector, query = named, text
    frame = load_data(options.pop("data", None), connector, query,
                      options.pop("earliest", None), options.pop("latest", None))
    features = options.pop("features", None)
    as_json = options.pop("as_json", False)
    for optional in ("groups", "force"):  # passed only when given: not every trainer takes them
        if not options.get(optional):
            options.pop(optional, None)
    if options.get("split") is None:
        options.pop("split", None)  # the trainer's own default
    clashes = sorted(set(extra) & (set(keywords) | set(options)))
    if clashes:
        raise click.UsageError(f"--param {clashes[0]}=... repeats an option of this command; "
                               f"use --{clashes[0].replace('_', '-')} instead.")
    train = getattr(kp.train, trainer)
    grouping = _grouping(options)
    if grouping:
        train = functools.partial(kp.train.per_group, by=grouping.pop("by"), algorithm=trainer,
                                  **grouping)
    model = train(frame, features=[f.strip() for f in features.split(",") if f.strip()]
                  if features else None, **options, **keywords, **extra)
    report(model, as_json=as_json)
    return model


def _grouping(options: dict[str, Any]) -> dict[str, Any]:
    """Pop ``--per-group``, ``--executor`` and ``--min-rows`` from ``options``: the keywords of
    ``kp.train.per_group`` when ``--per-group`` is given, else {} (and the others refused)."""
    by = options.pop("per_group", None)
    given = {k: v for k in ("executor", "min_rows") if (v := options.pop(k, None)) is not None}
    if by is None:
        if given:
            flag = "--" + next(iter(given)).replace("_", "-")
            raise click.UsageError(f"{flag} works with --per-group COLUMN only.")
        return {}
    return {"by": by, **given}


def generic_command(record: Any) -> click.Command:
    """The ``kepler train NAME`` command for a trainer record, with the generic options."""
    tasks = ", ".join(record.tasks) or "any"

    @click.command(name=record.name, help=f"{record.description or 'Train ' + record.name}\n\n"
                   f"Tasks: {tasks}. Framework: {record.framework or record.distribution}. "
                   "Algorithm parameters go in --param KEY=VALUE (repeatable).")
    @training_options()
    def command(**options: Any) -> None:
        run_training(record.name, options)

    return command


def report(model: Any, *, as_json: bool = False) -> None:
    """Print what was trained, its metrics against the naive baseline, and where it is saved."""
    from ..metrics import BASELINE_LABEL
    from .output import echo_json, echo_table

    info = model.info()
    if as_json:
        echo_json(info)
        return
    training = info["training"]
    evaluated = (f"{training['cv']}-fold cross-validation" if training["evaluated_on"] == "cv"
                 else f"{training['rows_test']} held-out rows (split: {training['split']})")
    target = f", target {info['target']!r}" if info["target"] else ""
    click.echo(f"Trained {info['algorithm']} ({info['task']}{target}) on "
               f"{training['rows_train']} rows in {training['seconds']:.2f} s; "
               f"metrics on {evaluated}.")
    for note in training.get("notes", []):
        click.secho(f"Note: {note}", fg="yellow")
    main = info["main_metric"]
    rows = []
    for metric in sorted(info["metrics"], key=lambda m: (m != main, m)):
        base = info["baseline"].get(metric)
        rows.append((metric + (" (main)" if metric == main else ""),
                     f"{info['metrics'][metric]:.4g}", "" if base is None else f"{base:.4g}"))
    if rows:
        click.echo()
        echo_table(("metric", "model", f"baseline: {BASELINE_LABEL.get(info['task'], 'naive')}"),
                   rows)
    verdict = info["beats_baseline"]
    if verdict is not None:
        click.echo()
        if verdict:
            click.echo(f"The model beats the naive baseline on {main}.")
        else:
            click.secho(f"Warning: the model does NOT beat the naive baseline on {main}.",
                        fg="yellow")
    click.echo()
    if info.get("identical_to") is not None:
        click.echo(f"Identical to {info['name']} version {info['version']} (same data, "
                   f"algorithm and parameters): not saved again; --force saves a new version.")
    elif info["path"]:
        click.echo(f"Saved as {info['name']} version {info['version']}: {info['path']}")
    else:
        click.echo(f"Not saved (--no-save); it would be saved as {info['name']!r}.")


@click.group(cls=TrainGroup, path="train", invoke_without_command=False)
def train() -> None:
    """Train a model: kepler train ALGORITHM --data FILE --target COLUMN.

    Every installed algorithm is a subcommand; 'kepler train ALGORITHM --help' shows its options.
    Metrics are computed on held-out rows against a naive baseline, and the model is saved as
    the next version in the registry ('kepler models list').
    """
