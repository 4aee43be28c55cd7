"""`noticewatch daemon`: APScheduler fires the plan's jobs; each crawl cycle runs in a child process.

Why child processes: Twisted's reactor starts once per process, and a months-long process that
imported Scrapy would grow. The daemon itself never imports Scrapy; every cycle is `noticewatch run
--json --source …` in a fresh process, which also takes the per-source database locks (monitor/lock.py),
so the daemon and cron runs never crawl one source at once.

Jobs live in APScheduler's SQLAlchemyJobStore in the history database (table `apscheduler_jobs`): a
restart keeps each job's next run time, so a missed run is caught up once (coalesced) if it is less
than `[schedule].misfire_grace` late. A job only marks its source as due; the main loop batches due
sources into one cycle, so sources spread over a few seconds share a crawl and its politeness rules.

With `[frontier]` (scale mode) the daemon is the fleet's scheduler: it first takes the database's leader
lock (`Leadership`, a PostgreSQL advisory lock on its own connection), and a due cycle becomes
`noticewatch enqueue --source …` for the workers instead of a local crawl; no cron line is needed. A second
daemon stands by, trying the lock every few seconds, and leads as soon as the first one's connection is gone
(its process died), well within `[schedule] lock_ttl`. A leader that loses its connection exits 75 so its
service manager restarts it as a stand-by.

SIGTERM/SIGINT: no new cycles start; a running cycle is asked to stop (Scrapy's graceful shutdown:
in-flight fetches are recorded, each in its own transaction), then the daemon exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from monitor.config import LoadedConfig
from monitor.core import ExitCode, log_event
from monitor.schedule.plan import SchedulePlan
from monitor.store import Leadership

JOBS_TABLE = "apscheduler_jobs"
LEADER_LOCK = "noticewatch:daemon-leader"
log = logging.getLogger("noticewatch.daemon")

_dispatch: Callable[[str, str], None] | None = None


def fire(kind: str, target: str) -> None:
    """The function every stored job calls (stored by reference): hand the job to the running daemon."""
    if _dispatch is None:
        log_event(log, "job_orphaned", logging.WARNING, kind=kind, target=target)
        return
    _dispatch(kind, target)


@dataclass
class SyncReport:
    """How the stored jobs were brought in line with the configuration at start."""

    kept: list[str] = field(default_factory=list)  # job ids stored with the planned schedule (pending run kept)
    added: list[str] = field(default_factory=list)  # planned, not stored before
    changed: list[str] = field(default_factory=list)  # stored with another schedule: replaced
    removed: list[str] = field(default_factory=list)  # stored, no longer planned


class ScheduledJobs:
    """APScheduler with its job store in our database, its jobs kept in line with the plan."""

    def __init__(self, engine: Engine, plan: SchedulePlan, misfire_grace: float,
                 on_due: Callable[[str, str], None]) -> None:
        self.plan = plan
        self.on_due = on_due
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": max(1, int(misfire_grace))},
            timezone=plan.timezone,
        )
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)

    def start(self) -> SyncReport:
        """Start paused, reconcile the stored jobs with the plan, then let due jobs (and misfires) run."""
        global _dispatch
        _dispatch = self.on_due
        self.scheduler.start(paused=True)
        report = sync_jobs(self.scheduler, self.plan)
        self.scheduler.resume()
        return report

    def shutdown(self) -> None:
        global _dispatch
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if _dispatch is self.on_due:
            _dispatch = None

    def wakeup(self) -> None:
        """Look for due jobs now (after the clock moved)."""
        self.scheduler.wakeup()

    def next_run_times(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    def _missed(self, event: JobExecutionEvent) -> None:
        log_event(log, "job_missed", logging.WARNING, job=event.job_id, scheduled=event.scheduled_run_time)


def sync_jobs(scheduler: BackgroundScheduler, plan: SchedulePlan) -> SyncReport:
    """Keep stored jobs whose schedule is unchanged (and so their pending or missed run), replace the
    changed ones, add new ones, remove jobs of sources no longer configured. Never duplicates a job."""
    report = SyncReport()
    stored = {job.id: job for job in scheduler.get_jobs()}
    for job_id, planned in plan.jobs.items():
        job = stored.pop(job_id, None)
        if job is not None and job.name == planned.description:
            report.kept.append(job_id)
            continue
        scheduler.add_job(fire, trigger=planned.trigger, args=[planned.kind, planned.target], id=job_id,
                          name=planned.description, replace_existing=True)
        (report.changed if job is not None else report.added).append(job_id)
    for job_id in stored:
        scheduler.remove_job(job_id)
        report.removed.append(job_id)
    return report


def stored_next_runs(engine: Engine) -> dict[str, datetime | None]:
    """Next run times in the daemon's job store (empty if the daemon never ran on this database)."""
    if not inspect(engine).has_table(JOBS_TABLE):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    return {row[0]: (datetime.fromtimestamp(row[1], UTC) if row[1] is not None else None) for row in rows}


