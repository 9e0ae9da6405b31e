import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
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
