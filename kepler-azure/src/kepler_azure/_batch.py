"""Batch scoring on Azure Container Instances: ``kepler predict MODEL --target azure-aci``.

The model's image runs ``kepler predict /app/model ... --json`` in a container group with
``restartPolicy: Never``, so the group stops when the batch is done (and costs nothing after).
An input file travels as a secret volume (base64 in the request, mounted read-only; a few MiB at
most); bigger data is read inside the container by a connector (``--query``) and results go out
through a sink (``--sink splunk-hec``), passed on as ``args``. The group is kept, stopped, so
its log stays readable: ``az container logs``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import time
from pathlib import Path
from typing import Any

from kepler.api import DeploymentError

from .aci import INPUT_MOUNT, MAX_INPUT_BYTES, MODEL_IN_IMAGE, AciDeployer
from .clients import Azure, as_dict
from .errors import AzureTimeoutError

#: Keys of a batch's config besides the azure section's fields and the deploy options.
BATCH_KEYS = ("input", "args")


def _input_volume(path: str | None) -> tuple[list[str], dict[str, str] | None]:
    if not path:
        return [], None
    source = Path(path)
    data = source.read_bytes()
    if len(data) > MAX_INPUT_BYTES:
        raise DeploymentError(
            f"{source} is {len(data) / 2**20:.1f} MiB; a Container Instances batch carries "
            f"at most {MAX_INPUT_BYTES // 2**20} MiB in its request.",
            hint="Let the container read the data itself: --query (a connector) instead of "
            "--input.")
    filename = source.name
    return ["--input", f"{INPUT_MOUNT}/{filename}"], {filename: base64.b64encode(data).decode()}


def run_batch(deployer: AciDeployer, name: str, model: str, config: dict[str, Any]
              ) -> dict[str, Any]:
    """Run the batch and wait for it to end; return its report (group, state, exit code, log
    lines). A non-zero exit raises :class:`DeploymentError` with the log's tail."""
    from kepler.api import read_manifest

    batch = {k: config.pop(k) for k in BATCH_KEYS if k in config}
    settings, extra = deployer._resolve(config)
    azure = Azure(settings)
    manifest = read_manifest(Path(model))
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")
    group = f"{settings.app_id(name, deployer.env)}-batch-{stamp}"[:63].rstrip("-")
    input_args, volume = _input_volume(batch.get("input"))
    command = ["kepler", "predict", MODEL_IN_IMAGE, *input_args,
               *[str(a) for a in batch.get("args") or []], "--json"]
    image = deployer._image(azure, Path(model), manifest, extra)
    body = deployer.group_body(azure, name, manifest, image, settings, extra,
                               command=command, volume=volume)
    deployer.put_group(azure, group, body, name=name)
    state, exit_code = _wait_stopped(azure, group)
    found = azure.send("aci", "GET", "", None, lambda: azure.aci().containers.list_logs(
        settings.resource_group, group, "model"), doing=f"reading the log of {group}")
    lines = [line for line in (as_dict(found).get("content") or "").splitlines() if line]
    report = {"group": group, "state": state, "exit_code": exit_code, "image": image,
              "command": command, "logs": lines}
    if exit_code != 0:
        tail = "\n".join(lines[-10:])
        raise DeploymentError(f"The batch in container group {group} ended {state} (exit code "
                              f"{exit_code}):\n{tail}",
                              hint=f"az container logs -g {settings.resource_group} -n {group}")
    return report


def _wait_stopped(azure: Azure, group: str) -> tuple[str, int | None]:
    """Poll the group until its container terminated: (group state, exit code)."""
    import logging

    log = logging.getLogger(__name__)
    deadline = time.monotonic() + azure.settings.ready_timeout
    while True:
        found = as_dict(azure.send("aci", "GET", "", None, lambda: azure.aci().container_groups
                                   .get(azure.settings.resource_group, group),
                                   doing=f"reading container group {group}"))
        props = found.get("properties", {})
        state = (props.get("instanceView") or {}).get("state", "")
        current = ((props.get("containers") or [{}])[0].get("properties", {})
                   .get("instanceView") or {}).get("currentState") or {}
        if current.get("state") == "Terminated" or state in ("Succeeded", "Failed", "Stopped"):
            return state, current.get("exitCode")
        if time.monotonic() >= deadline:
            raise AzureTimeoutError(f"The batch in {group} did not finish within "
                                    f"{azure.settings.ready_timeout:.0f} s (state {state}).",
                                    hint="Raise azure.ready_timeout; the group keeps running.")
        log.info("batch %s: %s", group, state or "starting")
        time.sleep(max(azure.settings.poll_interval, 0.05))
