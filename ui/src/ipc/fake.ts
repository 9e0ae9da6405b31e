// An in-memory backend with the same interface, for unit tests (and for working on screens
// without the app). It keeps jobs, runs and the pause state, and emits changes like the engine.
import type { Route } from "../app/navigation";
import type { AppLogFile } from "../bindings/AppLogFile";
import type { AppStatus } from "../bindings/AppStatus";
import type { DayOutcomes } from "../bindings/DayOutcomes";
import type { FireTime } from "../bindings/FireTime";
import type { JobLogRun } from "../bindings/JobLogRun";
import type { JobLogSearch } from "../bindings/JobLogSearch";
import type { JobLogSearchBatch } from "../bindings/JobLogSearchBatch";
import type { JobOverview } from "../bindings/JobOverview";
import type { OutcomeCounts } from "../bindings/OutcomeCounts";
import type { RunMark } from "../bindings/RunMark";
import type { Timeline } from "../bindings/Timeline";
import type { UpcomingFire } from "../bindings/UpcomingFire";
import type { MissedGap } from "../bindings/MissedGap";
import type { SecretStoreStatus } from "../bindings/SecretStoreStatus";
import type { SchedulerRole } from "../bindings/SchedulerRole";
import type { Job } from "../bindings/Job";
import type { JobSpec } from "../bindings/JobSpec";
import type { JobSummary } from "../bindings/JobSummary";
import type { LogInfo } from "../bindings/LogInfo";
import type { LogLine } from "../bindings/LogLine";
import type { LogMatch } from "../bindings/LogMatch";
import type { LogSearch } from "../bindings/LogSearch";
import type { LogSearchResult } from "../bindings/LogSearchResult";
import type { LogSource } from "../bindings/LogSource";
import type { LogView } from "../bindings/LogView";
import type { RetentionPolicy } from "../bindings/RetentionPolicy";
import type { Run } from "../bindings/Run";
import type { RunValues } from "../bindings/RunValues";
import type { RunOverrides } from "../bindings/RunOverrides";
import type { SchedulePreview } from "../bindings/SchedulePreview";
import type { Trigger } from "../bindings/Trigger";
import type { RunQuery } from "../bindings/RunQuery";
import type { Settings } from "../bindings/Settings";
import type { ChosenFile } from "../bindings/ChosenFile";
import type { CrontabText } from "../bindings/CrontabText";
import type { EntryOutcome } from "../bindings/EntryOutcome";
import type { Export } from "../bindings/Export";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { ImportPlan } from "../bindings/ImportPlan";
import type { ImportReport } from "../bindings/ImportReport";
import type { ImportSource } from "../bindings/ImportSource";
import type { PlanEntry } from "../bindings/PlanEntry";
import { type Backend, BackendError, type Change } from "./backend";

let counter = 0;
/** A 26-character id shaped like the engine's ULIDs. */
function newId(): string {
  counter += 1;
  return `01FAKE${String(counter).padStart(20, "0")}`;
}

/** A log the fake serves by range: lines are made on demand, so a test can have ten million. */
export interface FakeLog {
  /** Lines in the file now; a test may raise it to make the log grow. */
  lines: number;
  line(number: number): LogLine;
  live?: boolean;
}

function at<T>(items: T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item ${index} of ${items.length}`);
  return item;
}

/** A log made of the given lines. */
export function fakeLog(lines: LogLine[], live = false): FakeLog {
  return { lines: lines.length, line: (n) => at(lines, n), live };
}

/** A log of `count` generated stdout lines (every 7th on stderr): "line N of a long log". */
export function generatedLog(count: number): FakeLog {
  return {
    lines: count,
    line: (n) => ({
      number: n,
      time: new Date(Date.UTC(2026, 10, 21, 8, 0, 0) + n).toISOString(),
      stream: n % 7 === 6 ? "stderr" : "stdout",
      continued: false,
      text: `line ${n} of a long log`,
    }),
  };
}

function utf16Ranges(text: string, pattern: RegExp): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const m of text.matchAll(pattern)) {
    if (m[0].length === 0) continue;
    ranges.push([m.index, m.index + m[0].length]);
  }
  return ranges;
}

export interface FakeJob {
  job: Job;
  schedule: string;
  nextFire: string | null;
}

const FAILURES: Run["status"][] = ["failed", "timed_out", "interrupted"];

function mark(run: Run): RunMark {
  const { id, job_id, status, scheduled_for, started_at, finished_at, exit_code, http_status } = run;
  return { id, job_id, status, scheduled_for, started_at, finished_at, exit_code, http_status };
}

function outcomes(runs: Run[]): OutcomeCounts {
  return {
    succeeded: runs.filter((r) => r.status === "succeeded").length,
    failed: runs.filter((r) => FAILURES.includes(r.status)).length,
  };
}

/** A local calendar day, YYYY-MM-DD, as the engine's heat map query gives it. */
export function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

const CRON_RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** A cron field's problem, or null: numbers, `*`, ranges, steps and lists (no names). */
function cronFieldProblem(field: string, [low, high]: [number, number]): string | null {
  for (const part of field.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${JSON.stringify(part)} is not a cron field`;
    for (const n of [m[2], m[3]]) {
      if (n !== undefined && (Number(n) < low || Number(n) > high)) return `${n} is out of range ${low}-${high}`;
    }
  }
  return null;
}

