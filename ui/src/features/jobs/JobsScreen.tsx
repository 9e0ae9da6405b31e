import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, useState, useEffect } from "react";
import type { JobSummary } from "../../bindings/JobSummary";
import { useNavigation } from "../../app/navigation";
import { Button, fieldClass } from "../../components/Button";
import { BackendError } from "../../ipc";
import { allTags, filterJobs, type JobFilters, noFilters, type StatusFilter, statusFilterLabel } from "./filters";
import type { RunMark } from "../../bindings/RunMark";
import { formatDuration } from "../history/format";
import { RunStrip } from "../overview/RunStrip";
import { RunWithDialog } from "../runwith/RunWithDialog";
import { ExportDialog } from "../transfer/ExportDialog";
import { ImportDialog } from "../transfer/ImportDialog";
import { durationOf } from "../overview/stats";
import { formatWhen, runStatusLabel, statusStyle } from "./format";
import { useJobs, useRunNow, useRunStrips, useSetEnabled, useStatus } from "./queries";
import { defaultSort, type JobSort, type SortKey, sortJobs } from "./sort";

function LastStatus({ summary }: { summary: JobSummary }) {
  const run = summary.last_run;
  if (!run) return <span className="text-slate-500 dark:text-slate-400">Never run</span>;
  const style = statusStyle[run.status];
  return (
    <span className={`inline-flex items-center gap-1.5 font-medium ${style.className}`} title={run.error ?? runStatusLabel(run)}>
      <span aria-hidden="true">{style.icon}</span>
      <span data-testid="last-status">{runStatusLabel(run)}</span>
    </span>
  );
}

/** When the last run ended (or started) and how long it took. */
function LastRun({ summary }: { summary: JobSummary }) {
  const run = summary.last_run;
  if (!run) return <span className="text-slate-400 dark:text-slate-500">—</span>;
  const when = run.finished_at ?? run.started_at ?? run.scheduled_for;
  const duration = durationOf(run);
  return (
    <span className="flex flex-col text-slate-700 dark:text-slate-300">
      <span className="whitespace-nowrap">{formatWhen(when)}</span>
      {duration !== null && (
        <span className="text-xs text-slate-500 tabular-nums dark:text-slate-400" data-testid="last-duration" title="How long the last run took">
          took {formatDuration(duration)}
        </span>
      )}
    </span>
  );
}

