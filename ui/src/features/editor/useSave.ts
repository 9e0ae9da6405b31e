// Saving the form (the Save button, Enter, Ctrl+S / ⌘S): the editor's own checks first, then a
// create, or an update based on the revision the form was opened at. The engine's field errors
// go next to their inputs, a conflict offers a reload, and the focus moves to the first invalid
// input (or to the error summary).
import { useQueryClient } from "@tanstack/react-query";
import { type RefObject, useEffect, useEffectEvent, useRef, useState } from "react";
import type { Job } from "../../bindings/Job";
import type { Route } from "../../app/navigation";
import { BackendError, useBackend } from "../../ipc";
import { formToSpec, localErrors } from "./form";
import type { JobForm } from "./useJobForm";

export interface Save {
  save: () => Promise<void>;
  saving: boolean;
  /** A failure that is not about a field (or a failed run or delete). */
  problem: string | null;
  setProblem: (problem: string | null) => void;
  /** The job changed elsewhere since the form was opened: nothing was saved. */
  conflict: boolean;
  formRef: RefObject<HTMLFormElement | null>;
  summaryRef: RefObject<HTMLDivElement | null>;
}

export function useSave({ job, editor, leave }: { job: Job | null; editor: JobForm; leave: (to: Route) => void }): Save {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [focusRequest, setFocusRequest] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (focusRequest === 0) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    (invalid ?? summaryRef.current)?.focus();
  }, [focusRequest]);

  const { form, saved, setSaved, setSaveErrors, flash } = editor;
  const save = async () => {
    if (saving) return;
    setProblem(null);
    setConflict(false);
    const local = localErrors(form);
    if (local.length > 0) {
      setSaveErrors(local);
      setFocusRequest((n) => n + 1);
      return;
    }
    const sent = formToSpec(form);
    setSaving(true);
    try {
      if (job) {
        const updated = await backend.updateJob(job.id, sent, saved.revision);
        setSaved({ spec: sent, revision: updated.revision, name: updated.name });
        setSaveErrors([]);
        flash("Saved");
      } else {
        const created = await backend.createJob(sent);
        setSaved({ spec: sent, revision: created.revision, name: created.name });
        setSaveErrors([]);
        leave({ screen: "job", jobId: created.id, tab: "edit" });
      }
      void queryClient.invalidateQueries();
    } catch (raw) {
      const e = BackendError.from(raw);
      if (e.code === "invalid" && e.fields.length > 0) {
        setSaveErrors(e.fields);
        setFocusRequest((n) => n + 1);
      } else if (e.code === "conflict") {
        setConflict(true);
      } else {
        setProblem(e.message);
        setFocusRequest((n) => n + 1);
      }
    } finally {
      setSaving(false);
    }
  };

  const onSaveKey = useEffectEvent((e: KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "s") {
      e.preventDefault();
      void save();
    }
  });
  useEffect(() => {
    const listener = (e: KeyboardEvent) => onSaveKey(e);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  return { save, saving, problem, setProblem, conflict, formRef, summaryRef };
}
