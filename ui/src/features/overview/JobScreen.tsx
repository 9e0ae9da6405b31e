// A job's screen: its name, one way back, one "Run now", and four tabs (Overview, Settings,
// History, Search all logs). A run started here is followed in words until it ends, with a link to its log.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigation } from "../../app/navigation";
import { Button } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { JobEditor } from "../editor/JobEditor";
import { formatDuration, overridesNote } from "../history/format";
import { RunHistory } from "../history/RunHistory";
import { useRunNow } from "../jobs/queries";
import { JobLogsSearch } from "./JobLogsSearch";
import { RunWithDialog } from "../runwith/RunWithDialog";
import { JobOverview } from "./JobOverview";
import { useRun } from "./queries";
import { durationOf, outcomeWords } from "./stats";

export type JobTab = "overview" | "edit" | "history" | "logs";

const TABS: Array<[JobTab, string]> = [
  ["overview", "Overview"],
  ["edit", "Settings"],
  ["history", "History"],
  ["logs", "Search all logs"],
];

/** "Running…", then "Succeeded in 245 ms" or "Failed with exit code 2", and the log. */
function StartedRun({ runId, onDismiss }: { runId: string; onDismiss: () => void }) {
  const run = useRun(runId);
  const { navigate } = useNavigation();
  if (!run.data) return null;
  const r = run.data;
  const going = r.status === "running" || r.status === "queued";
  const ms = durationOf(r);
  const words = going
    ? r.status === "queued"
      ? "The run you started is waiting for a free slot…"
      : "The run you started is going…"
    : `The run you started: ${outcomeWords(r)}${ms !== null ? ` after ${formatDuration(ms)}` : ""}.`;
  const tone = going
    ? "border-sky-200 bg-sky-50 text-sky-900 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-100"
    : r.status === "succeeded"
      ? "border-emerald-200 bg-emerald-50 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100"
      : "border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100";
  return (
    <div role="status" className={`flex items-center gap-3 border-b px-4 py-1.5 text-sm ${tone}`} data-testid="started-run" data-status={r.status}>
      {going && <span aria-hidden="true" className="size-2 animate-pulse rounded-full bg-sky-500" />}
      <span data-testid="started-run-words">{words}</span>
      {r.overrides && (
        <span className="truncate opacity-80" title={overridesNote(r.overrides, true) ?? undefined} data-testid="started-run-overrides">
          {overridesNote(r.overrides)}
        </span>
      )}
      <button
        type="button"
        className="font-medium underline"
        onClick={() => navigate({ screen: "log", source: { kind: "run", run_id: r.id } })}
        data-testid="started-run-log"
      >
        {going ? "Follow its log" : "Open its log"}
      </button>
      <button type="button" className="ml-auto text-xs underline opacity-80" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

export function JobScreen({ jobId, tab }: { jobId: string; tab: JobTab }) {
  const { navigate, back } = useNavigation();
  const backend = useBackend();
  const job = useQuery({ queryKey: ["job", jobId], queryFn: () => backend.getJob(jobId) });
  const runNow = useRunNow();
  const [started, setStarted] = useState<{ jobId: string; runId: string } | null>(null);
  const [runWith, setRunWith] = useState(false);
  const startedRun = started?.jobId === jobId ? started.runId : null;
  const tabClass = (active: boolean) =>
    "border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-sky-600 " +
    (active
      ? "border-sky-600 text-sky-800 dark:text-sky-300"
      : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100");
  return (
    <div className="flex h-full flex-col">
      <div className="flex items-center gap-3 border-b border-slate-200 px-4 pt-2 dark:border-slate-800">
        <Button variant="ghost" onClick={back} aria-label="Back" title="Back" className="mb-1.5" data-testid="job-back">
          ←
        </Button>
        <h1 className="mb-1.5 truncate text-base font-semibold" data-testid="job-title" title={job.data?.name}>
          {job.data?.name ?? "Job"}
        </h1>
        <div role="tablist" aria-label="Job" className="ml-4 flex self-end">
          {TABS.map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              aria-selected={tab === id}
              className={tabClass(tab === id)}
              data-testid={`tab-${id}`}
              onClick={() => navigate({ screen: "job", jobId, tab: id }, { replace: true })}
            >
              {label}
            </button>
          ))}
        </div>
        <div className="mb-1.5 ml-auto flex gap-2">
          <Button onClick={() => setRunWith(true)} data-testid="job-run-with" title="Run once with other environment values or extra arguments">
            Run now with…
          </Button>
          <Button
            onClick={() =>
              runNow.mutate(jobId, {
                onSuccess: (run) => setStarted({ jobId, runId: run.id }),
              })
            }
            disabled={runNow.isPending}
            data-testid="job-run-now"
          >
            ▶ Run now
          </Button>
        </div>
      </div>
      {runNow.error && (
        <p role="alert" className="border-b border-red-200 bg-red-50 px-4 py-1.5 text-sm text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100">
          Could not start a run: {BackendError.from(runNow.error).message}
        </p>
      )}
      {startedRun && <StartedRun runId={startedRun} onDismiss={() => setStarted(null)} />}
      <RunWithDialog jobId={jobId} open={runWith} onClose={() => setRunWith(false)} onStarted={(run) => setStarted({ jobId, runId: run.id })} />
      <div role="tabpanel" className="min-h-0 flex-1 overflow-auto">
        {tab === "edit" ? (
          <JobEditor jobId={jobId} inJobScreen />
        ) : tab === "history" ? (
          <RunHistory jobId={jobId} />
        ) : tab === "logs" ? (
          <JobLogsSearch jobId={jobId} />
        ) : job.data ? (
          <JobOverview job={job.data} />
        ) : job.error ? (
          <p role="alert" className="p-4 text-sm text-red-700 dark:text-red-400">
            Could not load the job: {BackendError.from(job.error).message}
          </p>
        ) : null}
      </div>
    </div>
  );
}
