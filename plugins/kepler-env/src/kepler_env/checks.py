"""``kepler config validate`` checks: the manager's tool is there, the environment exists, its
lock is current and the environment matches it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult

from .errors import EnvError


def validate(config: Any) -> Iterator[CheckResult]:
    from .api import info, manager_for
    from .plan import plan_for

    if config.project_dir is None:
        return
    try:
        plan = plan_for(config.project_dir, env=config.env)
        manager = manager_for(plan)
    except EnvError as exc:
        yield CheckResult(check="env: configuration usable", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    status = getattr(manager, "tool_status", None)
    if status is not None:
        ok, detail, hint = status()
        yield CheckResult(check=f"env: {plan.manager} available", status="pass" if ok else "fail",
                          detail=detail, hint="" if ok else hint)
    try:
        found = info(env=plan.env, project=plan.project)
    except EnvError as exc:
        yield CheckResult(check=f"env: {plan.env} environment readable", status="fail",
                          detail=exc.message, hint=exc.hint or "")
        return
    if not found.exists:
        yield CheckResult(check=f"env: {plan.env} environment exists", status="warn",
                          detail=f"not created yet ({plan.relative(plan.location)})",
                          hint=f"kepler env create --env {plan.env}")
        return
    yield CheckResult(check=f"env: {plan.env} environment exists", status="pass",
                      detail=f"{plan.relative(plan.location)}, {plan.manager}, "
                      f"Python {found.python}, {found.packages} packages")
    lock_name = plan.relative(found.lock if found.lock else plan.lock_path)
    if found.lock_status in ("missing", "stale", "unreadable"):
        yield CheckResult(check=f"env: {lock_name} current", status="warn",
                          detail=found.lock_status,
                          hint=f"kepler env lock --env {plan.env}  (then commit it)")
    elif found.lock_status:
        in_sync = found.lock_status == "in sync"
        yield CheckResult(check=f"env: {plan.env} environment matches {lock_name}",
                          status="pass" if in_sync else "fail",
                          detail="" if in_sync else found.lock_status,
                          hint="" if in_sync else f"kepler env sync --env {plan.env}")