function JobRow({
  summary,
  index,
  measure,
  paused,
  strip,
  selected,
  onSelect,
}: {
  summary: JobSummary;
  /** Its place among the rows shown (the list draws only those in view). */
  index: number;
  measure: (row: HTMLTableRowElement | null) => void;
  paused: boolean;
  strip: RunMark[] | undefined;
  selected: boolean;
  onSelect: (selected: boolean) => void;
}) {
  const { job } = summary;
  const { navigate } = useNavigation();
  const setEnabled = useSetEnabled();
  const runNow = useRunNow();
  const [runWith, setRunWith] = useState(false);
  const next = !job.enabled
    ? "Disabled"
    : paused
      ? "Paused"
      : summary.next_fire
        ? formatWhen(summary.next_fire)
        : "—";
  return (
    <tr
      ref={measure}
      data-index={index}
      aria-rowindex={index + 2}
      className="border-b border-slate-200 last:border-0 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-900"
      data-testid="job-row"
    >
      <td className="w-8 py-2.5 pl-4">
        <input
          type="checkbox"
          className="size-4 cursor-pointer accent-sky-600"
          checked={selected}
          onChange={(e) => onSelect(e.target.checked)}
          aria-label={`Select ${job.name}`}
          data-testid="job-select"
        />
      </td>
      <td className="min-w-40 py-2.5 pr-3 pl-2">
        <button
          type="button"
          className="rounded text-left font-medium hover:text-sky-700 hover:underline focus-visible:outline-2 focus-visible:outline-sky-600 dark:hover:text-sky-300"
          onClick={() => navigate({ screen: "job", jobId: job.id, tab: "overview" })}
          data-testid="job-name"
          aria-label={`Open ${job.name}`}
        >
          {job.name}
        </button>
        {job.description && <div className="text-xs text-slate-500 dark:text-slate-400">{job.description}</div>}
        {job.tags.length > 0 && (
          <div className="mt-1 flex flex-wrap gap-1">
            {job.tags.map((tag) => (
              <span key={tag} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                {tag}
              </span>
            ))}
          </div>
        )}
      </td>
      <td className="min-w-32 py-2.5 pr-3 text-slate-700 dark:text-slate-300" data-testid="job-schedule">
        {summary.schedule}
        {summary.trigger_problem && (
          <div className="mt-0.5 text-xs font-medium text-red-700 dark:text-red-400" data-testid="job-trigger-problem">
            ⚠ {summary.trigger_problem}
          </div>
        )}
      </td>
      <td className="py-2.5 pr-3 text-slate-700 dark:text-slate-300" data-testid="job-next">
        {next}
      </td>
      <td className="py-2.5 pr-4 whitespace-nowrap">
        {summary.last_run ? (
          <button
            type="button"
            className="rounded focus-visible:outline-2 focus-visible:outline-sky-600"
            onClick={() => navigate({ screen: "job", jobId: job.id, tab: "history" })}
            aria-label={`History of ${job.name}`}
          >
            <LastStatus summary={summary} />
          </button>
        ) : (
          <LastStatus summary={summary} />
        )}
      </td>
      <td className="py-2.5 pr-3" data-testid="job-last-run">
        <LastRun summary={summary} />
        {strip && strip.length > 0 && (
          <div className="mt-1 w-32" data-testid="job-strip">
            <RunStrip
              runs={strip}
              size="small"
              label={`Last ${strip.length} runs of ${job.name}, oldest first`}
              onOpen={(run) => navigate({ screen: "log", source: { kind: "run", run_id: run.id } })}
            />
          </div>
        )}
      </td>
      <td className="py-2.5 pr-4">
        <input
          type="checkbox"
          className="size-4 cursor-pointer accent-sky-600"
          checked={job.enabled}
          disabled={setEnabled.isPending}
          onChange={(e) => setEnabled.mutate({ id: job.id, enabled: e.target.checked })}
          aria-label={`Enabled: ${job.name}`}
          data-testid="job-enabled"
        />
      </td>
      <td className="py-2.5 pr-4 text-right whitespace-nowrap">
        <Button
          data-testid="run-now"
          disabled={runNow.isPending}
          onClick={() => runNow.mutate(job.id)}
          aria-label={`Run ${job.name} now`}
          className="rounded-r-none px-2.5 py-1 whitespace-nowrap"
        >
          Run now
        </Button>
        <Button
          data-testid="run-with"
          onClick={() => setRunWith(true)}
          aria-label={`Run ${job.name} now with other values or arguments`}
          title="Run now with…"
          className="-ml-px rounded-l-none px-2 py-1"
        >
          …
        </Button>
        <RunWithDialog jobId={job.id} open={runWith} onClose={() => setRunWith(false)} onStarted={() => undefined} />
      </td>
    </tr>
  );
}

