// A job's logs as one: a search over every run log of the job. Results stream in newest run
// first, grouped by run with its time and outcome; each line opens the log viewer at that line.
// Typing again, or leaving the tab, stops the search under way.
import { useEffect, useRef, useState } from "react";
import type { JobLogRun } from "../../bindings/JobLogRun";
import type { JobLogSummary } from "../../bindings/JobLogSummary";
import { useNavigation } from "../../app/navigation";
import { inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { formatWhen, statusLabel, statusStyle } from "../jobs/format";
import { markRanges, parseAnsi } from "../logs/ansi";
import { formatBytes, formatCount, plural } from "../logs/format";

/** Lines shown in all; every match is counted. */
export const SHOWN_LINES = 2000;
const DEBOUNCE_MS = 250;

const toggleClass = (on: boolean) =>
  "rounded-md border px-2 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-600 " +
  (on
    ? "border-sky-600 bg-sky-50 text-sky-800 dark:border-sky-500 dark:bg-sky-950 dark:text-sky-200"
    : "border-slate-300 bg-white text-slate-700 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700");

interface Options {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
}

interface State {
  /** The search these results belong to. */
  of: Options | null;
  runs: JobLogRun[];
  done: JobLogSummary | null;
  error: string | null;
}

const idle: State = { of: null, runs: [], done: null, error: null };

/** Adds streamed pieces; a run with many lines comes in several pieces, one after another. */
function merge(runs: JobLogRun[], more: JobLogRun[]): JobLogRun[] {
  const out = runs.slice();
  for (const piece of more) {
    const last = out[out.length - 1];
    if (last && last.run_id === piece.run_id) out[out.length - 1] = { ...last, matches: [...last.matches, ...piece.matches] };
    else out.push(piece);
  }
  return out;
}

function Highlighted({ text, ranges }: { text: string; ranges: Array<[number, number]> }) {
  const segments = markRanges(parseAnsi(text), ranges);
  return (
    <>
      {segments.map((seg) =>
        seg.mark ? (
          <mark key={seg.start} className="rounded-sm bg-yellow-200 text-inherit dark:bg-yellow-600/60" data-testid="job-logs-mark">
            {seg.text}
          </mark>
        ) : (
          <span key={seg.start}>{seg.text}</span>
        ),
      )}
    </>
  );
}

export function JobLogsSearch({ jobId }: { jobId: string }) {
  const backend = useBackend();
  const { navigate } = useNavigation();
  const [query, setQuery] = useState("");
  const [regex, setRegex] = useState(false);
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [committed, setCommitted] = useState<Options>({ pattern: "", regex: false, caseSensitive: false });
  const [results, setResults] = useState<State>(idle);
  // Results of an earlier search are not shown while the new one starts.
  const state = results.of === committed ? results : idle;
  const generation = useRef(0);

  useEffect(() => {
    const timer = setTimeout(() => setCommitted({ pattern: query, regex, caseSensitive }), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, regex, caseSensitive]);

  useEffect(() => {
    const mine = ++generation.current;
    if (committed.pattern === "") {
      void backend.cancelJobLogSearch().catch(() => {});
      return;
    }
    const search = { pattern: committed.pattern, regex: committed.regex, case_sensitive: committed.caseSensitive, max_matches: SHOWN_LINES };
    backend
      .searchJobLogs(jobId, search, (batch) => {
        // Batches of a search the user has moved on from are dropped.
        if (generation.current !== mine) return;
        setResults((s) => {
          const was = s.of === committed ? s : { ...idle, of: committed };
          return {
            of: committed,
            runs: batch.runs.length > 0 ? merge(was.runs, batch.runs) : was.runs,
            done: batch.done ?? was.done,
            error: batch.error ? batch.error.message : was.error,
          };
        });
      })
      .catch((e: unknown) => {
        if (generation.current === mine) setResults({ ...idle, of: committed, error: BackendError.from(e).message });
      });
  }, [backend, jobId, committed]);

  // Leaving the tab stops the search.
  useEffect(
    () => () => {
      generation.current += 1;
      void backend.cancelJobLogSearch().catch(() => {});
    },
    [backend],
  );

  const typing = query !== committed.pattern || regex !== committed.regex || caseSensitive !== committed.caseSensitive;
  const searching = query !== "" && state.error === null && (typing || state.done === null);
  const shownLines = state.runs.reduce((n, r) => n + r.matches.length, 0);

  let status = "";
  if (query === "") status = "";
  else if (state.error && !typing) status = "";
  else if (searching) status = state.runs.length > 0 ? `Searching… ${plural(state.runs.length, "run")} with matches so far` : "Searching…";
  else if (state.done) {
    const d = state.done;
    status =
      d.total === 0
        ? `No matches in ${plural(d.runs, "run")} (${formatBytes(d.bytes)})`
        : `${plural(d.total, "matching line")} in ${formatCount(d.runs_matched)} of ${plural(d.runs, "run")} (${formatBytes(d.bytes)})` +
          (d.shown < d.total ? `; the first ${formatCount(d.shown)} are shown` : "");
    if (d.unreadable > 0) status += `; ${plural(d.unreadable, "log")} could not be read`;
  }

  return (
    <section className="flex flex-col gap-3 p-4" aria-label="Logs of every run" data-testid="job-logs">
      <div className="flex flex-wrap items-center gap-2" role="search">
        <input
          type="search"
          placeholder="Search all logs of this job"
          aria-label="Search all logs"
          data-testid="job-logs-search"
          value={query}
          spellCheck={false}
          aria-invalid={state.error !== null && !typing}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") setCommitted({ pattern: query, regex, caseSensitive });
            else if (e.key === "Escape") setQuery("");
          }}
          className={`${inputClass} !w-80 !py-1 font-mono`}
        />
        <button type="button" className={toggleClass(regex)} aria-pressed={regex} onClick={() => setRegex((v) => !v)} title="Use a regular expression">
          Regex
        </button>
        <button type="button" className={toggleClass(caseSensitive)} aria-pressed={caseSensitive} onClick={() => setCaseSensitive((v) => !v)} title="Match upper and lower case exactly">
          Match case
        </button>
        <span className="inline-flex items-center gap-1.5 text-xs text-slate-600 tabular-nums dark:text-slate-300" aria-live="polite" data-testid="job-logs-status">
          {searching && <span className="size-3 animate-spin rounded-full border-2 border-slate-300 border-t-sky-600" aria-hidden="true" />}
          {status}
        </span>
        {state.error && !typing && (
          <span role="alert" className="text-xs text-red-700 dark:text-red-400" data-testid="job-logs-error">
            {state.error}
          </span>
        )}
      </div>
      {query === "" && <p className="text-sm text-slate-500 dark:text-slate-400">Every run's log of this job is searched at once, newest run first.</p>}
      <ol className="flex flex-col gap-3" data-testid="job-logs-results">
        {state.runs.map((run) => {
          const style = statusStyle[run.status];
          return (
            <li key={run.run_id} className="rounded-md border border-slate-200 dark:border-slate-800" data-testid="job-logs-run" data-run={run.run_id}>
              <div className="flex items-center gap-3 border-b border-slate-200 bg-slate-50 px-3 py-1.5 text-sm dark:border-slate-800 dark:bg-slate-900">
                <span className="font-medium" title={run.time}>
                  {formatWhen(run.time)}
                </span>
                <span className={`inline-flex items-center gap-1 ${style.className}`}>
                  <span aria-hidden="true">{style.icon}</span>
                  {statusLabel[run.status]}
                </span>
                <span className="ml-auto text-xs text-slate-500 tabular-nums dark:text-slate-400">
                  {plural(run.total, "matching line")}
                  {run.matches.length < run.total ? ` (${formatCount(run.matches.length)} shown)` : ""}
                </span>
              </div>
              {run.matches.length > 0 && (
                <ul className="font-mono text-[13px]">
                  {run.matches.map((m) => (
                    <li key={m.line}>
                      <button
                        type="button"
                        className="flex w-full gap-3 px-3 py-0.5 text-left hover:bg-sky-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600 dark:hover:bg-sky-950"
                        data-testid="job-logs-line"
                        aria-label={`Open the log at line ${m.line + 1}`}
                        onClick={() => navigate({ screen: "log", source: { kind: "run", run_id: run.run_id }, line: m.line })}
                      >
                        <span className="w-14 shrink-0 text-right text-slate-400 tabular-nums dark:text-slate-500">{m.line + 1}</span>
                        <span className={`min-w-0 flex-1 break-all whitespace-pre-wrap ${m.stream === "stderr" ? "text-red-800 dark:text-red-300" : ""}`}>
                          <Highlighted text={m.text} ranges={m.ranges} />
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
      {shownLines > 0 && state.done && state.done.shown < state.done.total && (
        <p className="text-xs text-slate-500 dark:text-slate-400">Narrow the search to see the rest: only the first {formatCount(SHOWN_LINES)} lines are listed.</p>
      )}
    </section>
  );
}
