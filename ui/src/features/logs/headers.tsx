// The log viewer's header (a run's job, status and actions, or the application log's day)
// and its notices.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useNavigation } from "../../app/navigation";
import { Button, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { overridesNote } from "../history/format";
import { useCancelRun } from "../history/queries";
import { formatWhen, statusLabel, statusStyle } from "../jobs/format";
import { formatBytes } from "./format";

export function RunHeader({ runId, live }: { runId: string; live: boolean }) {
  const backend = useBackend();
  const run = useQuery({ queryKey: ["logs", "run", runId], queryFn: () => backend.getRun(runId) });
  const jobId = run.data?.job_id;
  const job = useQuery({
    queryKey: ["job", jobId ?? ""],
    queryFn: () => backend.getJob(jobId ?? ""),
    enabled: jobId !== undefined,
  });
  const navigation = useNavigation();
  const cancel = useCancelRun();
  const status = run.data?.status;
  const style = status ? statusStyle[status] : null;
  const started = run.data?.started_at ?? run.data?.scheduled_for;
  return (
    <div className="flex min-w-0 flex-1 flex-wrap items-center gap-x-3 gap-y-1">
      <h1 className="truncate text-lg font-semibold" data-testid="log-title">
        {job.data?.name ?? (job.isError ? "Unknown job" : run.isError ? "Run log" : "…")}
      </h1>
      {status && style && (
        <span className={`inline-flex items-center gap-1 text-sm font-medium ${style.className}`} data-testid="log-run-status">
          <span aria-hidden="true">{style.icon}</span>
          {statusLabel[status]}
        </span>
      )}
      {started && <span className="text-sm text-slate-500 dark:text-slate-400">Started {formatWhen(started)}</span>}
      {live && <LiveBadge />}
      {run.data?.trigger_path && (
        <span className="truncate font-mono text-sm text-slate-600 dark:text-slate-400" title={run.data.trigger_path} data-testid="log-trigger-path">
          File: {run.data.trigger_path}
        </span>
      )}
      {run.data?.overrides && (
        <span className="truncate text-sm text-sky-800 dark:text-sky-300" title={overridesNote(run.data.overrides, true) ?? undefined} data-testid="log-run-overrides">
          {overridesNote(run.data.overrides)}
        </span>
      )}
      {run.data?.error && (
        <span className="truncate text-sm text-red-700 dark:text-red-400" title={run.data.error}>
          {run.data.error}
        </span>
      )}
      {(status === "running" || status === "queued") && (
        <Button variant="danger" className="!px-2.5 !py-1" disabled={cancel.isPending} onClick={() => cancel.mutate(runId)}>
          {cancel.isPending ? "Cancelling…" : "Cancel run"}
        </Button>
      )}
      {jobId && (
        <Button variant="ghost" className="!px-2 !py-1" onClick={() => navigation.navigate({ screen: "job", jobId, tab: "history" })}>
          Job history
        </Button>
      )}
      {cancel.error && (
        <span role="alert" className="text-sm text-red-700 dark:text-red-400">
          Could not cancel: {BackendError.from(cancel.error).message}
        </span>
      )}
    </div>
  );
}

export function AppHeader({ day, live }: { day: string; live: boolean }) {
  const backend = useBackend();
  const navigation = useNavigation();
  const days = useQuery({ queryKey: ["logs", "app-logs"], queryFn: () => backend.listAppLogs() });
  const options = days.data ?? [];
  const known = options.some((d) => d.day === day);
  return (
    <div className="flex min-w-0 flex-1 flex-wrap items-center gap-3">
      <h1 className="text-lg font-semibold">Application log</h1>
      <label className="flex items-center gap-2 text-sm">
        <span className="text-slate-600 dark:text-slate-300">Day</span>
        <select
          className={`${inputClass} !w-auto !py-1`}
          value={day}
          data-testid="log-day"
          onChange={(e) => navigation.navigate({ screen: "log", source: { kind: "app", day: e.target.value } })}
        >
          {!known && <option value={day}>{day}</option>}
          {options.map((d) => (
            <option key={d.day} value={d.day}>
              {d.day} ({formatBytes(d.bytes)})
            </option>
          ))}
        </select>
      </label>
      {live && <LiveBadge />}
    </div>
  );
}

export function LiveBadge() {
  return (
    <span
      className="inline-flex items-center gap-1.5 rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-semibold text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100"
      data-testid="log-live"
    >
      <span className="size-1.5 animate-pulse rounded-full bg-emerald-500" aria-hidden="true" />
      Live
    </span>
  );
}

export function Notice({ children, tone = "muted" }: { children: ReactNode; tone?: "muted" | "error" }) {
  return tone === "error" ? (
    <div role="alert" className="m-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
      {children}
    </div>
  ) : (
    <div className="m-auto p-8 text-center text-sm text-slate-500 dark:text-slate-400" data-testid="log-notice">
      {children}
    </div>
  );
}
