import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useNavigation } from "../../app/navigation";
import type { Job } from "../../bindings/Job";
import type { Run } from "../../bindings/Run";
import type { RunStatus } from "../../bindings/RunStatus";
import { Button, fieldClass } from "../../components/Button";
import { BackendError } from "../../ipc";
import { formatWhen, runStatusLabel, statusLabel, statusStyle } from "../jobs/format";
import { useJobs } from "../jobs/queries";
import { ALL_STATUSES, formatDuration, formatFull, formatResources, formatResult, isActive, overridesNote, reasonLabel, runDuration, waitNote } from "./format";
import { useRunNow } from "../jobs/queries";
import { RunWithDialog } from "../runwith/RunWithDialog";
import { type RunFilter, useCancelRun, useRunPages } from "./queries";

/** Every row is this tall, so the virtualizer never has to measure. */
const ROW_HEIGHT = 40;
/** Fetch the next page when a row this close to the end of the loaded ones is on screen. */
const PREFETCH_ROWS = 30;

type TimePreset = "all" | "1h" | "24h" | "7d" | "30d" | "custom";

const TIME_PRESETS: Array<{ value: TimePreset; label: string; ms?: number }> = [
  { value: "all", label: "All time" },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
  { value: "custom", label: "Custom range" },
];

interface TimeFilter {
  preset: TimePreset;
  /** For a custom range: `datetime-local` values (local time), empty when open-ended. */
  customFrom: string;
  customTo: string;
}

const NO_TIME: TimeFilter = { preset: "all", customFrom: "", customTo: "" };

