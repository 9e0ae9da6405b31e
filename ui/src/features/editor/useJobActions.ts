// The stored job's own actions in the editor: run it now (the saved version) and delete it,
// after a confirmation.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Job } from "../../bindings/Job";
import type { Route } from "../../app/navigation";
import { BackendError, useBackend } from "../../ipc";

export interface JobActions {
  runNow: () => Promise<void>;
  /** The delete confirmation is open. */
  confirmingDelete: boolean;
  askDelete: () => void;
  cancelDelete: () => void;
  deleteJob: () => Promise<void>;
}

export function useJobActions({
  job,
  dirty,
  flash,
  onProblem,
  leave,
}: {
  job: Job | null;
  dirty: boolean;
  flash: (message: string) => void;
  onProblem: (problem: string) => void;
  leave: (to: Route) => void;
}): JobActions {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [confirmingDelete, setConfirmingDelete] = useState(false);

  const runNow = async () => {
    if (!job) return;
    try {
      await backend.runJobNow(job.id);
      flash(dirty ? "Started a run of the saved version" : "Started a run");
      void queryClient.invalidateQueries();
    } catch (raw) {
      onProblem(`Could not start a run: ${BackendError.from(raw).message}`);
    }
  };

  const deleteJob = async () => {
    if (!job) return;
    setConfirmingDelete(false);
    try {
      await backend.deleteJob(job.id);
      leave({ screen: "jobs" });
      void queryClient.invalidateQueries({ queryKey: ["jobs"] });
      void queryClient.invalidateQueries({ queryKey: ["status"] });
    } catch (raw) {
      onProblem(`Could not delete the job: ${BackendError.from(raw).message}`);
    }
  };

  return {
    runNow,
    confirmingDelete,
    askDelete: () => setConfirmingDelete(true),
    cancelDelete: () => setConfirmingDelete(false),
    deleteJob,
  };
}
