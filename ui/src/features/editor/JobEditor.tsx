// The job editor: create a job or edit one, with a live schedule preview and the engine's
// field errors next to their inputs. The common case (name, what to run, schedule) is short;
// everything else sits behind "More options".
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import type { Job } from "../../bindings/Job";
import { useNavigation } from "../../app/navigation";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { BackendError, useBackend } from "../../ipc";
import { isMorePath } from "./errors";
import { FieldsContext, hintClass, TextField } from "./fields";
import { formToSpec, formTrigger, sameSpec } from "./form";
import { useSchedulePreview } from "./preview";
import { AboutSection } from "./sections/AboutSection";
import { ConditionsSection } from "./sections/ConditionsSection";
import { EditorHeader } from "./sections/EditorHeader";
import { EnvironmentSection } from "./sections/EnvironmentSection";
import { ErrorSummary } from "./sections/ErrorSummary";
import { MoreOptions } from "./sections/MoreOptions";
import { RequestSection } from "./sections/RequestSection";
import { RunsSection } from "./sections/RunsSection";
import { ScheduleSection } from "./sections/ScheduleSection";
import { WhatToRunSection } from "./sections/WhatToRunSection";
import { useJobActions } from "./useJobActions";
import { useJobForm } from "./useJobForm";
import { useLeave } from "./useLeave";
import { usePlacedErrors } from "./usePlacedErrors";
import { useSave } from "./useSave";

/** `inJobScreen`: shown as a tab of the job's screen, which has the one "Run now" and the
 * one way back, so the form leaves out its own. */
export function JobEditor({ jobId, inJobScreen = false }: { jobId?: string; inJobScreen?: boolean }) {
  return jobId === undefined ? (
    <EditorForm key="new" job={null} />
  ) : (
    <EditExisting key={jobId} jobId={jobId} inJobScreen={inJobScreen} />
  );
}

function EditExisting({ jobId, inJobScreen }: { jobId: string; inJobScreen: boolean }) {
  const backend = useBackend();
  const query = useQuery({ queryKey: ["job", jobId], queryFn: () => backend.getJob(jobId) });
  // Reloading after a conflict starts a fresh form from the fetched job.
  const [generation, setGeneration] = useState(0);
  if (query.isPending) return <p className="p-4 text-sm text-slate-500 dark:text-slate-400">Loading the job…</p>;
  if (query.isError) {
    return (
      <div role="alert" className="m-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
        Could not load the job: {BackendError.from(query.error).message}
      </div>
    );
  }
  return (
    <EditorForm
      key={generation}
      job={query.data}
      latestRevision={query.data.revision}
      onReload={async () => {
        await query.refetch();
        setGeneration((g) => g + 1);
      }}
      onStale={() => setGeneration((g) => g + 1)}
      inJobScreen={inJobScreen}
    />
  );
}

function EditorForm({
  job,
  latestRevision,
  onReload,
  onStale,
  inJobScreen = false,
}: {
  inJobScreen?: boolean;
  job: Job | null;
  /** The revision the engine has now (it changes when the job is edited elsewhere). */
  latestRevision?: number;
  onReload?: () => Promise<void>;
  /** Called when the job changed elsewhere while this form has no changes: start afresh. */
  onStale?: () => void;
}) {
  const navigation = useNavigation();
  const prefix = `editor${useId().replace(/[^A-Za-z0-9]/g, "")}`;
  const editor = useJobForm(job);
  const { form, patch, saved } = editor;
  const { dirty, leave } = useLeave(!sameSpec(formToSpec(form), saved.spec));
  const { save, saving, problem, setProblem, conflict, formRef, summaryRef } = useSave({ job, editor, leave });
  const actions = useJobActions({ job, dirty, flash: editor.flash, onProblem: setProblem, leave });

  // Changed elsewhere while nothing here is changed: show the new version instead of a conflict later.
  const stale = latestRevision !== undefined && latestRevision > saved.revision && !dirty && !saving;
  useEffect(() => {
    if (stale) onStale?.();
  }, [stale, onStale]);

  const trigger = formTrigger(form);
  const preview = useSchedulePreview(trigger);
  const placed = usePlacedErrors(preview.error, editor.saveErrors, form);

  return (
    <FieldsContext.Provider value={{ prefix, errors: placed.byPath }}>
      <form
        ref={formRef}
        noValidate
        aria-labelledby={`${prefix}-title`}
        className="mx-auto max-w-3xl space-y-6 p-4 pb-12"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <EditorHeader
          titleId={`${prefix}-title`}
          title={job ? saved.name : "New job"}
          dirty={dirty}
          status={editor.status}
          existing={job !== null}
          inJobScreen={inJobScreen}
          saving={saving}
          onRunNow={() => void actions.runNow()}
          onDelete={actions.askDelete}
          onBack={() => navigation.back()}
        />
        <ErrorSummary
          summaryRef={summaryRef}
          form={form}
          saveErrors={editor.saveErrors}
          unplaced={placed.unplaced}
          problem={problem}
          conflict={conflict}
          onReload={() => void onReload?.()}
        />
        <TextField label="Name" path="name" value={form.name} testId="editor-name" onChange={(name) => patch({ name }, "name")} placeholder="Nightly backup" />
        <WhatToRunSection form={form} patch={patch} />
        <ScheduleSection form={form} patch={patch} jobId={job?.id ?? null} trigger={trigger} preview={preview} />
        <MoreOptions kindType={form.kindType} hasError={Object.keys(placed.byPath).some(isMorePath)}>
          <AboutSection form={form} patch={patch} />
          {form.kindType === "command" ? <EnvironmentSection form={form} patch={patch} /> : <RequestSection form={form} patch={patch} />}
          <RunsSection form={form} patch={patch} />
          <ConditionsSection form={form} patch={patch} />
        </MoreOptions>
        <p className={hintClass}>Ctrl+S (⌘S on a Mac) saves.</p>
      </form>
      <ConfirmDialog
        open={actions.confirmingDelete}
        title={`Delete “${saved.name}”?`}
        description="The job, its schedule and its run history go away. This cannot be undone."
        confirmLabel="Delete job"
        destructive
        onCancel={actions.cancelDelete}
        onConfirm={() => void actions.deleteJob()}
      />
    </FieldsContext.Provider>
  );
}
