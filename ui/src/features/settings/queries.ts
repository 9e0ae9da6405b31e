import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useBackend } from "../../ipc";

export function useSettings() {
  const backend = useBackend();
  return useQuery({ queryKey: ["settings"], queryFn: () => backend.getSettings() });
}

export function useRetention() {
  const backend = useBackend();
  return useQuery({ queryKey: ["retention"], queryFn: () => backend.getRetention() });
}

export function useAutostart() {
  const backend = useBackend();
  return useQuery({ queryKey: ["autostart"], queryFn: () => backend.getAutostart() });
}

/** Start at login is applied at once, not with the form's Save. */
export function useSetAutostart() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (enabled: boolean) => backend.setAutostart(enabled),
    onSuccess: (enabled) => queryClient.setQueryData(["autostart"], enabled),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["autostart"] }),
  });
}
