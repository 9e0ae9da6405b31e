// The jobs list's sort orders. Jobs without a value (never run, nothing scheduled) go last
// whichever the direction, so a sort never opens on a screen of blanks.
import type { JobSummary } from "../../bindings/JobSummary";
import type { RunStatus } from "../../bindings/RunStatus";

export type SortKey = "name" | "next" | "last" | "status";
export interface JobSort {
  key: SortKey;
  descending: boolean;
}

export const defaultSort: JobSort = { key: "name", descending: false };

/** Failures first: sorting by status answers "what needs me". */
const statusRank: Record<RunStatus, number> = {
  failed: 0,
  timed_out: 0,
  interrupted: 0,
  running: 1,
  queued: 2,
  cancelled: 3,
  skipped: 4,
  succeeded: 5,
};

function value(summary: JobSummary, key: SortKey): string | number | null {
  switch (key) {
    case "name":
      return summary.job.name.toLocaleLowerCase();
    case "next":
      return summary.next_fire ? Date.parse(summary.next_fire) : null;
    case "last": {
      const run = summary.last_run;
      // Newest first when ascending feels wrong; "last run" ascending means most recent first.
      return run ? -Date.parse(run.started_at ?? run.scheduled_for) : null;
    }
    case "status":
      return summary.last_run ? statusRank[summary.last_run.status] : null;
  }
}

export function sortJobs(jobs: JobSummary[], sort: JobSort): JobSummary[] {
  const dir = sort.descending ? -1 : 1;
  return [...jobs].sort((a, b) => {
    const [x, y] = [value(a, sort.key), value(b, sort.key)];
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) {
      return (typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : (x as number) - (y as number)) * dir;
    }
    return a.job.name.localeCompare(b.job.name);
  });
}
