// Pure numbers behind the overview's pictures: durations, their median and the slow ones,
// success rates in words.
import type { OutcomeCounts } from "../../bindings/OutcomeCounts";
import type { RunStatus } from "../../bindings/RunStatus";

/** A run as the pictures see it (a full `Run` or a `RunMark`). */
export interface RunLike {
  id: string;
  status: RunStatus;
  scheduled_for: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  http_status: number | null;
}

/** How long a finished run took, in ms; null for a run that did not start or is going. */
export function durationOf(run: RunLike): number | null {
  if (!run.started_at || !run.finished_at) return null;
  return Math.max(0, Date.parse(run.finished_at) - Date.parse(run.started_at));
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A run is slow when it took more than twice the median and at least a second longer:
 * the second keeps a 20 ms job that once took 50 ms from crying wolf. */
export function isSlow(ms: number, med: number): boolean {
  return ms > 2 * med && ms - med >= 1000;
}

/** "92%" of the runs that ended succeeded or failed; null when none did. */
export function successRate(counts: OutcomeCounts): number | null {
  const total = counts.succeeded + counts.failed;
  return total === 0 ? null : counts.succeeded / total;
}

export function formatRate(counts: OutcomeCounts): { value: string; detail: string } {
  const rate = successRate(counts);
  const total = counts.succeeded + counts.failed;
  if (rate === null) return { value: "—", detail: "no runs ended" };
  // Never "100%" while one run failed, never "0%" while one succeeded.
  const percent = rate === 1 ? "100%" : rate === 0 ? "0%" : `${Math.min(99, Math.max(1, Math.round(rate * 100)))}%`;
  return {
    value: percent,
    detail: `${counts.succeeded} of ${total} ${total === 1 ? "run" : "runs"} succeeded`,
  };
}

/** The outcome of a finished run in words: "Succeeded", "Failed with exit code 2". */
export function outcomeWords(run: RunLike): string {
  const code = run.http_status !== null ? `HTTP status ${run.http_status}` : run.exit_code !== null ? `exit code ${run.exit_code}` : null;
  switch (run.status) {
    case "succeeded":
      return "Succeeded";
    case "failed":
      return code ? `Failed with ${code}` : "Failed";
    case "timed_out":
      return "Timed out";
    case "cancelled":
      return "Cancelled";
    case "skipped":
      return "Skipped";
    case "interrupted":
      return "Interrupted";
    case "queued":
      return "Waiting for a free slot";
    case "running":
      return "Running";
  }
}
