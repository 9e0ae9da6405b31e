// The one interface between the UI and Sundial's engine. `tauri.ts` implements it over IPC;
// `fake.ts` implements it in memory for unit tests. Nothing else imports @tauri-apps/*.
import type { AppStatus } from "../bindings/AppStatus";
import type { EngineEvent } from "../bindings/EngineEvent";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { FieldError } from "../bindings/FieldError";
import type { Job } from "../bindings/Job";
import type { JobSpec } from "../bindings/JobSpec";
import type { JobSummary } from "../bindings/JobSummary";
import type { LogBatch } from "../bindings/LogBatch";
import type { LogLine } from "../bindings/LogLine";
import type { Run } from "../bindings/Run";
import type { RunQuery } from "../bindings/RunQuery";
import type { SchedulePreview } from "../bindings/SchedulePreview";
import type { Settings } from "../bindings/Settings";
import type { Trigger } from "../bindings/Trigger";

/** What changed in the engine; `resync` means events were missed: refetch everything. */
export type Change = EngineEvent | { type: "resync" };

export interface Backend {
  listJobs(): Promise<JobSummary[]>;
  getJob(id: string): Promise<Job>;
  createJob(spec: JobSpec): Promise<Job>;
  updateJob(id: string, spec: JobSpec, expectedRevision: number): Promise<Job>;
  setJobEnabled(id: string, enabled: boolean): Promise<Job>;
  deleteJob(id: string): Promise<void>;
  runJobNow(id: string): Promise<Run>;
  previewTrigger(trigger: Trigger, count: number): Promise<SchedulePreview>;
  listRuns(query: RunQuery): Promise<Run[]>;
  getRun(id: string): Promise<Run>;
  cancelRun(id: string): Promise<void>;
  readLogLines(runId: string, start: number, count: number): Promise<LogLine[]>;
  /** Streams a run's log in batches until `done`; returns once the stream is set up. */
  followRunLog(runId: string, fromLine: number, onBatch: (batch: LogBatch) => void): Promise<void>;
  getStatus(): Promise<AppStatus>;
  pauseAll(): Promise<AppStatus>;
  resumeAll(): Promise<AppStatus>;
  getSettings(): Promise<Settings>;
  updateSettings(settings: Settings): Promise<Settings>;
  getAutostart(): Promise<boolean>;
  setAutostart(enabled: boolean): Promise<boolean>;
  /** Calls `onChange` for every engine change; resolves to a function that stops listening. */
  subscribe(onChange: (change: Change) => void): Promise<() => void>;
}

/** Every backend failure: `code` to branch on, `fields` to show next to their inputs. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[];

  constructor(code: ErrorCode, message: string, fields: FieldError[] = []) {
    super(message);
    this.name = "BackendError";
    this.code = code;
    this.fields = fields;
  }

  /** Normalizes what a rejected call gives: Sundial's `{code, message, fields}`, or a plain
   * string from Tauri itself (e.g. a permission refusal). */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (typeof raw === "object" && raw !== null && "code" in raw && "message" in raw) {
      const e = raw as { code: ErrorCode; message: string; fields?: FieldError[] };
      return new BackendError(e.code, e.message, e.fields ?? []);
    }
    return new BackendError("internal", raw instanceof Error ? raw.message : String(raw));
  }
}