/** A `datetime-local` value as RFC 3339, or undefined when empty or not a date. */
function localToIso(value: string): string | undefined {
  if (value === "") return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The engine's time bounds for a time filter, and why a custom range is not usable. */
function timeBounds(time: TimeFilter): { from?: string | undefined; to?: string | undefined; lastMs?: number | undefined; problem?: string } {
  if (time.preset === "all") return {};
  if (time.preset !== "custom") return { lastMs: TIME_PRESETS.find((p) => p.value === time.preset)?.ms };
  const from = localToIso(time.customFrom);
  const to = localToIso(time.customTo);
  if (from !== undefined && to !== undefined && from >= to) {
    return { problem: "“From” must be earlier than “To”: showing all times until this is fixed." };
  }
  return { from, to };
}

/** Re-renders every second while `active`; returns the current time. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function Duration({ run }: { run: Run }) {
  const live = run.status === "running" && run.finished_at === null;
  const now = useNow(live);
  const ms = runDuration(run, now);
  return (
    <span data-testid="history-duration" title={ms === null ? "Not started" : `${ms.toLocaleString()} ms`}>
      {ms === null ? "—" : formatDuration(ms)}
    </span>
  );
}

/** The grid's columns; the job column only across jobs. */
function gridColumns(showJob: boolean): string {
  return [
    "8rem", // status
    ...(showJob ? ["minmax(5rem,1.2fr)"] : []),
    "5.5rem", // reason
    "7.5rem", // scheduled
    "7.5rem", // started
    "4.5rem", // duration: "245 ms", "3m 05s" whole
    "4rem", // result
    "7rem", // CPU time and peak memory
    "minmax(2rem,1fr)", // error
    "6.5rem", // actions
  ].join(" ");
}

const cellClass = "truncate px-2 first:pl-4";

function HistoryRow({
  run,
  job,
  jobsLoaded,
  showJob,
  index,
  start,
  columns,
  onOpen,
  onCancel,
  cancelling,
}: {
  run: Run;
  job: Job | undefined;
  /** Whether the job list has loaded: an unknown job is then a deleted one. */
  jobsLoaded: boolean;
  showJob: boolean;
  index: number;
  start: number;
  columns: string;
  onOpen: (run: Run) => void;
  onCancel: (run: Run) => void;
  cancelling: boolean;
}) {
  const style = statusStyle[run.status];
  const jobName = job?.name ?? (jobsLoaded ? "Deleted job" : "…");
  const scheduled = formatWhen(run.scheduled_for);
  const what = `${showJob ? `${jobName}, ` : ""}${scheduled}`;
  const maxAttempts = job?.policies.retry.max_attempts;
  const result = formatResult(run);
  const reasonText =
    reasonLabel[run.reason] +
    (run.attempt > 1 ? ` · attempt ${run.attempt}${maxAttempts !== undefined && maxAttempts >= run.attempt ? ` of ${maxAttempts}` : ""}` : "");
  const resources = formatResources(run);
  const note = overridesNote(run.overrides);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === "Enter") {
      e.preventDefault();
      onOpen(run);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      // Rows are in index order and the overscan keeps neighbours rendered.
      const next = e.key === "ArrowDown" ? e.currentTarget.nextElementSibling : e.currentTarget.previousElementSibling;
      if (next instanceof HTMLElement) {
        e.preventDefault();
        next.focus();
      }
    }
  };
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      tabIndex={0}
      data-testid="history-row"
      data-run-id={run.id}
      data-status={run.status}
      onKeyDown={onKeyDown}
      onDoubleClick={() => onOpen(run)}
      className="absolute top-0 left-0 grid w-full items-center border-b border-slate-200 text-sm hover:bg-slate-50 focus-visible:bg-sky-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600 dark:border-slate-800 dark:hover:bg-slate-900 dark:focus-visible:bg-sky-950"
      style={{ height: ROW_HEIGHT, transform: `translateY(${start}px)`, gridTemplateColumns: columns }}
    >
      <div role="cell" className={`${cellClass} font-medium ${style.className}`} title={waitNote(run) ?? runStatusLabel(run)}>
        <span aria-hidden="true" className="mr-1.5">{style.icon}</span>
        <span data-testid="history-status">{runStatusLabel(run)}</span>
      </div>
      {showJob && (
        <div role="cell" className={`${cellClass} ${job ? "" : "text-slate-500 italic dark:text-slate-400"}`} title={jobName} data-testid="history-job">
          {jobName}
        </div>
      )}
      <div role="cell" className={`${cellClass} text-slate-700 dark:text-slate-300`} data-testid="history-reason" title={reasonText}>
        {reasonLabel[run.reason]}
        {run.attempt > 1 && (
          <span className="text-slate-500 dark:text-slate-400">
            {" "}· attempt {run.attempt}
            {maxAttempts !== undefined && maxAttempts >= run.attempt ? ` of ${maxAttempts}` : ""}
          </span>
        )}
      </div>
      <div role="cell" className={`${cellClass} text-slate-700 dark:text-slate-300`} title={formatFull(run.scheduled_for)}>
        {scheduled}
      </div>
      <div
        role="cell"
        className={`${cellClass} text-slate-700 dark:text-slate-300`}
        title={run.started_at ? formatFull(run.started_at) : undefined}
      >
        {run.started_at ? formatWhen(run.started_at) : "—"}
      </div>
      <div role="cell" className={`${cellClass} text-slate-700 tabular-nums dark:text-slate-300`}>
        <Duration run={run} />
      </div>
      <div role="cell" className={`${cellClass} text-slate-700 tabular-nums dark:text-slate-300`} data-testid="history-result" title={result ?? "No exit code or HTTP status"}>
        {result ?? "—"}
      </div>
      <div
        role="cell"
        className={`${cellClass} text-slate-700 tabular-nums dark:text-slate-300`}
        title={`${resources ?? "Not measured"}: CPU time and peak memory of every process the run started`}
        data-testid="history-resources"
      >
        {resources ?? "—"}
      </div>
      <div
        role="cell"
        className={`${cellClass} text-slate-600 dark:text-slate-400`}
        title={[run.trigger_path && `File: ${run.trigger_path}`, overridesNote(run.overrides, true), run.error].filter(Boolean).join(" · ") || undefined}
        data-testid="history-error"
      >
        {run.trigger_path && (
          <span className="mr-1.5 font-mono text-xs" data-testid="history-trigger-path">
            {run.trigger_path}
          </span>
        )}
        {note && (
          <span className="text-sky-800 dark:text-sky-300" data-testid="history-overrides">
            {note}
          </span>
        )}
        {note && run.error ? " · " : ""}
        {run.error ?? ""}
      </div>
      <div role="cell" className="flex items-center justify-end gap-1.5 pr-4 pl-2">
        {isActive(run.status) && (
          <button
            type="button"
            onClick={() => onCancel(run)}
            disabled={cancelling}
            aria-label={`Cancel run: ${what}`}
            data-testid="history-cancel"
            className="rounded-md border border-slate-300 px-2 py-0.5 text-xs font-medium text-red-700 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-sky-600 disabled:opacity-60 dark:border-slate-600 dark:text-red-400 dark:hover:bg-red-950"
          >
            Cancel
          </button>
        )}
        <button
          type="button"
          onClick={() => onOpen(run)}
          aria-label={`Open log of run: ${what}`}
          data-testid="history-open-log"
          className="rounded-md border border-slate-300 px-2 py-0.5 text-xs font-medium hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-slate-600 dark:hover:bg-slate-800"
        >
          Log
        </button>
      </div>
    </div>
  );
}