@dataclass
class CycleOutcome:
    """What one child cycle came to."""

    exit_code: int
    summary: dict | None
    error: str | None
    duration: float
    stdout: str = ""


class Daemon:
    """The main loop: wait for due work, run it in a child process, stop cleanly on a signal."""

    def __init__(self, loaded: LoadedConfig, engine: Engine, *, batch_window: float = 1.0) -> None:
        if loaded.path is None:
            raise ValueError("the daemon needs a configuration file for its child cycles")
        self.loaded = loaded
        self.engine = engine
        self.batch_window = batch_window
        self.digests = bool(loaded.config.subscription) and loaded.config.mail is not None
        self.plan = SchedulePlan.from_config(loaded.config)
        self.jobs = ScheduledJobs(engine, self.plan, loaded.config.schedule.misfire_grace, self._due)
        self._pending_sources: list[str] = []
        self._pending_digests: list[str] = []
        self._wake = threading.Condition()
        self._stop_signal: int | None = None
        self.fleet = loaded.config.frontier is not None
        self.leadership = Leadership(engine, LEADER_LOCK) if self.fleet else None
        self.standby_poll = min(5.0, loaded.config.schedule.lock_ttl / 3)
        self._child: subprocess.Popen | None = None
        self.cycles = 0

    def _due(self, kind: str, target: str) -> None:
        log_event(log, "job_due", kind=kind, target=target)
        with self._wake:
            queue = self._pending_sources if kind == "source" else self._pending_digests
            if target not in queue:
                queue.append(target)
            self._wake.notify()

    def _on_signal(self, signum: int, _frame) -> None:
        first = self._stop_signal is None
        self._stop_signal = signum
        child = self._child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
        if first:
            log_event(log, "shutdown_requested", signal=signal.Signals(signum).name,
                      cycle_running=child is not None)

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit code."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        if self.leadership is not None and not self._lead():
            log_event(log, "daemon_stopped", cycles=0, role="standby")
            return 0
        report = self.jobs.start()
        log_event(log, "daemon_started", jobs=len(self.plan.jobs), kept=len(report.kept), added=len(report.added),
                  changed=len(report.changed), removed=len(report.removed), timezone=str(self.plan.timezone),
                  digests=self.digests, config=str(self.loaded.path))
        if self.loaded.config.subscription and not self.digests:
            log_event(log, "digests_disabled", logging.WARNING, reason="subscriptions but no [mail] table")
        for job_id, when in sorted(self.jobs.next_run_times().items()):
            log_event(log, "job_scheduled", logging.DEBUG, job=job_id, next_run=when)
        try:
            while self._stop_signal is None:
                if self.leadership is not None and not self.leadership.still_held():
                    log_event(log, "leadership_lost", logging.ERROR, reason="the leader lock's connection is gone")
                    return ExitCode.BUSY
                sources, digests = self._next_batch()
                if self._stop_signal is not None:
                    break
                ran = bool(sources) and self._run_cycle(sources)
                if self.digests and (ran or digests) and self._stop_signal is None:
                    # after a cycle: every subscription (immediate ones, missed slots, outbox retries)
                    self._send_digests(None if ran else digests)
        finally:
            self.jobs.shutdown()
            if self.leadership is not None:
                self.leadership.release()
        log_event(log, "daemon_stopped", cycles=self.cycles)
        return 0

    def _lead(self) -> bool:
        """Stand by until this daemon holds the leader lock (True) or is asked to stop (False)."""
        assert self.leadership is not None
        announced = False
        while self._stop_signal is None:
            if self.leadership.try_acquire():
                log_event(log, "leader_elected", role="leader", lock=LEADER_LOCK)
                return True
            if not announced:
                log_event(log, "standby", role="standby", lock=LEADER_LOCK, poll_s=self.standby_poll)
                announced = True
            time.sleep(self.standby_poll)
        return False

    def _next_batch(self) -> tuple[list[str], list[str]]:
        """Wait for due work, then a short window more so sources due together share one cycle."""
        with self._wake:
            while self._stop_signal is None and not (self._pending_sources or self._pending_digests):
                self._wake.wait(0.5)
        deadline = time.monotonic() + self.batch_window
        while self._stop_signal is None and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        with self._wake:
            sources, self._pending_sources = self._pending_sources, []
            digests, self._pending_digests = self._pending_digests, []
        return sources, digests

    def _run_cycle(self, source_ids: list[str]) -> bool:
        """One crawl cycle in a child process; True when it ran."""
        self.cycles += 1
        log_event(log, "cycle_started", cycle_no=self.cycles, sources=len(source_ids))
        picked = [arg for s in source_ids for arg in ("--source", s)]
        if self.fleet:
            return self._enqueue(picked)
        outcome = self._run_child(["run", "--json", *picked])
        summary = outcome.summary or {}
        stopped = (128 + signal.SIGTERM, 128 + signal.SIGINT)  # `run` stopped by us: its summary still stands
        if summary and (outcome.exit_code == 0 or outcome.exit_code in stopped):
            failed = summary.get("failed", {})
            log_event(log, "cycle_done", logging.WARNING if failed else logging.INFO, cycle=summary.get("cycle_id"),
                      cycle_no=self.cycles, sources=summary.get("sources"), fetched=summary.get("fetched"),
                      unchanged=summary.get("unchanged"), changed=summary.get("changed"), new=summary.get("new"),
                      failed=len(failed), skipped=len(summary.get("skipped", {})),
                      interrupted=len(summary.get("interrupted", {})), duration_s=outcome.duration)
            for source_id, reason in sorted(failed.items()):
                log_event(log, "source_failed", logging.WARNING, cycle=summary.get("cycle_id"), source=source_id,
                          reason=reason)
            return True
        if self._stop_signal is not None:
            log_event(log, "cycle_interrupted", logging.WARNING, cycle_no=self.cycles, exit_code=outcome.exit_code,
                      duration_s=outcome.duration)
        elif outcome.exit_code == ExitCode.BUSY:
            log_event(log, "cycle_skipped", cycle_no=self.cycles, reason="all sources locked by another run",
                      sources=",".join(source_ids))
        else:
            log_event(log, "cycle_failed", logging.ERROR, cycle_no=self.cycles, exit_code=outcome.exit_code,
                      error=outcome.error, duration_s=outcome.duration)
        return False

    def _enqueue(self, picked: list[str]) -> bool:
        """Scale mode: put the due sources on the frontier for the workers (`noticewatch enqueue`)."""
        outcome = self._run_child(["enqueue", *picked])
        if outcome.exit_code == 0:
            log_event(log, "cycle_enqueued", cycle_no=self.cycles, sources=len(picked) // 2,
                      result=(outcome.stdout or "").strip(), duration_s=outcome.duration)
            return True
        log_event(log, "enqueue_failed", logging.ERROR, cycle_no=self.cycles, exit_code=outcome.exit_code,
                  error=outcome.error)
        return False

    def _send_digests(self, names: list[str] | None) -> None:
        """`noticewatch digest send` in a child process: compose what is due (per subscription slot,
        exactly once, see docs/digest.md), then send the outbox."""
        args = ["digest", "send", "--json", *[arg for name in names or [] for arg in ("--subscription", name)]]
        outcome = self._run_child(args)
        report = outcome.summary
        if outcome.exit_code != 0 or report is None:
            log_event(log, "digest_failed", logging.ERROR, subscriptions=",".join(names or ["all"]),
                      exit_code=outcome.exit_code, error=outcome.error)
            return
        log_event(log, "digest_done", logging.WARNING if report.get("failed") else logging.INFO,
                  subscriptions=",".join(names or ["all"]), composed=len(report.get("composed", [])),
                  sent=len(report.get("sent", [])), failed=len(report.get("failed", [])),
                  busy=len(report.get("busy", [])), duration_s=outcome.duration)
        for failure in report.get("failed", []):
            log_event(log, "digest_not_sent", logging.WARNING, subscription=failure.get("subscription"),
                      error=failure.get("error"), next_attempt=failure.get("next_attempt_at"))

    def _run_child(self, args: list[str]) -> CycleOutcome:
        """Run `noticewatch ARGS` in its own session (a terminal's Ctrl-C reaches only the daemon, which
        forwards one SIGTERM) and read its JSON output."""
        cmd = [sys.executable, "-m", "monitor", "--config", str(self.loaded.path), *args]
        timeout = self.loaded.config.schedule.cycle_timeout
        started = time.monotonic()
        self._child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       start_new_session=True)
        if self._stop_signal is not None:
            self._child.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = self._child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._child.send_signal(signal.SIGTERM)
            try:
                stdout, stderr = self._child.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self._child.kill()
                stdout, stderr = self._child.communicate()
            log_event(log, "cycle_timeout", logging.ERROR, timeout_s=timeout)
        code = self._child.returncode
        self._child = None
        summary = None
        try:
            summary = json.loads(stdout) if stdout.strip() else None
        except json.JSONDecodeError:
            summary = None
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        ours = [ln for ln in lines if ln.startswith("noticewatch:")]
        error = (ours or lines or [None])[-1]
        return CycleOutcome(code, summary if isinstance(summary, dict) else None, error, time.monotonic() - started,
                            stdout)
