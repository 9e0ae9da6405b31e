import { QueryClient, QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { JobsScreen } from "./features/jobs/JobsScreen";
import { type Backend, BackendProvider, useBackend } from "./ipc";

/** Engine changes invalidate the queries that show them; the UI refetches. */
function LiveUpdates() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    void backend
      .subscribe(() => {
        // Every change can move a next run, a last result or the running count.
        void queryClient.invalidateQueries();
      })
      .then((unsubscribe) => {
        if (cancelled) unsubscribe();
        else stop = unsubscribe;
      });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [backend, queryClient]);
  return null;
}

export function App({ backend, queryClient }: { backend: Backend; queryClient?: QueryClient }) {
  const [client] = useState(
    () =>
      queryClient ??
      new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: 1 } } }),
  );
  return (
    <BackendProvider backend={backend}>
      <QueryClientProvider client={client}>
        <LiveUpdates />
        <JobsScreen />
      </QueryClientProvider>
    </BackendProvider>
  );
}
