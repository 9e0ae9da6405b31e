// The one interface between the UI and Sundial's engine. `tauri.ts` implements it over IPC;
// `fake.ts` implements it in memory for unit tests. Nothing else imports @tauri-apps/*.
import type { Route } from "../app/navigation";
import type { AppLogFile } from "../bindings/AppLogFile";
import type { AppStatus } from "../bindings/AppStatus";
import type { ChosenFile } from "../bindings/ChosenFile";
import type { CrontabText } from "../bindings/CrontabText";
import type { DayOutcomes } from "../bindings/DayOutcomes";
import type { EngineEvent } from "../bindings/EngineEvent";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { Export } from "../bindings/Export";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { FieldError } from "../bindings/FieldError";
import type { ImportPlan } from "../bindings/ImportPlan";
import type { ImportReport } from "../bindings/ImportReport";
import type { ImportSource } from "../bindings/ImportSource";
import type { Job } from "../bindings/Job";
import type { JobLogSearch } from "../bindings/JobLogSearch";
import type { JobLogSearchBatch } from "../bindings/JobLogSearchBatch";
import type { JobOverview } from "../bindings/JobOverview";
import type { JobSpec } from "../bindings/JobSpec";
import type { JobSummary } from "../bindings/JobSummary";
import type { LogBatch } from "../bindings/LogBatch";
import type { LogInfo } from "../bindings/LogInfo";
import type { LogLine } from "../bindings/LogLine";
import type { LogSearch } from "../bindings/LogSearch";
import type { LogSearchResult } from "../bindings/LogSearchResult";
import type { LogSource } from "../bindings/LogSource";
import type { LogView } from "../bindings/LogView";
import type { RetentionPolicy } from "../bindings/RetentionPolicy";
import type { Run } from "../bindings/Run";
import type { RunMark } from "../bindings/RunMark";
import type { RunOverrides } from "../bindings/RunOverrides";
import type { RunQuery } from "../bindings/RunQuery";
import type { RunValues } from "../bindings/RunValues";
import type { SchedulePreview } from "../bindings/SchedulePreview";
import type { Settings } from "../bindings/Settings";
import type { Timeline } from "../bindings/Timeline";
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
  /** "Run now with…": one run with environment values set and arguments appended (command
   * and script jobs; secrets are not overridden). Field errors: `env[i].name`, `args[i]`… */
  runJobWith(id: string, overrides: RunOverrides): Promise<Run>;
  previewTrigger(trigger: Trigger, count: number): Promise<SchedulePreview>;
  listRuns(query: RunQuery): Promise<Run[]>;
  getRun(id: string): Promise<Run>;
  /** What a run wrote to `$SUNDIAL_OUTPUT` and what the run it was chained after passed to it. */
  getRunValues(id: string): Promise<RunValues>;
  cancelRun(id: string): Promise<void>;
  /** A job's next firings, newest 50 runs and success counts over 7 and 30 days. */
  jobOverview(id: string): Promise<JobOverview>;
  /** The newest `perJob` runs (at most 50) of every job, oldest first within a job. */
  runStrips(perJob: number): Promise<RunMark[]>;
  /** Runs overlapping `[from, to)` (at most 15 days) and the firings due from now to `to`. */
  timeline(from: string, to: string): Promise<Timeline>;
  /** Runs per local day in `[from, to)` of one job, or of all with `jobId` null. */
  dailyOutcomes(jobId: string | null, from: string, to: string): Promise<DayOutcomes[]>;
  /** How many lines a log view has now, the file's size and path, and whether it is live. */
  logInfo(view: LogView): Promise<LogInfo>;
  /** Lines at positions `start..start+count` of a view (at most 5,000): never a whole file. */
  readLogLines(view: LogView, start: number, count: number): Promise<LogLine[]>;
  /** The position in a view of the first line whose number is at least `line`. */
  locateLogLine(view: LogView, line: number): Promise<number>;
  /** Counts every match from `search.from` on and returns the first `max_matches`. */
  searchLog(view: LogView, search: LogSearch): Promise<LogSearchResult>;
  /** Streams a run's log (every stream, by line number) in batches until `done`; returns once
   * the stream is set up. */
  followRunLog(runId: string, fromLine: number, onBatch: (batch: LogBatch) => void): Promise<void>;
  /** Searches every run log of a job, newest run first: the runs with matches arrive on
   * `onBatch`, a last batch has `done`. A new search stops the one before; a bad pattern
   * rejects at once (field `search.pattern`). */
  searchJobLogs(jobId: string, search: JobLogSearch, onBatch: (batch: JobLogSearchBatch) => void): Promise<void>;
  /** Stops the job-wide search under way, if any. */
  cancelJobLogSearch(): Promise<void>;
  /** The application log's daily files, newest first. */
  listAppLogs(): Promise<AppLogFile[]>;
  /** Opens the folder holding a log file in the system's file manager. */
  revealLog(source: LogSource): Promise<void>;
  getRetention(): Promise<RetentionPolicy>;
  setRetention(policy: RetentionPolicy): Promise<RetentionPolicy>;
  getStatus(): Promise<AppStatus>;
  pauseAll(): Promise<AppStatus>;
  resumeAll(): Promise<AppStatus>;
  getSettings(): Promise<Settings>;
  updateSettings(settings: Settings): Promise<Settings>;
  getAutostart(): Promise<boolean>;
  setAutostart(enabled: boolean): Promise<boolean>;
  /** Tells the shell the screen shown, so that a window closed to the tray reopens on it. */
  rememberScreen(screen: Route): Promise<void>;
  /** What importing a crontab or job file would do: every crontab line (or every job of the
   * file) with the job it becomes or why not. Nothing is written. */
  previewImport(source: ImportSource): Promise<ImportPlan>;
  /** Imports, all or none, if the engine still finds `plan` (the report the user saw);
   * otherwise a `conflict` ("preview again") and nothing is written. */
  applyImport(source: ImportSource, plan: ImportPlan): Promise<ImportReport>;
  /** The user's crontab (`crontab -l`); none is an empty text with a message. */
  readCrontab(): Promise<CrontabText>;
  /** Asks for a file (the system's dialog) and reads it; `null` when cancelled. */
  chooseImportFile(): Promise<ChosenFile | null>;
  /** These jobs in a format, to preview (secrets masked). */
  exportJobs(ids: string[], format: ExportFormat): Promise<Export>;
  /** Exports and saves where the user says (a save dialog; a folder for systemd); the path
   * written, or `null` when cancelled. */
  saveExport(ids: string[], format: ExportFormat): Promise<string | null>;
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
