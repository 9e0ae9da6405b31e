import type { JobSummary } from "../../bindings/JobSummary";

/** What the list can be narrowed to, by the last run's outcome or the job's state. */
export type StatusFilter = "all" | "failing" | "running" | "succeeded" | "never" | "disabled";

export const statusFilterLabel: Record<StatusFilter, string> = {
  all: "Any status",
  failing: "Last run failed",
  running: "Running now",
  succeeded: "Last run succeeded",
  never: "Never run",
  disabled: "Disabled",
};

export interface JobFilters {
  text: string;
  tag: string | null;
  status: StatusFilter;
}

export const noFilters: JobFilters = { text: "", tag: null, status: "all" };

function matchesStatus(summary: JobSummary, status: StatusFilter): boolean {
  const last = summary.last_run?.status;
  switch (status) {
    case "all":
      return true;
    case "failing":
      return last === "failed" || last === "timed_out" || last === "interrupted";
    case "running":
      return last === "running" || last === "queued";
    case "succeeded":
      return last === "succeeded";
    case "never":
      return summary.last_run === null;
    case "disabled":
      return !summary.job.enabled;
  }
}

/** What a job's text filter looks at: name, description, tags, the schedule in words and
 * what it runs. */
function haystack({ job, schedule }: JobSummary): string {
  const what =
    job.kind.type === "http"
      ? `${job.kind.method} ${job.kind.url}`
      : job.kind.program.mode === "exec"
        ? [job.kind.program.program, ...job.kind.program.args].join(" ")
        : job.kind.program.body;
  return [job.name, job.description, ...job.tags, schedule, what].join("\n").toLowerCase();
}

export function filterJobs(jobs: JobSummary[], filters: JobFilters): JobSummary[] {
  const words = filters.text.toLowerCase().split(/\s+/).filter(Boolean);
  return jobs.filter((summary) => {
    if (filters.tag !== null && !summary.job.tags.includes(filters.tag)) return false;
    if (!matchesStatus(summary, filters.status)) return false;
    if (words.length === 0) return true;
    const text = haystack(summary);
    return words.every((w) => text.includes(w));
  });
}

/** Every tag in use, sorted. */
export function allTags(jobs: JobSummary[]): string[] {
  return [...new Set(jobs.flatMap((s) => s.job.tags))].sort((a, b) => a.localeCompare(b));
}
