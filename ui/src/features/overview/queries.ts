import { useQuery } from "@tanstack/react-query";
import { useBackend } from "../../ipc";

export function useJobOverview(jobId: string) {
  const backend = useBackend();
  return useQuery({ queryKey: ["overview", jobId], queryFn: () => backend.jobOverview(jobId) });
}

export function useRun(runId: string | null) {
  const backend = useBackend();
  return useQuery({
    queryKey: ["run", runId],
    queryFn: () => backend.getRun(runId ?? ""),
    enabled: runId !== null,
  });
}

/** Lines shown of the last run's log. */
export const TAIL_LINES = 12;

/** The last lines of a run's log (two small reads: its size, then the range). */
export function useLogTail(runId: string | null) {
  const backend = useBackend();
  return useQuery({
    queryKey: ["log-tail", runId],
    enabled: runId !== null,
    retry: false,
    queryFn: async () => {
      const view = { source: { kind: "run" as const, run_id: runId ?? "" } };
      const info = await backend.logInfo(view);
      if (info.lines === 0) return { lines: [], total: 0 };
      const start = Math.max(0, info.lines - TAIL_LINES);
      const lines = await backend.readLogLines(view, start, Math.min(TAIL_LINES, info.lines));
      return { lines, total: info.lines };
    },
  });
}
