"""Plain HTTP beside ARM: calling a deployed model, reading a Container Apps log stream."""

from __future__ import annotations

from typing import Any

from kepler.api import DeploymentError

from .errors import AzureError


def post_predict(name: str, base: str, data: Any, *, target: str) -> Any:
    """POST ``{"instances": data}`` to ``<base>/predict`` (``base`` without a scheme is
    https)."""
    import requests

    url = (base if "://" in base else f"https://{base}").rstrip("/") + "/predict"
    try:
        response = requests.post(url, json={"instances": list(data)}, timeout=300)
    except requests.RequestException as exc:
        raise DeploymentError(f"Deployment {name!r} did not answer: {exc}",
                              hint=f"kepler deploy status {name} --target {target}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {"detail": response.text[:200]}
    if response.status_code != 200:
        detail = answer.get("detail") if isinstance(answer, dict) else answer
        raise DeploymentError(f"Deployment {name!r} refused the input ({response.status_code}): "
                              f"{detail}", hint="GET /docs on the deployment shows the "
                              "expected input.")
    return answer


def read_log_stream(endpoint: str, token: str, lines: int) -> list[str]:
    """The last ``lines`` lines of a replica container's log stream (not followed)."""
    import requests

    separator = "&" if "?" in endpoint else "?"
    try:
        response = requests.get(f"{endpoint}{separator}tailLines={int(lines)}&follow=false",
                                headers={"Authorization": f"Bearer {token}"}, timeout=60)
    except requests.RequestException as exc:
        raise AzureError(f"The log stream did not answer: {exc}",
                         hint="Retry; or read the logs in Log Analytics.") from exc
    if response.status_code != 200:
        raise AzureError(f"The log stream refused the request ({response.status_code}).",
                         hint="The app's auth token may have expired; retry.")
    return [line for line in response.text.splitlines() if line.strip()][-lines:]
