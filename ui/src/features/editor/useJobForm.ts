// The editor's form: its fields, the version last saved, the save's field errors and the short
// status line ("Saved"). Editing a field takes its old error and the status away.
import { useEffect, useRef, useState } from "react";
import type { FieldError } from "../../bindings/FieldError";
import type { Job } from "../../bindings/Job";
import type { JobSpec } from "../../bindings/JobSpec";
import { clearErrors } from "./errors";
import { type FormState, formToSpec, newJobForm, specToForm } from "./form";

const STATUS_MS = 4000;

/** Changes fields; the errors of the fields under `paths` go away with the old values. */
export type Patch = (changes: Partial<FormState>, ...paths: string[]) => void;

/** What a section of the form gets: the fields and the way to change them. */
export interface SectionProps {
  form: FormState;
  patch: Patch;
}

/** The version the engine has: what "unsaved changes" compares with, and the revision an
 * update is based on. */
export interface Saved {
  spec: JobSpec;
  revision: number;
  name: string;
}

export interface JobForm {
  form: FormState;
  patch: Patch;
  saved: Saved;
  setSaved: (saved: Saved) => void;
  saveErrors: FieldError[];
  setSaveErrors: (errors: FieldError[]) => void;
  status: string | null;
  /** Shows `message` in the status line for a few seconds. */
  flash: (message: string) => void;
}

function specOf(job: Job): JobSpec {
  return { name: job.name, description: job.description, tags: job.tags, enabled: job.enabled, kind: job.kind, trigger: job.trigger, policies: job.policies };
}

function initialForm(job: Job | null): FormState {
  return job ? specToForm(specOf(job)) : newJobForm();
}

/** The form for `job` (null: a new job with the defaults). */
export function useJobForm(job: Job | null): JobForm {
  const [form, setForm] = useState<FormState>(() => initialForm(job));
  const [saved, setSaved] = useState<Saved>(() => ({
    spec: formToSpec(initialForm(job)),
    revision: job?.revision ?? 0,
    name: job?.name ?? "",
  }));
  const [saveErrors, setSaveErrors] = useState<FieldError[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const statusTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(statusTimer.current), []);

  const patch: Patch = (changes, ...paths) => {
    setForm((f) => ({ ...f, ...changes }));
    setSaveErrors((errors) => clearErrors(errors, paths));
    setStatus(null);
  };

  const flash = (message: string) => {
    setStatus(message);
    clearTimeout(statusTimer.current);
    statusTimer.current = setTimeout(() => setStatus(null), STATUS_MS);
  };

  return { form, patch, saved, setSaved, saveErrors, setSaveErrors, status, flash };
}