function at5(k: number): [number, number] {
  return CRON_RANGES[k] ?? [0, 59];
}

export class FakeBackend implements Backend {
  jobs: FakeJob[] = [];
  runs: Run[] = [];
  /** Next firings a job's overview shows, by job id (the engine computes them). */
  nextFires = new Map<string, FireTime[]>();
  /** Why a job's trigger cannot work now, by job id (a watched folder that is gone). */
  triggerProblems = new Map<string, string>();
  /** Firings the timeline draws after now. */
  upcoming: UpcomingFire[] = [];
  /** The missed-run ledger (the engine writes it when it notices a gap). */
  gaps: MissedGap[] = [];
  /** Values runs wrote for their chains and were passed, by run id. */
  runValues = new Map<string, RunValues>();
  /** Run logs by run id. */
  logs = new Map<string, FakeLog>();
  /** Application logs by day (YYYY-MM-DD). */
  appLogs = new Map<string, FakeLog>();
  retention: RetentionPolicy = { keep_runs: 1000, keep_days: 90 };
  paused = false;
  /** Who schedules, as the engine reports it. */
  scheduler: SchedulerRole = { role: "active", since: new Date().toISOString() };
  /** Set to make the engine report that writing to the data folder fails. */
  storageProblem: string | null = null;
  /** Where secrets are kept, as the Settings screen shows it. */
  secrets: SecretStoreStatus = {
    location: "keychain",
    message: "Secrets are kept in the Secret Service (GNOME Keyring, KWallet); the database holds only references to them.",
    unreadable: 0,
  };
  settings: Settings = {
    quit_behaviour: "wait",
    app_log_days: 14,
    notifications: true,
    close_notice_shown: false,
    max_parallel: 4,
    max_log_mib: 256,
    theme: "system",
    catch_up_stagger_secs: 1,
  };
  autostart = false;
  /** Every call, by name, for assertions. */
  calls: string[] = [];
  private listeners = new Set<(change: Change) => void>();

  emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  addJob(spec: Partial<JobSpec> & { name: string }, schedule = "Only when run by hand", nextFire: string | null = null): Job {
    const now = new Date().toISOString();
    const job: Job = {
      id: newId(),
      revision: 1,
      created_at: now,
      updated_at: now,
      description: "",
      tags: [],
      enabled: true,
      kind: { type: "command", program: { mode: "exec", program: "true", args: [] }, working_dir: null, env: [] },
      trigger: { type: "manual" },
      policies: {
        timeout_secs: null,
        retry: { max_attempts: 1, initial_delay_secs: 10, multiplier: 2, max_delay_secs: 3600 },
        overlap: "skip",
        missed: { mode: "run_once", max_catch_up: 10, grace_secs: 60 },
        notify: "on_failure",
      },
      ...spec,
    };
    this.jobs.push({ job, schedule, nextFire });
    return job;
  }

  private find(id: string): FakeJob {
    const found = this.jobs.find((j) => j.job.id === id);
    if (!found) throw new BackendError("not_found", `job ${id} was not found`);
    return found;
  }

  private status(): AppStatus {
    const next = this.paused
      ? undefined
      : this.jobs
          .filter((j) => j.nextFire !== null && j.job.enabled)
          .sort((a, b) => (a.nextFire ?? "").localeCompare(b.nextFire ?? ""))[0];
    return {
      paused: this.paused,
      running: this.runs.filter((r) => r.status === "running").length,
      next_run: next?.nextFire ? { job_id: next.job.id, job_name: next.job.name, at: next.nextFire } : null,
      scheduler: this.scheduler,
      storage_problem: this.storageProblem,
      secrets: this.secrets,
    };
  }

  private record<T>(name: string, value: T): Promise<T> {
    this.calls.push(name);
    return Promise.resolve(value);
  }

