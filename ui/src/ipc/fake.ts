// An in-memory backend with the same interface, for unit tests (and for working on screens
// without the app). It keeps jobs, runs and the pause state, and emits changes like the engine.
import type { AppStatus } from "../bindings/AppStatus";
import type { Job } from "../bindings/Job";
import type { JobSpec } from "../bindings/JobSpec";
import type { JobSummary } from "../bindings/JobSummary";
import type { LogLine } from "../bindings/LogLine";
import type { Run } from "../bindings/Run";
import type { Settings } from "../bindings/Settings";
import { type Backend, BackendError, type Change } from "./backend";

let counter = 0;
/** A 26-character id shaped like the engine's ULIDs. */
function newId(): string {
  counter += 1;
  return `01FAKE${String(counter).padStart(20, "0")}`;
}

export interface FakeJob {
  job: Job;
  schedule: string;
  nextFire: string | null;
}

export class FakeBackend implements Backend {
  jobs: FakeJob[] = [];
  runs: Run[] = [];
  logs = new Map<string, LogLine[]>();
  paused = false;
  settings: Settings = {
    quit_behaviour: "wait",
    app_log_days: 14,
    notifications: true,
    close_notice_shown: false,
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
    return this.attempt("runJobNow", () => {
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
      };
      this.runs.push(run);
      this.emit({ type: "run_changed", run_id: run.id, job_id: job.id, status: "running" });
      return run;
    });
  }
  /** Ends a run as the engine would, and tells listeners. */
  finishRun(runId: string, status: Run["status"], exitCode: number | null = 0): void {
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw new Error(`no run ${runId}`);
    Object.assign(run, { status, exit_code: exitCode, finished_at: new Date().toISOString() });
    this.emit({ type: "run_changed", run_id: run.id, job_id: run.job_id, status });
  }
  previewTrigger() {
    return this.attempt("previewTrigger", () => ({ description: "Only when run by hand", fires: [] }));
  }
  listRuns() {
    return this.record("listRuns", [...this.runs].reverse());
  }
  getRun(id: string) {
    return this.attempt("getRun", () => {
      const run = this.runs.find((r) => r.id === id);
      if (!run) throw new BackendError("not_found", `run ${id} was not found`);
      return run;
    });
  }
  cancelRun(id: string) {
    return this.attempt("cancelRun", () => {
      this.finishRun(id, "cancelled", null);
    });
  }
  readLogLines(runId: string, start: number, count: number) {
    return this.record("readLogLines", (this.logs.get(runId) ?? []).slice(start, start + count));
  }
  followRunLog(runId: string, fromLine: number, onBatch: Parameters<Backend["followRunLog"]>[2]) {
    return this.attempt("followRunLog", () => {
      onBatch({ lines: (this.logs.get(runId) ?? []).slice(fromLine), done: true });
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
  getAutostart() {
    return this.record("getAutostart", this.autostart);
  }
  setAutostart(enabled: boolean) {
    return this.attempt("setAutostart", () => {
      this.autostart = enabled;
      return enabled;
    });
  }
  subscribe(onChange: (change: Change) => void) {
    this.listeners.add(onChange);
    return Promise.resolve(() => {
      this.listeners.delete(onChange);
    });
  }
}
