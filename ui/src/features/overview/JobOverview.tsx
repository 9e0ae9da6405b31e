// The page a job opens on: how it is set and what runs next, how it has been doing (run strip,
// durations, success rates, the days), the end of its last log, and the jobs chained to it.
// Each section is its own component over one query.
import type { ReactNode } from "react";
import type { Job } from "../../bindings/Job";
import type { JobSummary } from "../../bindings/JobSummary";
import type { OutcomeCounts } from "../../bindings/OutcomeCounts";
import { useNavigation } from "../../app/navigation";
import { BackendError } from "../../ipc";
import { FireList } from "../editor/preview";
import { stripAnsi } from "../logs/ansi";
import { formatWhen, statusLabel, statusStyle } from "../jobs/format";
import { useJobs, useStatus } from "../jobs/queries";
import { DurationChart } from "./DurationChart";
import { HeatMap } from "./HeatMap";
import { RunStrip } from "./RunStrip";
import { useJobOverview, useLogTail } from "./queries";
import { formatRate, type RunLike, successRate } from "./stats";

function Card({ title, children, className = "", testId }: { title: string; children: ReactNode; className?: string; testId?: string }) {
  return (
    <section
      aria-label={title}
      data-testid={testId}
      className={`rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900 ${className}`}
    >
      <h2 className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">{title}</h2>
      {children}
    </section>
  );
}

function useOpenLog() {
  const { navigate } = useNavigation();
  return (run: RunLike) => navigate({ screen: "log", source: { kind: "run", run_id: run.id } });
}

function StateCard({ job, summary }: { job: Job; summary: JobSummary | undefined }) {
  const status = useStatus();
  const overview = useJobOverview(job.id);
  const paused = status.data?.paused ?? false;
  const state = !job.enabled ? "Disabled: it runs only when run by hand" : paused ? "Paused: every schedule waits until you resume" : "Enabled";
  return (
    <Card title="State and next runs" testId="overview-state">
      <p className="text-sm font-medium" data-testid="overview-enabled">
        <span className={!job.enabled || paused ? "text-amber-700 dark:text-amber-400" : "text-emerald-700 dark:text-emerald-400"}>{state}</span>
      </p>
      <p className="mt-1 text-sm text-slate-700 dark:text-slate-300" data-testid="overview-schedule">
        {summary?.schedule ?? ""}
      </p>
      {summary?.trigger_problem && (
        <p className="mt-1 text-sm font-medium text-red-700 dark:text-red-400" data-testid="overview-trigger-problem">
          ⚠ {summary.trigger_problem}. The job runs again once the folder is back.
        </p>
      )}
      {overview.data && overview.data.next_fires.length > 0 && job.enabled && (
        <FireList fires={overview.data.next_fires} trigger={job.trigger} />
      )}
    </Card>
  );
}

function Rate({ label, counts, testId }: { label: string; counts: OutcomeCounts; testId: string }) {
  const rate = formatRate(counts);
  const share = successRate(counts);
  const tone =
    share === null
      ? "text-slate-500 dark:text-slate-400"
      : share >= 0.95
        ? "text-emerald-700 dark:text-emerald-400"
        : share >= 0.8
          ? "text-amber-700 dark:text-amber-400"
          : "text-red-700 dark:text-red-400";
  return (
    <div data-testid={testId}>
      <div className={`text-2xl font-semibold tabular-nums ${tone}`}>
        {rate.value}
      </div>
      <div className="text-xs text-slate-600 dark:text-slate-400">
        {label}: {rate.detail}
      </div>
    </div>
  );
}

function RatesCard({ jobId }: { jobId: string }) {
  const overview = useJobOverview(jobId);
  return (
    <Card title="Success rate" testId="overview-rates">
      {overview.data && (
        <div className="flex gap-6">
          <Rate label="7 days" counts={overview.data.last_7_days} testId="rate-7" />
          <Rate label="30 days" counts={overview.data.last_30_days} testId="rate-30" />
        </div>
      )}
    </Card>
  );
}

