"""``kepler init NAME --template …``: the five templates kepler-env contributes through core's
``kepler_project_templates`` hook. The notebooks are validated against the nbformat schema and
every code cell compiles; they are not executed here (they need kepler-splunk-testing's server)."""

from __future__ import annotations

import json

import kepler as kp
import nbformat
import pytest
from kepler.api import ProjectTemplateSpec, records
from kepler_env.plan import plan_for
from kepler_env.sources import read_requirements

TEMPLATES = ("classification", "regression", "anomaly", "forecasting", "deep-learning")


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_writes_a_complete_project(kepler_cli, tmp_path, template):
    result = kepler_cli("init", "pump-study", "--template", template, "--dir", str(tmp_path),
                        "--no-git")
    assert result.code == 0, result.err
    root = tmp_path / "pump-study"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "kepler.yml", f"notebooks/01-{template}.ipynb",
        "requirements-dev.txt", "requirements.txt"]
    # kepler.yml: dev/staging/prod, Splunk by secret reference, the env section validates.
    config = kp.config.load(env="prod", project=root)
    assert config.section("env").install_kepler is True
    assert config.layered.values["splunk"]["token"] == "${secret:splunk-token}"
    assert config.source_of("splunk.host").endswith("[environments.prod]")
    # Requirements per environment: dev adds its own file, prod never gets it.
    dev = plan_for(root, env="dev")
    prod = plan_for(root, env="prod")
    assert [p.name for p in dev.requirement_files] == ["requirements.txt", "requirements-dev.txt"]
    assert [p.name for p in prod.requirement_files] == ["requirements.txt"]
    names = {line.name for line in read_requirements(prod.requirement_files, root) if line.name}
    assert {"pandas", "scikit-learn"} <= names and "ipykernel" not in names
    assert ("torch" in names) == (template == "deep-learning")
    # The notebook is valid nbformat 4 and every code cell is valid Python.
    text = (root / "notebooks" / f"01-{template}.ipynb").read_text()
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for number, source in enumerate(code):
        compile(source, f"cell {number}", "exec")
    joined = "\n".join(code)
    assert "from kepler_splunk_testing import SplunkTestServer, generate_sensor_data" in joined
    assert "pip install kepler-splunk-testing" in joined
    assert "kp.data.from_splunk(" in joined and "server.stop()" in joined
    assert json.loads(text)["metadata"]["kernelspec"]["name"] == "pump-study"
    readme = (root / "README.md").read_text()
    assert "kepler env create" in readme and "kepler env sync --locked --env prod" in readme


def test_templates_are_listed_with_their_plugin(kepler_cli):
    found = {r.name: r for r in records(ProjectTemplateSpec)}
    assert set(TEMPLATES) <= set(found)
    assert {found[t].distribution for t in TEMPLATES} == {"kepler-env"}
    listing = kepler_cli("init", "x", "--list-templates")
    assert all(t in listing.out for t in TEMPLATES)


def test_rendering_is_deterministic(tmp_path):
    from kepler.api import TemplateContext
    from kepler_env.templates import render_anomaly

    context = TemplateContext(name="plant", kepler_version="0.1.0")
    assert render_anomaly(context) == render_anomaly(context)
