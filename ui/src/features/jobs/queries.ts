import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RunMark } from "../../bindings/RunMark";
import { useBackend } from "../../ipc";

export function useJobs() {
  const backend = useBackend();
  return useQuery({ queryKey: ["jobs"], queryFn: () => backend.listJobs() });
}

export function useStatus() {
  const backend = useBackend();
  return useQuery({ queryKey: ["status"], queryFn: () => backend.getStatus() });
}

/** Pause or resume every schedule; the engine persists it. */
export function useSetPaused() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (paused: boolean) => (paused ? backend.pauseAll() : backend.resumeAll()),
    onSuccess: (status) => {
      queryClient.setQueryData(["status"], status);
      void queryClient.invalidateQueries({ queryKey: ["jobs"] });
    },
  });
}

export function useSetEnabled() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => backend.setJobEnabled(id, enabled),
    onSettled: () => queryClient.invalidateQueries(),
  });
}

export function useRunNow() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => backend.runJobNow(id),
    onSettled: () => queryClient.invalidateQueries(),
  });
}

/** Runs per job in the list's strips. */
export const STRIP_RUNS = 20;

/** The newest runs of every job for the list's strips, grouped by job, oldest first: one
 * engine query for the whole list. */
export function useRunStrips() {
  const backend = useBackend();
  return useQuery({
    queryKey: ["run-strips", STRIP_RUNS],
    queryFn: async () => {
      const byJob = new Map<string, RunMark[]>();
      for (const mark of await backend.runStrips(STRIP_RUNS)) {
        const runs = byJob.get(mark.job_id) ?? [];
        runs.push(mark);
        byJob.set(mark.job_id, runs);
      }
      return byJob;
    },
  });
}
