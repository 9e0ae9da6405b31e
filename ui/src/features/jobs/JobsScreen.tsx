import type { AppStatus } from "../../bindings/AppStatus";
import type { JobSummary } from "../../bindings/JobSummary";
import { BackendError } from "../../ipc";
import { formatWhen, statusLabel, statusStyle } from "./format";
import { useJobs, useRunNow, useSetEnabled, useSetPaused, useStatus } from "./queries";

function StatusLine({ status }: { status: AppStatus }) {
  const running =
    status.running === 0 ? "No jobs running" : status.running === 1 ? "1 job running" : `${status.running} jobs running`;
  const next = status.paused
    ? "Paused: no job will start until you resume"
    : status.next_run
      ? `Next: ${status.next_run.job_name}, ${formatWhen(status.next_run.at)}`
      : "No run scheduled";
  return (
    <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="status-line">
      {running} · {next}
    </p>
  );
}

function PauseButton({ status }: { status: AppStatus }) {
  const setPaused = useSetPaused();
  const label = status.paused ? "Resume all" : "Pause all";
  return (
    <button
      type="button"
      data-testid="pause-toggle"
      disabled={setPaused.isPending}
      onClick={() => setPaused.mutate(!status.paused)}
      className={
        "rounded-md px-3 py-1.5 text-sm font-medium shadow-sm focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-60 " +
        (status.paused
          ? "bg-emerald-600 text-white hover:bg-emerald-700"
          : "border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700")
      }
    >
      {label}
    </button>
  );
}

function LastResult({ summary }: { summary: JobSummary }) {
  const run = summary.last_run;
  if (!run) return <span className="text-slate-500 dark:text-slate-400">Never run</span>;
  const style = statusStyle[run.status];
  const when = run.finished_at ?? run.started_at ?? run.scheduled_for;
  return (
    <span className={`inline-flex items-center gap-1.5 font-medium ${style.className}`} title={run.error ?? undefined}>
      <span aria-hidden="true">{style.icon}</span>
      <span data-testid="last-status">{statusLabel[run.status]}</span>
      <span className="font-normal text-slate-500 dark:text-slate-400">{formatWhen(when)}</span>
    </span>
  );
}

function JobRow({ summary, paused }: { summary: JobSummary; paused: boolean }) {
  const { job } = summary;
  const setEnabled = useSetEnabled();
  const runNow = useRunNow();
  const next = !job.enabled
    ? "Disabled"
    : paused
      ? "Paused"
      : summary.next_fire
        ? formatWhen(summary.next_fire)
        : "—";
  return (
    <tr className="border-b border-slate-200 last:border-0 dark:border-slate-800" data-testid="job-row">
      <td className="py-2.5 pr-4 pl-4">
        <div className="font-medium" data-testid="job-name">{job.name}</div>
        {job.description && <div className="text-xs text-slate-500 dark:text-slate-400">{job.description}</div>}
      </td>
      <td className="py-2.5 pr-4 text-slate-700 dark:text-slate-300" data-testid="job-schedule">
        {summary.schedule}
      </td>
      <td className="py-2.5 pr-4 whitespace-nowrap text-slate-700 dark:text-slate-300">{next}</td>
      <td className="py-2.5 pr-4 whitespace-nowrap">
        <LastResult summary={summary} />
      </td>
      <td className="py-2.5 pr-4">
        <label className="inline-flex cursor-pointer items-center gap-2 text-sm">
          <input
            type="checkbox"
            className="size-4 accent-sky-600"
            checked={job.enabled}
            disabled={setEnabled.isPending}
            onChange={(e) => setEnabled.mutate({ id: job.id, enabled: e.target.checked })}
            aria-label={`Enabled: ${job.name}`}
          />
          <span className="sr-only">Enabled</span>
        </label>
      </td>
      <td className="py-2.5 pr-4 text-right">
        <button
          type="button"
          data-testid="run-now"
          disabled={runNow.isPending}
          onClick={() => runNow.mutate(job.id)}
          aria-label={`Run ${job.name} now`}
          className="rounded-md border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-sky-600 disabled:opacity-60 dark:border-slate-600 dark:hover:bg-slate-800"
        >
          Run now
        </button>
      </td>
    </tr>
  );
}

function EmptyState() {
  return (
    <div className="mx-auto mt-16 max-w-md text-center" data-testid="empty-state">
      <div className="text-4xl" aria-hidden="true">☀</div>
      <h2 className="mt-3 text-lg font-semibold">No jobs yet</h2>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
        Jobs you add to Sundial appear here with their schedule in plain words, their next run and
        their last result. Sundial keeps running them from the tray when this window is closed.
      </p>
    </div>
  );
}

function ErrorNotice({ error }: { error: unknown }) {
  const e = BackendError.from(error);
  return (
    <div role="alert" className="m-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
      Could not load from the engine: {e.message}
    </div>
  );
}

export function JobsScreen() {
  const jobs = useJobs();
  const status = useStatus();
  return (
    <div className="flex h-screen flex-col">
      <header className="flex items-center justify-between gap-4 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <div>
          <h1 className="text-lg font-semibold">
            Jobs
            {status.data?.paused && (
              <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 align-middle text-xs font-semibold text-amber-900 dark:bg-amber-900 dark:text-amber-100" data-testid="paused-badge">
                Paused
              </span>
            )}
          </h1>
          {status.data && <StatusLine status={status.data} />}
        </div>
        {status.data && <PauseButton status={status.data} />}
      </header>
      <main className="flex-1 overflow-auto">
        {(jobs.error ?? status.error) && <ErrorNotice error={jobs.error ?? status.error} />}
        {jobs.isPending && <p className="p-4 text-sm text-slate-500">Loading jobs…</p>}
        {jobs.data?.length === 0 && <EmptyState />}
        {jobs.data && jobs.data.length > 0 && (
          <table className="w-full text-left text-sm">
            <thead className="sticky top-0 bg-slate-50 text-xs tracking-wide text-slate-500 uppercase dark:bg-slate-900 dark:text-slate-400">
              <tr>
                <th scope="col" className="py-2 pr-4 pl-4 font-medium">Name</th>
                <th scope="col" className="py-2 pr-4 font-medium">Schedule</th>
                <th scope="col" className="py-2 pr-4 font-medium">Next run</th>
                <th scope="col" className="py-2 pr-4 font-medium">Last result</th>
                <th scope="col" className="py-2 pr-4 font-medium">Enabled</th>
                <th scope="col" className="py-2 pr-4"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.map((summary) => (
                <JobRow key={summary.job.id} summary={summary} paused={status.data?.paused ?? false} />
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}