function EmptyState({ onImport }: { onImport: () => void }) {
  const { navigate } = useNavigation();
  return (
    <div className="mx-auto mt-16 max-w-md text-center" data-testid="empty-state">
      <div className="text-4xl text-amber-500" aria-hidden="true">☀</div>
      <h2 className="mt-3 text-lg font-semibold">No jobs yet</h2>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
        A job runs a command, a script or an HTTP call on a schedule. Sundial keeps every run's
        output, and keeps running from the tray when this window is closed.
      </p>
      <div className="mt-5 flex justify-center gap-2">
        <Button variant="primary" onClick={() => navigate({ screen: "new-job" })} data-testid="empty-new-job">
          Create your first job
        </Button>
        <Button onClick={onImport} data-testid="empty-import-crontab">
          Import from crontab
        </Button>
      </div>
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

function Toolbar({
  jobs,
  filters,
  onChange,
  selected,
  onImport,
  onExport,
}: {
  jobs: JobSummary[];
  filters: JobFilters;
  onChange: (f: JobFilters) => void;
  selected: number;
  onImport: () => void;
  onExport: () => void;
}) {
  const { navigate } = useNavigation();
  const tags = allTags(jobs);
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // "/" jumps to the filter, as in most list tools.
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
      if (e.key === "/" && !typing) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
      <h1 className="mr-2 text-base font-semibold">Jobs</h1>
      <input
        ref={search}
        type="search"
        value={filters.text}
        onChange={(e) => onChange({ ...filters, text: e.target.value })}
        placeholder="Filter: name, command, tag  ( / )"
        aria-label="Filter jobs"
        data-testid="jobs-filter"
        className={`${fieldClass} w-56`}
      />
      <select
        value={filters.tag ?? ""}
        onChange={(e) => onChange({ ...filters, tag: e.target.value === "" ? null : e.target.value })}
        aria-label="Filter by tag"
        data-testid="jobs-tag-filter"
        className={fieldClass}
      >
        <option value="">Any tag</option>
        {tags.map((tag) => (
          <option key={tag} value={tag}>
            {tag}
          </option>
        ))}
      </select>
      <select
        value={filters.status}
        onChange={(e) => onChange({ ...filters, status: e.target.value as StatusFilter })}
        aria-label="Filter by status"
        data-testid="jobs-status-filter"
        className={fieldClass}
      >
        {(Object.keys(statusFilterLabel) as StatusFilter[]).map((s) => (
          <option key={s} value={s}>
            {statusFilterLabel[s]}
          </option>
        ))}
      </select>
      <Button className="ml-auto" onClick={onImport} data-testid="jobs-import" title="Import a crontab or a job file">
        Import…
      </Button>
      <Button
        onClick={onExport}
        disabled={selected === 0}
        data-testid="jobs-export"
        title={selected === 0 ? "Select jobs with the boxes on the left to export them" : "Export the selected jobs"}
      >
        Export{selected > 0 ? ` ${selected}` : ""}…
      </Button>
      <Button variant="primary" onClick={() => navigate({ screen: "new-job" })} data-testid="new-job" title="New job (Ctrl+N)">
        + New job
      </Button>
    </div>
  );
}

/** A row's height before it is measured: a little over a plain row's (about 55 px); rows with a description, tags or a run strip are taller. */
const ROW_ESTIMATE = 64;

/** The height of the rows not drawn above or below the ones in view. */
function Spacer({ height }: { height: number }) {
  return (
    <tr aria-hidden="true" style={{ height }} data-testid="jobs-spacer">
      <td colSpan={8} className="p-0" />
    </tr>
  );
}

function SortHeader({ label, sortKey, sort, onSort, className = "" }: { label: string; sortKey: SortKey; sort: JobSort; onSort: (s: JobSort) => void; className?: string }) {
  const active = sort.key === sortKey;
  return (
    <th scope="col" className={`py-2 pr-4 font-medium ${className}`} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button
        type="button"
        className="inline-flex items-center gap-1 uppercase hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-sky-600 dark:hover:text-slate-200"
        onClick={() => onSort({ key: sortKey, descending: active ? !sort.descending : false })}
        data-testid={`sort-${sortKey}`}
        title={`Sort by ${label.toLowerCase()}`}
      >
        {label}
        <span aria-hidden="true" className={active ? "" : "invisible"}>
          {sort.descending ? "▼" : "▲"}
        </span>
      </button>
    </th>
  );
}

export function JobsScreen() {
  const jobs = useJobs();
  const status = useStatus();
  const strips = useRunStrips();
  const [filters, setFilters] = useState<JobFilters>(noFilters);
  const [sort, setSort] = useState<JobSort>(defaultSort);
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [importing, setImporting] = useState(false);
  const [exporting, setExporting] = useState(false);
  const shown = jobs.data ? sortJobs(filterJobs(jobs.data, filters), sort) : [];
  // Only jobs that still exist and are shown count as selected.
  const selectedIds = shown.map((s) => s.job.id).filter((id) => selection.has(id));
  const allSelected = shown.length > 0 && selectedIds.length === shown.length;
  // Only the rows in view (and a few either side) are drawn: a list of 1,000 jobs renders and
  // paints about 30 rows, which keeps opening the window quick (benchmark B8). Rows differ in
  // height (descriptions, tags, run strips), so each drawn row is measured; where there is no
  // layout to measure (tests in jsdom), every row is drawn.
  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render on purpose
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_ESTIMATE,
    overscan: 8,
    // Before the first measure: the window's size, so that the first frame is already windowed.
    initialRect: { width: window.innerWidth, height: window.innerHeight },
    getItemKey: (index) => shown[index]?.job.id ?? index,
  });
  const windowed = (virtualizer.scrollRect?.height ?? 0) > 0;
  const items = windowed ? virtualizer.getVirtualItems() : [];
  const drawn = windowed ? items.map((item) => item.index) : shown.map((_, index) => index);
  const above = items[0]?.start ?? 0;
  const below = windowed ? virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0) : 0;
  const select = (id: string, on: boolean) =>
    setSelection((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  return (
    <div className="flex h-full flex-col">
      {jobs.data && jobs.data.length > 0 && (
        <Toolbar
          jobs={jobs.data}
          filters={filters}
          onChange={setFilters}
          selected={selectedIds.length}
          onImport={() => setImporting(true)}
          onExport={() => setExporting(true)}
        />
      )}
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
      <ExportDialog open={exporting} jobIds={selectedIds} onClose={() => setExporting(false)} />
      <div ref={scrollRef} className="min-h-0 flex-1 overflow-auto" data-testid="jobs-scroll">
        {jobs.error && <ErrorNotice error={jobs.error} />}
        {jobs.isPending && <p className="p-4 text-sm text-slate-500">Loading jobs…</p>}
        {jobs.data?.length === 0 && <EmptyState onImport={() => setImporting(true)} />}
        {jobs.data && jobs.data.length > 0 && shown.length === 0 && (
          <div className="mt-12 text-center text-sm text-slate-600 dark:text-slate-300" data-testid="no-match">
            No job matches these filters.{" "}
            <button type="button" className="text-sky-700 underline dark:text-sky-300" onClick={() => setFilters(noFilters)}>
              Clear filters
            </button>
          </div>
        )}
        {shown.length > 0 && (
          <table className="w-full text-left text-sm" aria-rowcount={shown.length + 1}>
            <caption className="sr-only">
              {shown.length === jobs.data?.length ? `${shown.length} jobs` : `${shown.length} of ${jobs.data?.length} jobs`}
            </caption>
            <thead className="sticky top-0 bg-slate-50 text-xs tracking-wide text-slate-500 uppercase dark:bg-slate-900 dark:text-slate-400">
              <tr>
                <th scope="col" className="w-8 py-2 pl-4">
                  <input
                    type="checkbox"
                    className="size-4 cursor-pointer accent-sky-600"
                    checked={allSelected}
                    ref={(el) => {
                      if (el) el.indeterminate = selectedIds.length > 0 && !allSelected;
                    }}
                    onChange={(e) => setSelection(e.target.checked ? new Set(shown.map((s) => s.job.id)) : new Set())}
                    aria-label="Select every job shown"
                    data-testid="jobs-select-all"
                  />
                </th>
                <SortHeader label="Name" sortKey="name" sort={sort} onSort={setSort} className="pl-2" />
                <th scope="col" className="py-2 pr-4 font-medium">Schedule</th>
                <SortHeader label="Next run" sortKey="next" sort={sort} onSort={setSort} />
                <SortHeader label="Status" sortKey="status" sort={sort} onSort={setSort} />
                <SortHeader label="Last run" sortKey="last" sort={sort} onSort={setSort} />
                <th scope="col" className="py-2 pr-4 font-medium">Enabled</th>
                <th scope="col" className="py-2 pr-4"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {above > 0 && <Spacer height={above} />}
              {drawn.map((index) => {
                const summary = shown[index];
                if (!summary) return null;
                return (
                  <JobRow
                    key={summary.job.id}
                    summary={summary}
                    index={index}
                    measure={virtualizer.measureElement}
                    paused={status.data?.paused ?? false}
                    strip={strips.data?.get(summary.job.id)}
                    selected={selection.has(summary.job.id)}
                    onSelect={(on) => select(summary.job.id, on)}
                  />
                );
              })}
              {below > 0 && <Spacer height={below} />}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