function ChainLink({ summary, relation }: { summary: JobSummary; relation: string }) {
  const { navigate } = useNavigation();
  const run = summary.last_run;
  const style = run ? statusStyle[run.status] : null;
  return (
    <li className="flex items-baseline justify-between gap-2 text-sm" data-testid="chain-job">
      <span className="min-w-0 truncate">
        <span className="text-slate-500 dark:text-slate-400">{relation} </span>
        <button
          type="button"
          className="font-medium text-sky-700 hover:underline dark:text-sky-300"
          onClick={() => navigate({ screen: "job", jobId: summary.job.id, tab: "overview" })}
          title={summary.job.name}
        >
          {summary.job.name}
        </button>
      </span>
      <span className={`shrink-0 text-xs font-medium ${style?.className ?? "text-slate-500 dark:text-slate-400"}`}>
        {run && style ? `${style.icon} ${statusLabel[run.status]}` : "Never run"}
      </span>
    </li>
  );
}

function ChainCard({ job }: { job: Job }) {
  const jobs = useJobs();
  const all = jobs.data ?? [];
  const upstream = job.trigger.type === "after_job" ? all.find((s) => s.job.id === (job.trigger as { job_id: string }).job_id) : undefined;
  const downstream = all.filter((s) => s.job.trigger.type === "after_job" && s.job.trigger.job_id === job.id);
  return (
    <Card title="Chain" testId="overview-chain">
      {!upstream && downstream.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">No job runs before or after this one.</p>
      ) : (
        <ul className="space-y-1">
          {upstream && <ChainLink summary={upstream} relation="After" />}
          {downstream.map((s) => (
            <ChainLink key={s.job.id} summary={s} relation="Then" />
          ))}
        </ul>
      )}
    </Card>
  );
}

function LogTail({ run }: { run: RunLike }) {
  const tail = useLogTail(run.id);
  const openLog = useOpenLog();
  return (
    <Card title="End of the last run's log" testId="overview-log-tail">
      <div className="mb-1 flex items-baseline justify-between text-xs text-slate-600 dark:text-slate-400">
        <span>
          {statusLabel[run.status]} · {formatWhen(run.started_at ?? run.scheduled_for)}
        </span>
        <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-300" onClick={() => openLog(run)} data-testid="overview-open-last-log">
          Open the whole log
        </button>
      </div>
      {tail.error ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">{BackendError.from(tail.error).message}</p>
      ) : tail.data && tail.data.lines.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">The run wrote nothing.</p>
      ) : (
        <pre className="max-h-64 overflow-auto rounded bg-slate-950 p-2 font-mono text-xs leading-5 text-slate-100" data-testid="log-tail">
          {tail.data?.lines.map((line) => (
            <div key={line.number} className={line.stream === "stderr" ? "text-red-300" : undefined}>
              {stripAnsi(line.text)}
            </div>
          ))}
        </pre>
      )}
    </Card>
  );
}

export function JobOverview({ job }: { job: Job }) {
  const overview = useJobOverview(job.id);
  const jobs = useJobs();
  const openLog = useOpenLog();
  const summary = jobs.data?.find((s) => s.job.id === job.id);
  const recent = overview.data?.recent_runs ?? [];
  const oldestFirst = [...recent].reverse();
  const last = recent[0];
  return (
    <div className="mx-auto max-w-5xl space-y-3 p-4 pb-12" data-testid="job-overview">
      {overview.error && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          Could not load the overview: {BackendError.from(overview.error).message}
        </p>
      )}
      <div className="grid grid-cols-1 gap-3 md:grid-cols-3">
        <StateCard job={job} summary={summary} />
        <RatesCard jobId={job.id} />
        <ChainCard job={job} />
      </div>
      <Card title={`Last ${recent.length === 50 ? "50 " : ""}runs`} testId="overview-strip">
        {!overview.data ? null : recent.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-300">No runs yet. “Run now” starts one.</p>
        ) : (
          <>
            <RunStrip runs={oldestFirst} onOpen={openLog} label="Recent runs, oldest first" />
            <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">Oldest left, newest right. Click a run to open its log.</p>
          </>
        )}
      </Card>
      {recent.length > 0 && (
        <Card title="Duration" testId="overview-durations">
          <DurationChart runs={oldestFirst} onOpen={openLog} />
        </Card>
      )}
      {recent.length > 0 && (
        <Card title="Calendar: runs and failures per day" testId="overview-heatmap">
          <HeatMap jobId={job.id} weeks={53} />
        </Card>
      )}
      {last && <LogTail run={last} />}
    </div>
  );
}
