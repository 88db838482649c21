"""``kepler models add-code``: ``kp.models.from_code`` on the command line.

Importing this module imports neither pandas nor the user's code; both load when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from kepler.api import echo_json

from .sdk import TASKS


def _artifact_pairs(pairs: tuple[str, ...]) -> dict[str, Path]:
    artifacts: dict[str, Path] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=FILE (e.g. params=ols.json).",
                                     param_hint="'--artifact'")
        artifacts[key.strip()] = Path(value.strip())
    return artifacts


@click.command(name="add-code", help="""Register a model from code: PATH is a .py file or a
package folder defining a class with load(self, artifacts) and predict(self, frame).

\b
  kepler models add-code pump_ols.py --name pump-temperature \\
      --artifact params=ols.json --requirement 'statsmodels>=0.14' \\
      --input-example sample.csv

The code and artifacts are copied into a normal Kepler artifact and loaded by importing the
stored code, never by unpickling; kepler serve, deploy and predict run it like any model.""")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="Registry name; each run adds a version.")
@click.option("--input-example", "example", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A few rows (.parquet, .csv, .jsonl): the features the model reads.")
@click.option("--artifact", "artifacts", multiple=True, metavar="KEY=FILE",
              help="A file or folder load() receives as artifacts[KEY] (repeatable).")
@click.option("--requirement", "requirements", multiple=True, metavar="SPEC",
              help="A pip requirement the code imports, e.g. 'statsmodels>=0.14' (repeatable).")
@click.option("--class", "class_name", help="The model class, when the code defines several.")
@click.option("--task", type=click.Choice(TASKS),
              help="Default: classification with predict_proba, else regression.")
@click.option("--target", help="What the model predicts (shown in listings).")
@click.option("--description", default="", help="One line about the model.")
@click.option("--json", "as_json", is_flag=True, help="Print the model's summary as JSON.")
def add_code(path: Path, name: str, example: Path, artifacts: tuple[str, ...],
             requirements: tuple[str, ...], class_name: str | None, task: str | None,
             target: str | None, description: str, as_json: bool) -> None:
    from .sdk import from_code

    model: Any = from_code(path, name=name, input_example=example,
                           artifacts=_artifact_pairs(artifacts), requirements=requirements,
                           class_name=class_name, task=task, target=target,
                           description=description)
    if as_json:
        echo_json(model.info())
        return
    click.echo(f"Registered {model.name} version {model.version} ({model.algorithm}, "
               f"{model.task}) from {path}: {len(model.manifest.files)} files, "
               f"{len(model.features)} features.")
    click.echo(f"Load it: kp.models.load({model.name!r}); serve it: kepler serve {model.name}")