function StatusChips({ selected, onToggle }: { selected: RunStatus[]; onToggle: (status: RunStatus) => void }) {
  return (
    <div role="group" aria-label="Status" className="flex flex-wrap items-center gap-1.5">
      {ALL_STATUSES.map((status) => {
        const on = selected.includes(status);
        const style = statusStyle[status];
        return (
          <button
            key={status}
            type="button"
            aria-pressed={on}
            onClick={() => onToggle(status)}
            data-testid={`history-filter-${status}`}
            className={
              "inline-flex items-center gap-1 rounded-full border px-2.5 py-0.5 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 " +
              (on
                ? "border-sky-600 bg-sky-50 text-sky-800 dark:border-sky-400 dark:bg-sky-950 dark:text-sky-200"
                : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-300 dark:hover:bg-slate-800")
            }
          >
            <span aria-hidden="true" className={on ? "" : style.className}>{style.icon}</span>
            {statusLabel[status]}
          </button>
        );
      })}
    </div>
  );
}

function TimeControls({ time, onChange }: { time: TimeFilter; onChange: (time: TimeFilter) => void }) {
  const id = useId();
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm">
      <label htmlFor={`${id}-time`} className="text-slate-600 dark:text-slate-300">Time</label>
      <select
        id={`${id}-time`}
        data-testid="history-time"
        className={fieldClass}
        value={time.preset}
        onChange={(e) => onChange({ ...time, preset: e.target.value as TimePreset })}
      >
        {TIME_PRESETS.map((p) => (
          <option key={p.value} value={p.value}>{p.label}</option>
        ))}
      </select>
      {time.preset === "custom" && (
        <>
          <label htmlFor={`${id}-from`} className="text-slate-600 dark:text-slate-300">From</label>
          <input
            id={`${id}-from`}
            type="datetime-local"
            data-testid="history-from"
            className={fieldClass}
            value={time.customFrom}
            onChange={(e) => onChange({ ...time, customFrom: e.target.value })}
          />
          <label htmlFor={`${id}-to`} className="text-slate-600 dark:text-slate-300">To</label>
          <input
            id={`${id}-to`}
            type="datetime-local"
            data-testid="history-to"
            className={fieldClass}
            value={time.customTo}
            onChange={(e) => onChange({ ...time, customTo: e.target.value })}
          />
        </>
      )}
    </div>
  );
}

function ErrorNotice({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <div role="alert" className="m-4 flex items-center justify-between gap-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
      <span>Could not load the run history: {BackendError.from(error).message}</span>
      <Button onClick={onRetry}>Try again</Button>
    </div>
  );
}

