"""The text files of an edge bundle: Dockerfile, systemd unit, the device's README."""

from __future__ import annotations

from typing import Any


def dockerfile(python: str, wheels: bool, env: dict[str, str]) -> str:
    """An image of the runner; with wheels in the bundle it builds without network."""
    install = ("pip install --no-cache-dir --no-index --find-links /bundle/wheels "
               "-r /bundle/requirements.txt" if wheels else
               "pip install --no-cache-dir -r /bundle/requirements.txt")
    lines = [f"FROM python:{python}-slim",
             "WORKDIR /bundle",
             "COPY . /bundle",
             f"RUN {install} && useradd --system --home /bundle edge && "
             "mkdir -p /var/lib/kepler-edge && chown edge /var/lib/kepler-edge",
             "USER edge",
             "ENV KEPLER_EDGE__SPOOL_DIR=/var/lib/kepler-edge/spool",
             *[f"ENV {k}={v}" for k, v in sorted(env.items())],
             "VOLUME /var/lib/kepler-edge",
             "EXPOSE 8080",
             'CMD ["python", "/bundle/runner.py", "--port", "8080"]']
    return "\n".join(lines) + "\n"


def systemd_unit(name: str, env: dict[str, str]) -> str:
    """A unit that restarts the runner and keeps its spool under /var/lib (StateDirectory):
    predictions spooled before a crash or reboot are sent after it."""
    lines = ["[Unit]", f"Description=Kepler edge runner for {name}",
             "After=network-online.target", "Wants=network-online.target", "",
             "[Service]", "Type=simple", "DynamicUser=yes", "StateDirectory=kepler-edge",
             "WorkingDirectory=/opt/kepler-edge",
             "Environment=KEPLER_EDGE__SPOOL_DIR=/var/lib/kepler-edge/spool",
             *[f"Environment={k}={v}" for k, v in sorted(env.items())],
             "# KEPLER_SPLUNK__HEC_URL and KEPLER_SPLUNK__HEC_TOKEN: put them in this file",
             "EnvironmentFile=-/etc/kepler-edge/env",
             "ExecStart=/opt/kepler-edge/venv/bin/python /opt/kepler-edge/runner.py --port 8080",
             "Restart=always", "RestartSec=2", "",
             "[Install]", "WantedBy=multi-user.target"]
    return "\n".join(lines) + "\n"


def device_readme(manifest: dict[str, Any], platform: str, python: str, wheels: bool) -> str:
    """How to install and run the bundle on the device, with this model's inputs."""
    install = ("pip install --no-index --find-links wheels -r requirements.txt" if wheels
               else "pip install -r requirements.txt")
    features = "\n".join(f"- `{f['name']}`: {f['kind']}"
                         + (" (required)" if f["required"] else "")
                         for f in manifest["features"])
    example = {f["name"]: (f["categories"] or ["a"])[0] if f["dtype"] == "string" else 0.0
               for f in manifest["features"]}
    return f"""# {manifest['name']} (version {manifest.get('version')}) at the edge

Built for `{platform}`, Python {python}. Needs nothing but this folder: no network.

## Install

    python{python} -m venv venv
    venv/bin/{install}

## Run

    venv/bin/python runner.py --port 8080
    curl -s localhost:8080/predict -H 'Content-Type: application/json' \\
      -d '{{"instances": [{_json(example)}]}}'

Batch: `venv/bin/python runner.py --input rows.csv --output predictions.jsonl` (CSV or JSON
Lines either way).

The runner checks the sha256 of every file against `kepler-model.json` before loading and
refuses a changed bundle (exit code 3).

## Predictions to Splunk

    export KEPLER_SPLUNK__HEC_URL=https://splunk.example.com:8088
    export KEPLER_SPLUNK__HEC_TOKEN=...          # KEPLER_SPLUNK__HEC_ACK=true for acks

Every prediction is written to a spool on disk (`KEPLER_EDGE__SPOOL_DIR`, default `spool/`
here) before it is answered, then forwarded to HEC in order, with its `row_id`. While HEC is
unreachable the spool grows up to `KEPLER_EDGE__SPOOL_MAX_BYTES` (then
`KEPLER_EDGE__SPOOL_POLICY`: `drop-oldest` or `drop-newest`, with a warning); after a restart
the runner sends what is left.

## As a service

`kepler-edge.service` (systemd; copy this folder to /opt/kepler-edge first) or the
`Dockerfile` (`docker build -t {manifest['name']}-edge .`).

## Inputs

{features}
"""


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
