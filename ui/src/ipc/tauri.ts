import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { EngineEvent } from "../bindings/EngineEvent";
import type { JobLogSearchBatch } from "../bindings/JobLogSearchBatch";
import type { LogBatch } from "../bindings/LogBatch";
import { type Backend, BackendError, type Change } from "./backend";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw BackendError.from(raw);
  }
}

/** The real backend: Sundial's commands over Tauri IPC. Names match src-tauri/src/commands. */
export const tauriBackend: Backend = {
  listJobs: () => call("list_jobs"),
  getJob: (id) => call("get_job", { id }),
  createJob: (spec) => call("create_job", { spec }),
  updateJob: (id, spec, expectedRevision) => call("update_job", { id, spec, expectedRevision }),
  setJobEnabled: (id, enabled) => call("set_job_enabled", { id, enabled }),
  deleteJob: (id) => call("delete_job", { id }),
  runJobNow: (id) => call("run_job_now", { id }),
  runJobWith: (id, overrides) => call("run_job_with", { id, overrides }),
  previewTrigger: (trigger, count) => call("preview_trigger", { trigger, count }),
  listRuns: (query) => call("list_runs", { query }),
  getRun: (id) => call("get_run", { id }),
  getRunValues: (id) => call("get_run_values", { id }),
  cancelRun: (id) => call("cancel_run", { id }),
  jobOverview: (id) => call("job_overview", { id }),
  runStrips: (perJob) => call("run_strips", { perJob }),
  timeline: (from, to) => call("timeline", { from, to }),
  dailyOutcomes: (jobId, from, to) => call("daily_outcomes", { jobId, from, to }),
  logInfo: (view) => call("log_info", { view }),
  readLogLines: (view, start, count) => call("read_log_lines", { view, start, count }),
  locateLogLine: (view, line) => call("locate_log_line", { view, line }),
  searchLog: (view, search) => call("search_log", { view, search }),
  listAppLogs: () => call("list_app_logs"),
  revealLog: (source) => call("reveal_log", { source }),
  getRetention: () => call("get_retention"),
  setRetention: (policy) => call("set_retention", { policy }),
  followRunLog: (runId, fromLine, onBatch) => {
    const onBatchChannel = new Channel<LogBatch>();
    onBatchChannel.onmessage = onBatch;
    return call("follow_run_log", { runId, fromLine, onBatch: onBatchChannel });
  },
  searchJobLogs: (jobId, search, onBatch) => {
    const onBatchChannel = new Channel<JobLogSearchBatch>();
    onBatchChannel.onmessage = onBatch;
    return call("search_job_logs", { jobId, search, onBatch: onBatchChannel });
  },
  cancelJobLogSearch: () => call("cancel_job_log_search"),
  getStatus: () => call("get_status"),
  pauseAll: () => call("pause_all"),
  resumeAll: () => call("resume_all"),
  getSettings: () => call("get_settings"),
  updateSettings: (settings) => call("update_settings", { settings }),
  getAutostart: () => call("get_autostart"),
  setAutostart: (enabled) => call("set_autostart", { enabled }),
  rememberScreen: (screen) => call("remember_screen", { screen }),
  previewImport: (source) => call("preview_import", { source }),
  applyImport: (source, plan) => call("apply_import", { source, plan }),
  readCrontab: () => call("read_crontab"),
  chooseImportFile: () => call("choose_import_file"),
  exportJobs: (ids, format) => call("export_jobs", { ids, format }),
  saveExport: (ids, format) => call("save_export", { ids, format }),
  subscribe: async (onChange: (change: Change) => void) => {
    const stopEvents = await listen<EngineEvent>("engine-event", (e) => onChange(e.payload));
    const stopResync = await listen("engine-resync", () => onChange({ type: "resync" }));
    return () => {
      stopEvents();
      stopResync();
    };
  },
};

declare global {
  interface Window {
    /** The screen the window showed before it was closed to the tray (src-tauri/src/window.rs). */
    __SUNDIAL_SCREEN__?: unknown;
  }
}

/** What the shell gave this page to start on (null on a first open). */
export function initialScreen(): unknown {
  return window.__SUNDIAL_SCREEN__ ?? null;
}