/** Run history, newest first: across every job, or of one job (`jobId`). Fills its parent. */
export function RunHistory({ jobId }: { jobId?: string }) {
  const showJob = jobId === undefined;
  const { navigate } = useNavigation();
  const jobs = useJobs();
  const cancel = useCancelRun();
  const runNow = useRunNow();
  const [runWith, setRunWith] = useState(false);

  const [statuses, setStatuses] = useState<RunStatus[]>([]);
  const [time, setTime] = useState<TimeFilter>(NO_TIME);
  const bounds = timeBounds(time);
  const filtered = statuses.length > 0 || time.preset !== "all";
  const filter: RunFilter = { jobId, statuses, from: bounds.from, to: bounds.to, lastMs: bounds.lastMs };
  const pages = useRunPages(filter);
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = pages;

  const runs = useMemo(() => {
    const seen = new Set<string>();
    const out: Run[] = [];
    for (const page of pages.data?.pages ?? []) {
      for (const run of page) {
        if (seen.has(run.id)) continue;
        seen.add(run.id);
        out.push(run);
      }
    }
    return out;
  }, [pages.data]);

  const jobsById = useMemo(() => new Map((jobs.data ?? []).map((s) => [s.job.id, s.job])), [jobs.data]);
  const thisJob = jobId !== undefined ? jobsById.get(jobId) : undefined;

  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render on purpose
  const virtualizer = useVirtualizer({
    count: runs.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => runs[index]?.id ?? index,
  });
  const items = virtualizer.getVirtualItems();
  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    // Other filters, other runs: start again from the newest.
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
  }, [filterKey]);
  const lastVisible = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (lastVisible < 0 || lastVisible < runs.length - PREFETCH_ROWS) return;
    if (!hasNextPage || isFetchingNextPage || isFetchNextPageError) return;
    void fetchNextPage();
  }, [lastVisible, runs.length, hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);

  const toggleStatus = (status: RunStatus) =>
    setStatuses((current) =>
      current.includes(status) ? current.filter((s) => s !== status) : ALL_STATUSES.filter((s) => s === status || current.includes(s)),
    );
  const clearFilters = () => {
    setStatuses([]);
    setTime(NO_TIME);
  };
  const openLog = (run: Run) => navigate({ screen: "log", source: { kind: "run", run_id: run.id } });
  const columns = gridColumns(showJob);

  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="history">
      {jobId !== undefined && <RunWithDialog jobId={jobId} open={runWith} onClose={() => setRunWith(false)} onStarted={() => undefined} />}
      <div className="flex flex-col gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <TimeControls time={time} onChange={setTime} />
          <div className="flex items-center gap-2">
            {filtered && (
              <Button variant="ghost" onClick={clearFilters} data-testid="history-clear-filters">
                Clear filters
              </Button>
            )}
            {jobId !== undefined && (
              <Button onClick={() => setRunWith(true)} data-testid="history-run-with">
                Run now with…
              </Button>
            )}
            {jobId !== undefined && (
              <Button
                variant="primary"
                onClick={() => runNow.mutate(jobId)}
                disabled={runNow.isPending}
                data-testid="history-run-now"
                aria-label={thisJob ? `Run ${thisJob.name} now` : "Run now"}
              >
                Run now
              </Button>
            )}
          </div>
        </div>
        <StatusChips selected={statuses} onToggle={toggleStatus} />
        {bounds.problem && <p className="text-sm text-amber-700 dark:text-amber-400" role="status">{bounds.problem}</p>}
        {(runNow.error ?? cancel.error) && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {runNow.error ? "Could not start the run" : "Could not cancel the run"}: {BackendError.from(runNow.error ?? cancel.error).message}
          </p>
        )}
      </div>

      {pages.isError && !pages.data ? (
        <ErrorNotice error={pages.error} onRetry={() => void pages.refetch()} />
      ) : pages.isPending ? (
        <p className="p-4 text-sm text-slate-500 dark:text-slate-400" role="status">Loading runs…</p>
      ) : runs.length === 0 ? (
        <div className="mx-auto mt-16 max-w-md text-center" data-testid="history-empty">
          <h2 className="text-lg font-semibold">{filtered ? "No runs match these filters" : "No runs yet"}</h2>
          <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
            {filtered
              ? "Try other statuses or a longer time span."
              : showJob
                ? "Runs of every job appear here, newest first, once a job has run."
                : "This job's runs appear here, newest first, once it has run."}
          </p>
          {filtered && (
            <Button className="mt-4" onClick={clearFilters}>
              Clear filters
            </Button>
          )}
        </div>
      ) : (
        <div role="table" aria-label="Run history" aria-rowcount={runs.length + 1} className="flex min-h-0 flex-1 flex-col">
          <div
            role="row"
            aria-rowindex={1}
            className="grid border-b border-slate-200 bg-slate-50 py-2 text-xs tracking-wide text-slate-500 uppercase [scrollbar-gutter:stable] dark:border-slate-800 dark:bg-slate-900 dark:text-slate-400"
            style={{ gridTemplateColumns: columns, overflowY: "hidden" }}
          >
            <div role="columnheader" className={`${cellClass} font-medium`}>Status</div>
            {showJob && <div role="columnheader" className={`${cellClass} font-medium`}>Job</div>}
            <div role="columnheader" className={`${cellClass} font-medium`}>Reason</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>Scheduled</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>Started</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>Took</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>Result</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>CPU · Memory</div>
            <div role="columnheader" className={`${cellClass} font-medium`}>Details</div>
            <div role="columnheader" className={cellClass}><span className="sr-only">Actions</span></div>
          </div>
          <div ref={scrollRef} className="min-h-0 flex-1 overflow-x-hidden overflow-y-auto [scrollbar-gutter:stable]" data-testid="history-scroll">
            <div role="rowgroup" className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
              {items.map((item) => {
                const run = runs[item.index];
                if (!run) return null;
                return (
                  <HistoryRow
                    key={run.id}
                    run={run}
                    job={jobsById.get(run.job_id)}
                    jobsLoaded={jobs.isSuccess}
                    showJob={showJob}
                    index={item.index}
                    start={item.start}
                    columns={columns}
                    onOpen={openLog}
                    onCancel={(r) => cancel.mutate(r.id)}
                    cancelling={cancel.isPending && cancel.variables === run.id}
                  />
                );
              })}
            </div>
          </div>
        </div>
      )}

      {runs.length > 0 && (
        <div className="flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-2 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-300">
          <span data-testid="history-count">
            {runs.length === 1 ? "1 run loaded" : `${runs.length.toLocaleString()} runs loaded`}
            {!hasNextPage && " · end of history"}
          </span>
          {isFetchNextPageError ? (
            <span className="flex items-center gap-2 text-red-700 dark:text-red-400" role="alert">
              Could not load older runs: {BackendError.from(pages.error).message}
              <Button onClick={() => void fetchNextPage()}>Try again</Button>
            </span>
          ) : isFetchingNextPage ? (
            <span role="status">Loading older runs…</span>
          ) : (
            hasNextPage && (
              <Button onClick={() => void fetchNextPage()} data-testid="history-load-more">
                Load more
              </Button>
            )
          )}
        </div>
      )}
    </div>
  );
}
