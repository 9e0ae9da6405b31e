import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import type { RunQuery } from "../../bindings/RunQuery";
import type { RunStatus } from "../../bindings/RunStatus";
import { useBackend } from "../../ipc";

/** Runs per keyset page. */
export const PAGE_SIZE = 200;

/** What the engine filters on; pages are added by the query. */
export interface RunFilter {
  jobId?: string | undefined;
  statuses: RunStatus[];
  from?: string | undefined;
  to?: string | undefined;
  /** "The last N ms": `from` is worked out at each fetch, so the window moves with the clock
   * when the engine's changes refetch the history. Wins over `from`. */
  lastMs?: number | undefined;
}

/** The engine's query for one page: optional keys are left out, never `undefined`. */
export function runQuery(filter: RunFilter, before: string | undefined): RunQuery {
  const query: RunQuery = { limit: PAGE_SIZE };
  if (filter.jobId !== undefined) query.job_id = filter.jobId;
  if (filter.statuses.length > 0) query.statuses = filter.statuses;
  if (filter.lastMs !== undefined) query.from = new Date(Date.now() - filter.lastMs).toISOString();
  else if (filter.from !== undefined) query.from = filter.from;
  if (filter.to !== undefined) query.to = filter.to;
  if (before !== undefined) query.before = before;
  return query;
}

/** Run history newest first, a keyset page at a time: each page starts before the last id of
 * the one before it, so pages never overlap even while new runs arrive. */
export function useRunPages(filter: RunFilter) {
  const backend = useBackend();
  return useInfiniteQuery({
    queryKey: ["runs", "history", filter],
    queryFn: ({ pageParam }) => backend.listRuns(runQuery(filter, pageParam)),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (lastPage) => (lastPage.length < PAGE_SIZE ? undefined : lastPage.at(-1)?.id),
  });
}

export function useCancelRun() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) => backend.cancelRun(runId),
    onSettled: () => queryClient.invalidateQueries(),
  });
}
