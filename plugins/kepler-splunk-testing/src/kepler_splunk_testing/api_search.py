"""The search endpoints: ``search/jobs`` (v1) and ``search/v2/jobs``, results, control, export.

The two API versions share handlers; the server version decides whether ``v2`` exists (from
9.0.2, where splunklib switches to it and fetches results with POST). Both versions accept GET
and POST for results: the request log records the method for tests that care.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from kepler_splunk_testing import atom
from kepler_splunk_testing.arrowtext import format_splunk_time
from kepler_splunk_testing.auth import SplunkUser, permission_message
from kepler_splunk_testing.engine import Outcome, SearchEngine, SearchError
from kepler_splunk_testing.jobs import Job, JobStatus, JobStore
from kepler_splunk_testing.protocol import Namespace, Request, Response, ServerSettings
from kepler_splunk_testing.render import (
    CONTENT_TYPES,
    EXPORT_MODES,
    RESULT_MODES,
    export_stream,
    render_page,
)
from kepler_splunk_testing.replies import (
    JSON_TYPE,
    ack,
    error_response,
    int_param,
    now_iso,
    paging,
    wants_json,
)
from kepler_splunk_testing.results import Message, ResultSet

__all__ = ["SearchApi"]

_RESULT_KINDS = ("results", "events", "results_preview")
_CONTROL_REPLIES = {
    "cancel": "Search job cancelled.",
    "finalize": "Search job finalized.",
    "pause": "Search job paused.",
    "unpause": "Search job unpaused.",
    "touch": "Search job touched.",
    "setttl": "Search job ttl set.",
    "setpriority": "Search job priority set.",
    "enablepreview": "Search job preview enabled.",
    "disablepreview": "Search job preview disabled.",
    "save": "Search job saved.",
    "unsave": "Search job unsaved.",
}
_FALSE = ("0", "false", "f", "no", "n")


class SearchApi:
    def __init__(
        self,
        settings: ServerSettings,
        engine: SearchEngine,
        jobs: JobStore,
        base_url: Callable[[], str],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.jobs = jobs
        self.base_url = base_url

    def route(
        self,
        request: Request,
        namespace: Namespace,
        user: SplunkUser,
        rest: Sequence[str],
        version: int,
    ) -> Response:

        method = request.method
        base = f"{namespace.prefix}/search/{'v2/' if version == 2 else ''}jobs"
        if not rest:
            if method == "POST":
                return self._create(request, namespace, user, base)
            if method == "GET":
                return self._list(request, user, base)
        elif rest == ["export"]:
            if method in ("GET", "POST"):
                return self._export(request, user)
        else:
            job = self.jobs.get(rest[0])
            if job is None:
                return error_response(request, 404, "Unknown sid.", "FATAL")
            if job.owner != user.name and not user.can("admin_all_objects"):
                return error_response(request, 404, "Unknown sid.", "FATAL")
            if len(rest) == 1:
                if method == "GET":
                    return self._status(request, job, base)
                if method == "DELETE":
                    self.jobs.remove(job.sid)
                    return ack(request, _CONTROL_REPLIES["cancel"])
                if method == "POST":
                    job.touch(int_param(request, "ttl"))
                    return self._status(request, job, base)
            elif len(rest) == 2 and rest[1] in _RESULT_KINDS and method in ("GET", "POST"):
                job.touch()
                return self._results(request, job, rest[1])
            elif rest[1:] == ["control"] and method == "POST":
                return self._control(request, job)
            elif rest[1:] == ["search.log"] and method == "GET":
                return Response(200, _search_log(job), "text/plain; charset=UTF-8")
            else:
                return error_response(request, 404, "Not Found")
        return error_response(request, 405, "Method Not Allowed")

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, request: Request, user: SplunkUser) -> tuple[str, Outcome]:
        if not user.can("search"):
            raise _Refused(403, permission_message(user, "search"), "ERROR")
        spl = request.params.get("search")
        if spl is None:
            raise _Refused(400, "Empty search.", "FATAL")
        try:
            outcome = self.engine.run(spl, request.params.as_dict(), datetime.now(UTC))
        except SearchError as error:
            raise _Refused(error.status, error.message, error.type) from None
        return spl, outcome

    def _create(
        self, request: Request, namespace: Namespace, user: SplunkUser, base: str
    ) -> Response:

        mode = (request.params.get("exec_mode") or "normal").lower()
        if mode not in ("normal", "blocking", "oneshot"):
            return error_response(
                request, 400, f"Invalid exec_mode '{mode}': expected normal, blocking or oneshot."
            )
        try:
            spl, outcome = self._dispatch(request, user)
        except _Refused as refusal:
            return error_response(request, refusal.status, refusal.message, refusal.type)
        if mode == "oneshot":
            time.sleep(self.settings.dispatch_delay)
            return self._oneshot(request, outcome)
        sid = request.params.get("id") or self.jobs.new_sid()
        if self.jobs.get(sid) is not None:
            return error_response(request, 400, f"Search id '{sid}' is already in use.")
        ttl = int_param(request, "timeout")
        job = Job(
            sid=sid,
            owner=user.name,
            app=namespace.app,
            spl=spl,
            request=_request_echo(request),
            outcome=outcome,
            delay=self.settings.dispatch_delay,
            ttl=ttl if ttl is not None else self.settings.default_ttl,
            dispatched_at=datetime.now(UTC),
        )
        self.jobs.add(job)
        if mode == "blocking":
            time.sleep(job.remaining())
        headers = [("Location", f"{base}/{sid}")]
        if wants_json(request):
            body = f'{{"sid":"{sid}"}}'.encode()
            return Response(201, body, JSON_TYPE, headers)
        return Response(201, atom.response_xml(sid=sid), headers=headers)

    def _oneshot(self, request: Request, outcome: Outcome) -> Response:

        results = outcome.results if outcome.failure is None else outcome.results.head(0)
        messages = list(outcome.messages)
        if outcome.failure is not None:
            messages.append(Message("FATAL", outcome.failure))
        try:
            return self._page(request, results, messages, preview=False)
        except _Refused as refusal:
            return error_response(request, refusal.status, refusal.message, refusal.type)

    # -- job views ----------------------------------------------------------------------------

    def _status(self, request: Request, job: Job, base: str) -> Response:

        status = job.status()
        if status.dispatch_state == "QUEUED" and self.settings.empty_status_while_queued:
            return Response(204, b"")
        json_mode = wants_json(request)
        entry = self._job_entry(job, status, base, json_mode)
        if json_mode:
            body = atom.feed_json(
                origin=f"{self.base_url()}{base}",
                updated=now_iso(),
                generator_version=self.settings.version,
                entries=[entry],
                total=1,
                offset=0,
                per_page=0,
            )
            return Response(200, body, JSON_TYPE)
        return Response(200, atom.entry_document_xml(entry))

    def _list(self, request: Request, user: SplunkUser, base: str) -> Response:

        if not user.can("search"):
            return error_response(request, 403, permission_message(user, "search"))
        mine = [
            job
            for job in self.jobs.all()
            if job.owner == user.name or user.can("admin_all_objects")
        ]
        offset, count = paging(request, default_count=0)
        page = mine[offset : offset + count] if count > 0 else mine[offset:]
        json_mode = wants_json(request)
        entries = [self._job_entry(job, job.status(), base, json_mode) for job in page]
        if json_mode:
            body = atom.feed_json(
                origin=f"{self.base_url()}{base}",
                updated=now_iso(),
                generator_version=self.settings.version,
                entries=entries,
                total=len(mine),
                offset=offset,
                per_page=count,
            )
            return Response(200, body, JSON_TYPE)
        body = atom.feed_xml(
            title="jobs",
            id_url=f"{self.base_url()}{base}",
            updated=now_iso(),
            generator_version=self.settings.version,
            entries=entries,
            total=len(mine),
            offset=offset,
            per_page=count,
        )
        return Response(200, body)

    def _job_entry(self, job: Job, status: JobStatus, base: str, json_mode: bool) -> atom.Entry:
        outcome = job.outcome
        path = f"{base}/{job.sid}"
        earliest = outcome.earliest
        latest = outcome.latest or job.dispatched_at
        if json_mode:
            messages: Any = [{"type": m.type, "text": m.text} for m in status.messages]
            progress: Any = round(status.progress, 5)
            duration: Any = status.run_duration
        else:
            grouped: dict[str, list[str]] = {}
            for message in status.messages:
                grouped.setdefault(message.type.lower(), []).append(message.text)
            messages = grouped
            progress = f"{status.progress:.5f}"
            duration = f"{status.run_duration:.6f}"
        remaining_ttl = max(0, int(job.ttl - (time.monotonic() - job.last_touch)))
        reporting = outcome.reporting
        content: dict[str, Any] = {
            "canSummarize": False,
            "cursorTime": format_splunk_time(earliest.timestamp() if earliest else 0),
            "defaultSaveTTL": "604800",
            "defaultTTL": str(self.settings.default_ttl),
            "delegate": "",
            "diskUsage": 4096 * (1 + len(outcome.results) // 100),
            "dispatchState": status.dispatch_state,
            "doneProgress": progress,
            "dropCount": 0,
            "earliestTime": format_splunk_time(earliest.timestamp() if earliest else 0),
            "eventAvailableCount": 0 if reporting else status.event_count,
            "eventCount": status.event_count,
            "eventFieldCount": 0 if reporting else len(outcome.results.fields),
            "eventIsStreaming": not reporting,
            "eventIsTruncated": reporting,
            "eventSearch": "" if reporting else job.spl,
            "eventSorting": "none" if reporting else "desc",
            "isBatchModeSearch": False,
            "isDone": status.is_done,
            "isEventsPreviewEnabled": False,
            "isFailed": status.is_failed,
            "isFinalized": status.is_finalized,
            "isPaused": status.is_paused,
            "isPreviewEnabled": False,
            "isRealTimeSearch": False,
            "isRemoteTimeline": False,
            "isSaved": False,
            "isSavedSearch": False,
            "isTimeCursored": not reporting,
            "isZombie": False,
            "keywords": "",
            "label": "",
            "latestTime": format_splunk_time(latest.timestamp()),
            "normalizedSearch": job.spl,
            "numPreviews": 0,
            "pid": str(os.getpid()),
            "priority": 5,
            "provenance": "",
            "remoteSearch": job.spl,
            "reportSearch": job.spl if reporting else "",
            "resultCount": status.result_count,
            "resultIsStreaming": not reporting,
            "resultPreviewCount": status.preview_count,
            "runDuration": duration,
            "sampleRatio": "1",
            "sampleSeed": "0",
            "scanCount": status.scan_count,
            "searchCanBeEventType": not reporting,
            "searchTotalBucketsCount": 1,
            "searchTotalEliminatedBucketsCount": 0,
            "sid": job.sid,
            "statusBuckets": 0,
            "ttl": remaining_ttl,
            "performance": {},
            "messages": messages,
            "request": dict(job.request),
            "runtime": {"auto_cancel": "0", "auto_pause": "0"},
            "searchProviders": [self.settings.server_name],
        }
        links = {
            rel: f"{path}/{rel}" if rel != "alternate" else path
            for rel in (
                "alternate",
                "search.log",
                "events",
                "results",
                "results_preview",
                "timeline",
                "summary",
                "control",
            )
        }
        stamp = _iso(job.dispatched_at)
        return atom.Entry(
            title=job.spl,
            id_url=f"{self.base_url()}{path}",
            updated=now_iso(),
            links=links,
            content=content,
            author=job.owner,
            published=stamp,
            acl={
                "perms": {"read": [job.owner], "write": [job.owner]},
                "owner": job.owner,
                "modifiable": True,
                "sharing": "global",
                "app": job.app,
                "can_write": True,
                "ttl": str(remaining_ttl),
            },
        )

    # -- results ------------------------------------------------------------------------------

    def _results(self, request: Request, job: Job, kind: str) -> Response:

        status = job.status()
        if kind != "results_preview" and not status.is_done:
            return Response(204, b"")
        preview = kind == "results_preview" and not status.is_done
        results = job.results(status, preview=kind == "results_preview")
        if kind == "events" and job.outcome.reporting:
            results = results.head(0)  # a transforming search keeps no events (status_buckets=0)
        try:
            return self._page(request, results, list(status.messages), preview=preview)
        except _Refused as refusal:
            return error_response(request, refusal.status, refusal.message, refusal.type)

    def _page(
        self, request: Request, results: ResultSet, messages: list, *, preview: bool
    ) -> Response:
        mode = (request.params.get("output_mode") or "xml").lower()
        if mode not in RESULT_MODES:
            raise _Refused(400, f"Invalid output_mode '{mode}'.", "ERROR")
        cap = self.settings.max_result_rows
        count = int_param(request, "count")
        count = 100 if count is None else count
        count = cap if count <= 0 else min(count, cap)
        offset = int_param(request, "offset") or 0
        if offset < 0:
            offset = max(0, len(results) + offset)
        fields = request.params.get_list("f") + request.params.get_list("field_list")
        page = results.page(offset, count, fields)
        chunks = render_page(mode, page, preview=preview, messages=messages, init_offset=offset)
        return Response(200, chunks, CONTENT_TYPES[mode])

    # -- control ------------------------------------------------------------------------------

    def _control(self, request: Request, job: Job) -> Response:

        action = (request.params.get("action") or "").lower()
        if action not in _CONTROL_REPLIES:
            return error_response(request, 400, f"Unknown action: '{action}'.")
        if action == "cancel":
            self.jobs.remove(job.sid)
        elif action == "finalize":
            job.finalize()
        elif action == "pause":
            job.pause()
        elif action == "unpause":
            job.unpause()
        elif action == "touch":
            job.touch()
        elif action == "setttl":
            ttl = int_param(request, "ttl")
            if ttl is None:
                return error_response(request, 400, "Missing argument: ttl.")
            job.touch(ttl)
        return ack(request, _CONTROL_REPLIES[action])

    # -- export -------------------------------------------------------------------------------

    def _export(self, request: Request, user: SplunkUser) -> Response:

        mode = (request.params.get("output_mode") or "xml").lower()
        if mode not in EXPORT_MODES:
            return error_response(request, 400, f"Invalid output_mode '{mode}'.")
        try:
            _, outcome = self._dispatch(request, user)
        except _Refused as refusal:
            return error_response(request, refusal.status, refusal.message, refusal.type)
        wants_previews = (request.params.get("preview") or "true").lower() not in _FALSE
        previews = outcome.preview_sets if wants_previews and outcome.reporting else 0
        fields = request.params.get_list("f") + request.params.get_list("field_list")
        delay = self.settings.dispatch_delay

        def stream() -> Iterator[bytes | memoryview]:
            if delay > 0:
                time.sleep(delay)  # the search runs before its first results arrive
            yield from export_stream(
                outcome.results,
                mode,
                preview_sets=previews,
                messages=outcome.messages,
                failure=outcome.failure,
                field_list=fields,
                chunk_rows=self.settings.export_chunk_rows,
            )

        return Response(200, stream(), CONTENT_TYPES[mode])


class _Refused(Exception):
    def __init__(self, status: int, message: str, type_: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_


def _request_echo(request: Request) -> dict[str, str]:
    skip = {"output_mode", "password"}
    return {key: value for key, value in request.params.as_dict().items() if key not in skip}


def _search_log(job: Job) -> bytes:
    started = job.dispatched_at.strftime("%m-%d-%Y %H:%M:%S.000")
    lines = [
        f'{started} INFO  dispatchRunner - search context: user="{job.owner}", app="{job.app}"',
        f"{started} INFO  SearchParser - PARSING: {job.spl}",
        f"{started} INFO  UnifiedSearch - Processed search targeting arguments",
        f"{started} INFO  DispatchExecutor - BEGIN OPEN: Processor=search",
        f"{started} INFO  ShutdownHandler - Shutting down search process",
    ]
    return ("\n".join(lines) + "\n").encode()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")