  private attempt<T>(name: string, fn: () => T): Promise<T> {
    this.calls.push(name);
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(BackendError.from(e));
    }
  }

  listJobs(): Promise<JobSummary[]> {
    return this.record(
      "listJobs",
      this.jobs.map(({ job, schedule, nextFire }) => ({
        job,
        schedule,
        next_fire: this.paused || !job.enabled ? null : nextFire,
        last_run: this.runs.filter((r) => r.job_id === job.id).at(-1) ?? null,
        trigger_problem: this.triggerProblems.get(job.id) ?? null,
      })),
    );
  }
  getJob(id: string) {
    return this.attempt("getJob", () => this.find(id).job);
  }
  createJob(spec: JobSpec) {
    return this.attempt("createJob", () => {
      if (spec.name.trim() === "") {
        throw new BackendError("invalid", "name: required", [{ field: "name", message: "required" }]);
      }
      const job = this.addJob(spec);
      this.emit({ type: "job_changed", job_id: job.id });
      return job;
    });
  }
  updateJob(id: string, spec: JobSpec, expectedRevision: number) {
    return this.attempt("updateJob", () => {
      const found = this.find(id);
      if (found.job.revision !== expectedRevision) {
        throw new BackendError("conflict", "the job was changed elsewhere");
      }
      found.job = { ...found.job, ...spec, revision: found.job.revision + 1 };
      this.emit({ type: "job_changed", job_id: id });
      return found.job;
    });
  }
  setJobEnabled(id: string, enabled: boolean) {
    return this.attempt("setJobEnabled", () => {
      const found = this.find(id);
      found.job = { ...found.job, enabled, revision: found.job.revision + 1 };
      this.emit({ type: "job_changed", job_id: id });
      return found.job;
    });
  }
  deleteJob(id: string) {
    return this.attempt("deleteJob", () => {
      this.find(id);
      this.jobs = this.jobs.filter((j) => j.job.id !== id);
      this.emit({ type: "job_deleted", job_id: id });
    });
  }
  runJobNow(id: string) {
    return this.attempt("runJobNow", () => this.startManualRun(id, null));
  }
  /** The engine's rules for one run's overrides (RunOverrides::validate), for the dialog's
   * tests: HTTP jobs take none, names are variable names, secrets are not overridden. */
  runJobWith(id: string, overrides: RunOverrides) {
    return this.attempt("runJobWith", () => {
      const { job } = this.find(id);
      const fields: { field: string; message: string }[] = [];
      if (job.kind.type === "http") {
        if (overrides.env.length > 0)
          fields.push({ field: "env", message: "an HTTP job has no environment: environment values apply to command and script jobs only" });
        if (overrides.args.length > 0)
          fields.push({ field: "args", message: "an HTTP job takes no arguments: arguments apply to command and script jobs only" });
      } else {
        const secrets = job.kind.env.filter((v) => v.secret).map((v) => v.name);
        const seen = new Set<string>();
        overrides.env.forEach((v, i) => {
          const field = `env[${i}].name`;
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name))
            fields.push({ field, message: `${JSON.stringify(v.name)} is not a valid variable name: letters, digits and _, not starting with a digit` });
          else if (v.name.toUpperCase().startsWith("SUNDIAL_")) fields.push({ field, message: `${v.name} is set by Sundial itself` });
          else if (secrets.includes(v.name))
            fields.push({ field, message: `${v.name} is a secret: a secret is not overridden for one run (its value would be kept with the run); change it in the job's settings` });
          else if (seen.has(v.name)) fields.push({ field, message: `${v.name} is set twice` });
          seen.add(v.name);
        });
      }
      if (fields.length > 0)
        throw new BackendError("invalid", fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields);
      const empty = overrides.env.length === 0 && overrides.args.length === 0;
      return this.startManualRun(id, empty ? null : overrides);
    });
  }
  private startManualRun(id: string, overrides: RunOverrides | null): Run {
    const { job } = this.find(id);
    const now = new Date().toISOString();
    const run: Run = {
      id: newId(),
      job_id: job.id,
      job_revision: job.revision,
      reason: "manual",
      attempt: 1,
      parent_run_id: null,
      scheduled_for: now,
      created_at: now,
      started_at: now,
      finished_at: null,
      status: "running",
      exit_code: null,
      http_status: null,
      error: null,
      log_bytes: 0,
      log_lines: 0,
      cpu_ms: null,
      peak_memory_bytes: null,
      overrides,
      trigger_path: null,
      wait: { start_after: null, waiting_for: null, wait_until: null },
    };
    this.runs.push(run);
    this.emit({ type: "run_changed", run_id: run.id, job_id: job.id, status: "running" });
    return run;
  }
  /** Adds a finished run of `jobId` scheduled at `at` that took `ms`, as history. */
  addRun(jobId: string, at: string, ms: number, status: Run["status"] = "succeeded", extra: Partial<Run> = {}): Run {
    const start = Date.parse(at);
    const run: Run = {
      id: newId(),
      job_id: jobId,
      job_revision: 1,
      reason: "schedule",
      attempt: 1,
      parent_run_id: null,
      scheduled_for: at,
      created_at: at,
      started_at: status === "skipped" ? null : at,
      finished_at: status === "running" || status === "queued" ? null : new Date(start + ms).toISOString(),
      status,
      exit_code: status === "succeeded" ? 0 : status === "failed" ? 1 : null,
      http_status: null,
      error: null,
      log_bytes: 0,
      log_lines: 0,
      cpu_ms: null,
      peak_memory_bytes: null,
      overrides: null,
      trigger_path: null,
      wait: { start_after: null, waiting_for: null, wait_until: null },
      ...extra,
    };
    this.runs.push(run);
    return run;
  }
  /** Ends a run as the engine would, and tells listeners. */
  finishRun(
    runId: string,
    status: Run["status"],
    exitCode: number | null = 0,
    resources: Pick<Run, "cpu_ms" | "peak_memory_bytes"> = { cpu_ms: 120, peak_memory_bytes: 12 * 2 ** 20 },
  ): void {
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw new Error(`no run ${runId}`);
    Object.assign(run, { status, exit_code: exitCode, finished_at: new Date().toISOString(), ...resources });
    this.emit({ type: "run_changed", run_id: run.id, job_id: run.job_id, status });
  }
  previewTrigger(trigger: Trigger, count: number): Promise<SchedulePreview> {
    void count;
    return this.attempt("previewTrigger", () => ({
      description: trigger.type === "manual" ? "Only when run by hand" : `Fake schedule: ${JSON.stringify(trigger)}`,
      fires: [],
    }));
  }
  /** Newest first, filtered and paged like the engine's keyset query. */
  listRuns(query: RunQuery) {
    return this.attempt("listRuns", () => {
      if (query.limit < 1 || query.limit > 1000) {
        throw new BackendError("invalid", "limit: must be between 1 and 1000", [{ field: "limit", message: "must be between 1 and 1000" }]);
      }
      return [...this.runs]
        .sort((a, b) => b.id.localeCompare(a.id))
        .filter(
          (r) =>
            (query.job_id === undefined || r.job_id === query.job_id) &&
            (query.statuses === undefined || query.statuses.length === 0 || query.statuses.includes(r.status)) &&
            (query.from === undefined || r.scheduled_for >= query.from) &&
            (query.to === undefined || r.scheduled_for < query.to) &&
            (query.before === undefined || r.id < query.before),
        )
        .slice(0, query.limit);
    });
  }
  getRun(id: string) {
    return this.attempt("getRun", () => {
      const run = this.runs.find((r) => r.id === id);
      if (!run) throw new BackendError("not_found", `run ${id} was not found`);
      // A copy, as over IPC: a run the fake changes later is a new value to the UI.
      return { ...run };
    });
  }
  getRunValues(id: string) {
    return this.attempt("getRunValues", () => {
      if (!this.runs.some((r) => r.id === id)) throw new BackendError("not_found", `run ${id} was not found`);
      const values = this.runValues.get(id);
      return { output: [...(values?.output ?? [])], passed: [...(values?.passed ?? [])] };
    });
  }
  cancelRun(id: string) {
    return this.attempt("cancelRun", () => {
      this.finishRun(id, "cancelled", null);
    });
  }
  jobOverview(id: string) {
    return this.attempt("jobOverview", (): JobOverview => {
      this.find(id);
      const runs = [...this.runs].filter((r) => r.job_id === id).sort((a, b) => b.id.localeCompare(a.id));
      const since = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
      return {
        next_fires: this.nextFires.get(id) ?? [],
        recent_runs: runs.slice(0, 50),
        last_7_days: outcomes(runs.filter((r) => r.scheduled_for >= since(7))),
        last_30_days: outcomes(runs.filter((r) => r.scheduled_for >= since(30))),
      };
    });
  }
  runStrips(perJob: number) {
    return this.attempt("runStrips", () => {
      const out: RunMark[] = [];
      for (const { job } of this.jobs) {
        const runs = this.runs.filter((r) => r.job_id === job.id).sort((a, b) => a.id.localeCompare(b.id));
        out.push(...runs.slice(-perJob).map(mark));
      }
      return out;
    });
  }
  timeline(from: string, to: string) {
    return this.attempt("timeline", (): Timeline => {
      const [start, end] = [Date.parse(from), Date.parse(to)];
      const runs = this.runs
        .filter((r) => {
          const s = Date.parse(r.started_at ?? r.scheduled_for);
          const f = r.finished_at ? Date.parse(r.finished_at) : Date.now();
          return s < end && f >= start;
        })
        .sort((a, b) => b.scheduled_for.localeCompare(a.scheduled_for))
        .map(mark);
      const upcoming = this.paused ? [] : this.upcoming.filter((u) => Date.parse(u.at) >= start && Date.parse(u.at) < end);
      const gaps = this.gaps.filter((g) => Date.parse(g.noticed_at) >= start && Date.parse(g.gap_start) < end);
      return { runs, truncated: false, upcoming, gaps };
    });
  }
  dailyOutcomes(jobId: string | null, from: string, to: string) {
    return this.attempt("dailyOutcomes", (): DayOutcomes[] => {
      const days = new Map<string, DayOutcomes>();
      for (const r of this.runs) {
        if ((jobId !== null && r.job_id !== jobId) || r.scheduled_for < from || r.scheduled_for >= to || r.status === "skipped") continue;
        const day = localDay(r.scheduled_for);
        const d = days.get(day) ?? { day, runs: 0, succeeded: 0, failed: 0 };
        d.runs += 1;
        if (r.status === "succeeded") d.succeeded += 1;
        if (FAILURES.includes(r.status)) d.failed += 1;
        days.set(day, d);
      }
      return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
    });
  }
  private source(source: LogSource): FakeLog {
    const log = source.kind === "run" ? this.logs.get(source.run_id) : this.appLogs.get(source.day);
    if (!log) {
      const what = source.kind === "run" ? `the log of run ${source.run_id}` : `the application log of ${source.day}`;
      throw new BackendError("not_found", `${what} was not found`);
    }
    return log;
  }
  /** The line numbers of a view: `null` when it is the whole log (position = line number). */
  private positions(view: LogView): number[] | null {
    if (!view.stream) return null;
    const log = this.source(view.source);
    const out: number[] = [];
    for (let n = 0; n < log.lines; n++) if (log.line(n).stream === view.stream) out.push(n);
    return out;
  }
  logInfo(view: LogView) {
    return this.attempt("logInfo", (): LogInfo => {
      const log = this.source(view.source);
      const positions = this.positions(view);
      const path = view.source.kind === "run" ? `/data/runs/${view.source.run_id}.log` : `/data/logs/sundial.${view.source.day}.log`;
      return { lines: positions ? positions.length : log.lines, bytes: log.lines * 40, path, live: log.live ?? false };
    });
  }
  readLogLines(view: LogView, start: number, count: number) {
    return this.attempt("readLogLines", () => {
      if (count < 1 || count > 5000) {
        throw new BackendError("invalid", "count: must be between 1 and 5000", [{ field: "count", message: "must be between 1 and 5000" }]);
      }
      const log = this.source(view.source);
      const positions = this.positions(view);
      const lines: LogLine[] = [];
      const end = Math.min(start + count, positions ? positions.length : log.lines);
      for (let p = start; p < end; p++) lines.push(log.line(positions ? at(positions, p) : p));
      return lines;
    });
  }
  locateLogLine(view: LogView, line: number) {
    return this.attempt("locateLogLine", () => {
      const log = this.source(view.source);
      const positions = this.positions(view);
      if (!positions) return Math.min(line, log.lines);
      const found = positions.findIndex((n) => n >= line);
      return found === -1 ? positions.length : found;
    });
  }
  searchLog(view: LogView, search: LogSearch) {
    return this.attempt("searchLog", (): LogSearchResult => {
      if (search.pattern === "") {
        throw new BackendError("invalid", "pattern: the pattern is empty", [{ field: "pattern", message: "the pattern is empty" }]);
      }
      const log = this.source(view.source);
      const positions = this.positions(view);
      let pattern: RegExp;
      try {
        const source = search.regex ? search.pattern : search.pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        pattern = new RegExp(source, search.case_sensitive ? "g" : "gi");
      } catch (e) {
        throw new BackendError("invalid", `pattern: ${String(e)}`, [{ field: "pattern", message: String(e) }]);
      }
      const size = positions ? positions.length : log.lines;
      const matches: LogMatch[] = [];
      let total = 0;
      let next = size;
      for (let p = search.from; p < size; p++) {
        const line = log.line(positions ? at(positions, p) : p);
        const ranges = utf16Ranges(line.text, pattern);
        if (ranges.length === 0) continue;
        total += 1;
        if (matches.length < search.max_matches) {
          matches.push({ position: p, line: line.number, ranges });
          next = p + 1;
        }
      }
      if (matches.length < search.max_matches) next = size;
      return { total, matches, next };
    });
  }
  followRunLog(runId: string, fromLine: number, onBatch: Parameters<Backend["followRunLog"]>[2]) {
    return this.attempt("followRunLog", () => {
      const log = this.source({ kind: "run", run_id: runId });
      const lines: LogLine[] = [];
      for (let n = fromLine; n < log.lines; n++) lines.push(log.line(n));
      this.followers.set(runId, { onBatch, sent: log.lines });
      onBatch({ lines, done: !log.live });
    });
  }
  private followers = new Map<string, { onBatch: Parameters<Backend["followRunLog"]>[2]; sent: number }>();
  /** Appends lines to a live run log and sends them to its follower, as the engine would;
   * `done` ends the run's log. */
  appendLog(runId: string, lines: LogLine[], done = false): void {
    const log = this.logs.get(runId);
    if (!log) throw new Error(`no log for run ${runId}`);
    const before = log.line.bind(log);
    const start = log.lines;
    log.line = (n) => (n < start ? before(n) : at(lines, n - start));
    log.lines += lines.length;
    log.live = !done;
    const follower = this.followers.get(runId);
    if (follower) {
      follower.onBatch({ lines, done });
      follower.sent = log.lines;
      if (done) this.followers.delete(runId);
    }
  }
  /** The job-wide search under way: a test delivers its batches with `flushJobLogSearch`. */
  jobLogSearch: { jobId: string; batches: JobLogSearchBatch[]; onBatch: (batch: JobLogSearchBatch) => void; cancelled: boolean } | null = null;
  searchJobLogs(jobId: string, search: JobLogSearch, onBatch: (batch: JobLogSearchBatch) => void) {
    return this.attempt("searchJobLogs", () => {
      this.find(jobId);
      if (search.pattern === "") {
        throw new BackendError("invalid", "search.pattern: the pattern is empty", [{ field: "search.pattern", message: "the pattern is empty" }]);
      }
      let pattern: RegExp;
      try {
        const source = search.regex ? search.pattern : search.pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        pattern = new RegExp(source, search.case_sensitive ? "g" : "gi");
      } catch (e) {
        throw new BackendError("invalid", `search.pattern: ${String(e)}`, [{ field: "search.pattern", message: String(e) }]);
      }
      if (this.jobLogSearch) this.jobLogSearch.cancelled = true;
      // Newest run first, one batch per run, then the summary.
      const runs = this.runs.filter((r) => r.job_id === jobId).sort((a, b) => b.id.localeCompare(a.id));
      const batches: JobLogSearchBatch[] = [];
      const summary = { runs: 0, runs_matched: 0, total: 0, shown: 0, bytes: 0, unreadable: 0, cancelled: false };
      for (const run of runs) {
        const log = this.logs.get(run.id);
        if (!log) continue;
        summary.runs += 1;
        summary.bytes += log.lines * 40;
        const found: JobLogRun = { run_id: run.id, time: run.started_at ?? run.scheduled_for, status: run.status, total: 0, matches: [] };
        for (let n = 0; n < log.lines; n++) {
          const line = log.line(n);
          const ranges = utf16Ranges(line.text, pattern);
          if (ranges.length === 0) continue;
          found.total += 1;
          if (summary.shown < search.max_matches) {
            summary.shown += 1;
            found.matches.push({ line: line.number, time: line.time, stream: line.stream, text: line.text, ranges });
          }
        }
        if (found.total > 0) {
          summary.runs_matched += 1;
          summary.total += found.total;
          batches.push({ runs: [found] });
        }
      }
      batches.push({ runs: [], done: summary });
      this.jobLogSearch = { jobId, batches, onBatch, cancelled: false };
    });
  }
  /** Delivers up to `count` batches of the search under way (all by default), as the engine
   * streams them. */
  flushJobLogSearch(count = Infinity): void {
    const search = this.jobLogSearch;
    if (!search || search.cancelled) return;
    for (let i = 0; i < count && search.batches.length > 0; i++) {
      const batch = search.batches.shift();
      if (batch) search.onBatch(batch);
    }
  }
  cancelJobLogSearch() {
    return this.attempt("cancelJobLogSearch", () => {
      if (this.jobLogSearch) this.jobLogSearch.cancelled = true;
    });
  }
  listAppLogs() {
    return this.record(
      "listAppLogs",
      [...this.appLogs.entries()]
        .map(([day, log]): AppLogFile => ({ day, bytes: log.lines * 40 }))
        .sort((a, b) => b.day.localeCompare(a.day)),
    );
  }
  revealLog(source: LogSource) {
    return this.attempt("revealLog", () => {
      this.source(source);
    });
  }
  getRetention() {
    return this.record("getRetention", this.retention);
  }
  setRetention(policy: RetentionPolicy) {
    return this.attempt("setRetention", () => {
      this.retention = policy;
      return policy;
    });
  }
  getStatus() {
    return this.record("getStatus", this.status());
  }
  pauseAll() {
    return this.attempt("pauseAll", () => {
      this.paused = true;
      this.emit({ type: "pause_changed", paused: true });
      return this.status();
    });
  }
  resumeAll() {
    return this.attempt("resumeAll", () => {
      this.paused = false;
      this.emit({ type: "pause_changed", paused: false });
      return this.status();
    });
  }
  getSettings() {
    return this.record("getSettings", this.settings);
  }
  updateSettings(settings: Settings) {
    return this.attempt("updateSettings", () => {
      this.settings = settings;
      return settings;
    });
  }
  /** The screens the page reported, in order. */
  screens: Route[] = [];
  rememberScreen(screen: Route) {
    this.screens.push(screen);
    return Promise.resolve();
  }
  getAutostart() {
    return this.record("getAutostart", this.autostart);
  }
  setAutostart(enabled: boolean) {
    return this.attempt("setAutostart", () => {
      this.autostart = enabled;
      return enabled;
    });
  }
  /** What `crontab -l` gives (readCrontab). */
  crontab: CrontabText = { text: "", message: "you have no crontab" };
  /** The file the next "Choose file…" picks (null: cancelled). */
  chosenFile: ChosenFile | null = null;
  /** Where the next save dialog saves (null: cancelled), and what was saved. */
  savePath: string | null = "/home/me/sundial-jobs.toml";
  saved: Array<{ path: string; ids: string[]; format: ExportFormat }> = [];

  /** A small model of the engine's import check (files/transfer.rs): a user crontab's lines
   * (comments, variables, five time fields and a command), a name taken, `on_conflict`. */
  private planImport(source: ImportSource): ImportPlan {
    const entries: PlanEntry[] = [];
    const problems: ImportPlan["problems"] = [];
    const origin = source.origin || "crontab";
    const zone = source.timezone || "system zone";
    const taken = new Set(this.jobs.map((j) => j.job.name.toLowerCase()));
    let number = 0;
    source.text.split("\n").forEach((raw, i) => {
      if (i === source.text.split("\n").length - 1 && raw === "") return;
      const line = raw.trim();
      const at = (outcome: EntryOutcome) => entries.push({ line: i + 1, text: raw, outcome });
      if (line === "") return at({ type: "not_a_job", kind: "blank", reason: "blank line" });
      if (line.startsWith("#")) return at({ type: "not_a_job", kind: "comment", reason: "comment" });
      const variable = /^([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      if (variable) return at({ type: "not_a_job", kind: "variable", reason: `variable: ${variable[1]} is set in the environment of the jobs below` });
      const fields = line.split(/\s+/);
      if (fields.length < 6)
        return at({ type: "not_a_job", kind: "invalid", reason: "is neither a job (five time fields, then the command), a VAR=value line nor a comment" });
      const expr = fields.slice(0, 5).join(" ");
      const problem = fields.slice(0, 5).map((f, k) => cronFieldProblem(f, at5(k))).find((p) => p !== null);
      if (problem) return at({ type: "not_a_job", kind: "invalid", reason: `time fields ${JSON.stringify(expr)}: ${problem}` });
      number += 1;
      const command = fields.slice(5).join(" ");
      const name = `${origin}:${i + 1} ${command}`;
      const schedule = `cron ${expr} (${zone})`;
      if (taken.has(name.toLowerCase())) {
        if (source.on_conflict === "skip") return at({ type: "skip", name, reason: `a job named “${name}” exists: it is left as it is` });
        if (source.on_conflict === "rename") return at({ type: "create", name: `${name} (2)`, schedule, command, renamed_from: name });
        if (source.on_conflict === "replace") {
          const existing = this.jobs.find((j) => j.job.name.toLowerCase() === name.toLowerCase());
          return at({ type: "replace", name, schedule, command, job_id: existing?.job.id ?? "", revision: existing?.job.revision ?? 0 });
        }
        const message = `“${name}” is already the name of a job: choose skip, rename or replace for conflicts`;
        problems.push({ line: i + 1, column: null, job: number, job_name: name, field: "name", message });
        return at({ type: "refused", name, problems: [`name: ${message}`] });
      }
      at({ type: "create", name, schedule, command, renamed_from: null });
    });
    const jobs = entries.filter((e) => ["create", "replace"].includes(e.outcome.type)).length;
    return { format: source.format, entries, problems, jobs, ready: problems.length === 0 };
  }
  previewImport(source: ImportSource) {
    return this.attempt("previewImport", () => this.planImport(source));
  }
  applyImport(source: ImportSource, expected: ImportPlan) {
    return this.attempt("applyImport", (): ImportReport => {
      const plan = this.planImport(source);
      if (JSON.stringify(plan) !== JSON.stringify(expected)) {
        throw new BackendError(
          "conflict",
          "the jobs changed since the preview (another window or sundialctl changed them, or the text changed); nothing was imported: preview again",
        );
      }
      if (!plan.ready) throw new BackendError("invalid", `the import has ${plan.problems.length} problem(s); nothing was imported`);
      const report: ImportReport = { created: [], replaced: [], renamed: [], skipped: [] };
      for (const { outcome } of plan.entries) {
        if (outcome.type === "create") {
          const job = this.addJob(
            {
              name: outcome.name,
              tags: ["crontab"],
              kind: { type: "command", program: { mode: "script", interpreter: "sh", body: outcome.command }, working_dir: null, env: [] },
            },
            outcome.schedule,
          );
          if (outcome.renamed_from) report.renamed.push({ from: outcome.renamed_from, to: outcome.name, id: job.id });
          else report.created.push({ name: outcome.name, id: job.id });
          this.emit({ type: "job_changed", job_id: job.id });
        } else if (outcome.type === "skip") report.skipped.push(outcome.name);
        else if (outcome.type === "replace") report.replaced.push({ name: outcome.name, id: outcome.job_id });
      }
      return report;
    });
  }
  readCrontab() {
    return this.record("readCrontab", this.crontab);
  }
  chooseImportFile() {
    return this.record("chooseImportFile", this.chosenFile);
  }
  /** A job file of the jobs (a readable stand-in for the engine's TOML, JSON and units). */
  exportJobs(ids: string[], format: ExportFormat) {
    return this.attempt("exportJobs", (): Export => {
      if (ids.length === 0) throw new BackendError("invalid", "ids: choose at least one job to export", [{ field: "ids", message: "choose at least one job to export" }]);
      const jobs = ids.map((id) => this.find(id).job);
      const manual = jobs.filter((j) => j.trigger.type === "manual");
      if (format === "toml" || format === "json") {
        const content =
          format === "toml"
            ? `version = 1\n${jobs.map((j) => `\n[[jobs]]\nname = ${JSON.stringify(j.name)}\n`).join("")}`
            : `${JSON.stringify({ version: 1, jobs: jobs.map((j) => ({ name: j.name })) }, null, 2)}\n`;
        return { files: [{ name: `sundial-jobs.${format}`, content }], untranslatable: [], notes: [] };
      }
      const translated = jobs.filter((j) => j.trigger.type !== "manual");
      return {
        files:
          format === "systemd"
            ? translated.flatMap((j) => [
                { name: `sundial-${j.name}.service`, content: `[Unit]\nDescription=${j.name}\n` },
                { name: `sundial-${j.name}.timer`, content: `[Timer]\nOnCalendar=daily\n` },
              ])
            : translated.length > 0
              ? [{ name: "sundial-cronjobs.yaml", content: translated.map((j) => `kind: CronJob\nmetadata:\n  name: ${j.name}\n`).join("---\n") }]
              : [],
        untranslatable: manual.map((j) => ({ job: j.name, reason: "manual job: no timer to translate to" })),
        notes: [],
      };
    });
  }
  saveExport(ids: string[], format: ExportFormat) {
    return this.attempt("saveExport", () => {
      if (this.savePath === null) return null;
      this.saved.push({ path: this.savePath, ids, format });
      return this.savePath;
    });
  }
  subscribe(onChange: (change: Change) => void) {
    this.listeners.add(onChange);
    return Promise.resolve(() => {
      this.listeners.delete(onChange);
    });
  }
}
