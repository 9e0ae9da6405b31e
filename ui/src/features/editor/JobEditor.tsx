// The job editor: create a job or edit one, with a live schedule preview and the engine's
// field errors next to their inputs. The common case (name, what to run, schedule) is short;
// everything else sits behind "More options".
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useEffectEvent, useId, useMemo, useRef, useState } from "react";
import type { FieldError } from "../../bindings/FieldError";
import type { Job } from "../../bindings/Job";
import type { JobSpec } from "../../bindings/JobSpec";
import { type Route, useNavigation, useUnsavedChanges } from "../../app/navigation";
import { Button, inputClass } from "../../components/Button";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { BackendError, useBackend } from "../../ipc";
import { clearErrors, isMorePath, placeErrors } from "./errors";
import {
  ArgsEditor,
  Checkbox,
  Field,
  fieldId,
  FieldsContext,
  hintClass,
  SelectField,
  TagsInput,
  TextField,
  VarsEditor,
} from "./fields";
import {
  type FormState,
  formToSpec,
  formTrigger,
  fromLocalInput,
  localErrors,
  NAMED_INTERPRETERS,
  newJobForm,
  sameSpec,
  specToForm,
  systemTimeZone,
  toLocalInput,
  type TriggerType,
} from "./form";
import { previewFieldErrors, SchedulePreviewPanel, useSchedulePreview } from "./preview";

/** The editor screen: a new job without `jobId`, the stored job with one. */
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

function specOf(job: Job): JobSpec {
  return { name: job.name, description: job.description, tags: job.tags, enabled: job.enabled, kind: job.kind, trigger: job.trigger, policies: job.policies };
}

const KIND_OPTIONS = [
  ["command", "Command"],
  ["http", "HTTP request"],
] as const;

const TRIGGER_OPTIONS: ReadonlyArray<readonly [TriggerType, string]> = [
  ["cron", "Cron expression"],
  ["interval", "Every (interval)"],
  ["once", "Once"],
  ["manual", "Manual only"],
  ["after_job", "After another job"],
  ["at_start", "When Sundial starts"],
  ["on_wake", "When the computer wakes"],
  ["file_arrives", "When a file arrives"],
];

const INTERPRETER_LABELS: Record<string, string> = { sh: "sh", bash: "bash", python: "Python", node: "Node.js", pwsh: "PowerShell (pwsh)", cmd: "cmd.exe" };
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

let zoneList: string[] | null = null;
function timeZones(): string[] {
  zoneList ??= Intl.supportedValuesOf("timeZone");
  return zoneList;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="space-y-3">
      <h3 className="text-sm font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">{title}</h3>
      {children}
    </section>
  );
}

function SegmentedToggle<T extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  options: ReadonlyArray<readonly [T, string]>;
  onChange: (value: T) => void;
  testId?: string;
}) {
  return (
    <div role="radiogroup" aria-label={label} className="inline-flex rounded-md border border-slate-300 p-0.5 dark:border-slate-600" data-testid={testId}>
      {options.map(([v, text]) => (
        <button
          key={v}
          type="button"
          role="radio"
          aria-checked={value === v}
          onClick={() => onChange(v)}
          className={
            "rounded px-3 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-sky-600 " +
            (value === v ? "bg-sky-600 text-white" : "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800")
          }
        >
          {text}
        </button>
      ))}
    </div>
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
  const backend = useBackend();
  const queryClient = useQueryClient();
  const navigation = useNavigation();
  const prefix = `editor${useId().replace(/[^A-Za-z0-9]/g, "")}`;

  const [form, setForm] = useState<FormState>(() => (job ? specToForm(specOf(job)) : newJobForm()));
  const [saved, setSaved] = useState(() => ({
    spec: formToSpec(job ? specToForm(specOf(job)) : newJobForm()),
    revision: job?.revision ?? 0,
    name: job?.name ?? "",
  }));
  const [saveErrors, setSaveErrors] = useState<FieldError[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [moreOpen, setMoreOpen] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [leaveTo, setLeaveTo] = useState<Route | null>(null);
  const [focusRequest, setFocusRequest] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  const statusTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const spec = formToSpec(form);
  const dirty = leaveTo === null && !sameSpec(spec, saved.spec);
  useUnsavedChanges(dirty);

  // Leave once the guard knows the form is saved (or deleted): after it, in effect order.
  useEffect(() => {
    if (leaveTo) navigation.navigate(leaveTo);
  }, [leaveTo, navigation]);

  // Changed elsewhere while nothing here is changed: show the new version instead of a conflict later.
  const stale = latestRevision !== undefined && latestRevision > saved.revision && !dirty && !saving;
  useEffect(() => {
    if (stale) onStale?.();
  }, [stale, onStale]);

  const trigger = formTrigger(form);
  const preview = useSchedulePreview(trigger);
  const jobs = useQuery({ queryKey: ["jobs"], queryFn: () => backend.listJobs(), enabled: form.triggerType === "after_job" });

  const placed = useMemo(() => {
    const live = previewFieldErrors(preview.error);
    const fromSave = placeErrors(saveErrors, form);
    const fromPreview = placeErrors(
      Object.entries(live).map(([field, message]) => ({ field, message })),
      form,
    );
    return {
      byPath: { ...fromPreview.byPath, ...fromSave.byPath },
      unplaced: [...fromSave.unplaced, ...fromPreview.unplaced.filter((e) => !fromSave.unplaced.some((s) => s.field === e.field))],
    };
  }, [preview.error, saveErrors, form]);
  const moreHasError = Object.keys(placed.byPath).some(isMorePath);
  const showMore = moreOpen || moreHasError;

  useEffect(() => {
    if (focusRequest === 0) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    (invalid ?? summaryRef.current)?.focus();
  }, [focusRequest]);

  useEffect(() => () => clearTimeout(statusTimer.current), []);

  /** Changes fields; the errors of the fields under `paths` go away with the old values. */
  const patch = (changes: Partial<FormState>, ...paths: string[]) => {
    setForm((f) => ({ ...f, ...changes }));
    setSaveErrors((errors) => clearErrors(errors, paths));
    setStatus(null);
  };
  const patchTrigger = (changes: Partial<FormState>) => patch(changes, "trigger");

  const flash = (message: string) => {
    setStatus(message);
    clearTimeout(statusTimer.current);
    statusTimer.current = setTimeout(() => setStatus(null), 4000);
  };

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
        setLeaveTo({ screen: "job", jobId: created.id, tab: "edit" });
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

  const runNow = async () => {
    if (!job) return;
    try {
      await backend.runJobNow(job.id);
      flash(dirty ? "Started a run of the saved version" : "Started a run");
      void queryClient.invalidateQueries();
    } catch (raw) {
      setProblem(`Could not start a run: ${BackendError.from(raw).message}`);
    }
  };

  const deleteJob = async () => {
    if (!job) return;
    setConfirmDelete(false);
    try {
      await backend.deleteJob(job.id);
      setLeaveTo({ screen: "jobs" });
      void queryClient.invalidateQueries({ queryKey: ["jobs"] });
      void queryClient.invalidateQueries({ queryKey: ["status"] });
    } catch (raw) {
      setProblem(`Could not delete the job: ${BackendError.from(raw).message}`);
    }
  };

  const upstreamJobs = (jobs.data ?? []).filter((s) => s.job.id !== job?.id);
  const upstreamName = upstreamJobs.find((s) => s.job.id === form.afterJobId)?.job.name ?? null;
  const zone = systemTimeZone();
  const zones = timeZones();
  const zoneOptions: Array<readonly [string, string]> = [
    ["", `This computer's zone, whatever it is (now ${zone})`],
    ...[...new Set([zone, ...(form.timezone ? [form.timezone] : []), ...zones])].map((z) => [z, z] as const),
  ];
  const methods = METHODS.includes(form.method) ? METHODS : [form.method, ...METHODS];
  const savePlaced = placeErrors(saveErrors, form);
  const errorCount = Object.keys(savePlaced.byPath).length + savePlaced.unplaced.length;
  const showSummary = saveErrors.length > 0 || problem !== null || conflict || placed.unplaced.length > 0;
  const title = job ? saved.name : "New job";

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
        <div className="flex flex-wrap items-center justify-between gap-3">
          <h2 id={`${prefix}-title`} className="text-lg font-semibold" data-testid="editor-title">
            {title}
            {dirty && (
              <span className="ml-2 align-middle text-xs font-normal text-slate-500 dark:text-slate-400" data-testid="editor-dirty">
                Unsaved changes
              </span>
            )}
          </h2>
          <div className="flex flex-wrap items-center gap-2">
            <span role="status" className="text-sm font-medium text-emerald-700 dark:text-emerald-400" data-testid="editor-status">
              {status}
            </span>
            {job && (
              <>
                {!inJobScreen && (
                  <Button onClick={() => void runNow()} data-testid="editor-run-now" title={dirty ? "Runs the saved version, without your unsaved changes" : undefined}>
                    Run now
                  </Button>
                )}
                <Button variant="ghost" className="text-red-700 dark:text-red-400" onClick={() => setConfirmDelete(true)} data-testid="editor-delete">
                  Delete job
                </Button>
              </>
            )}
            {(!inJobScreen || dirty) && (
              <Button onClick={() => navigation.back()} data-testid="editor-cancel">
                {dirty ? "Cancel" : "Back"}
              </Button>
            )}
            <Button type="submit" variant="primary" disabled={saving} data-testid="editor-save" title="Ctrl+S / ⌘S">
              {saving ? "Saving…" : job ? "Save" : "Create job"}
            </Button>
          </div>
        </div>

        {showSummary && (
          <div
            ref={summaryRef}
            tabIndex={-1}
            role="alert"
            data-testid="editor-error-summary"
            className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 focus-visible:outline-2 focus-visible:outline-red-600 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
          >
            {conflict ? (
              <div className="flex flex-wrap items-center justify-between gap-2">
                <p>
                  This job was changed elsewhere since you opened it, so your changes were not saved. Reload to get the
                  latest version (your changes here will be discarded).
                </p>
                <Button onClick={() => void onReload?.()} data-testid="editor-reload">
                  Reload
                </Button>
              </div>
            ) : problem ? (
              <p>{problem}</p>
            ) : (
              <p>
                {saveErrors.length > 0
                  ? `The job was not saved: ${errorCount === 1 ? "one field needs" : `${errorCount} fields need`} attention.`
                  : "The schedule cannot be previewed."}
              </p>
            )}
            {placed.unplaced.length > 0 && (
              <ul className="mt-1 list-disc pl-5">
                {placed.unplaced.map((e) => (
                  <li key={`${e.field}:${e.message}`} data-testid={`field-error-${e.field}`}>
                    {e.field}: {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}

        <TextField label="Name" path="name" value={form.name} testId="editor-name" onChange={(name) => patch({ name }, "name")} placeholder="Nightly backup" />

        <Section title="What to run">
          <SegmentedToggle label="Kind" value={form.kindType} options={KIND_OPTIONS} onChange={(kindType) => patch({ kindType })} testId="editor-kind" />
          {form.kindType === "command" ? (
            <div className="space-y-3">
              <SegmentedToggle
                label="Command form"
                value={form.programMode}
                options={[
                  ["exec", "Program + arguments"],
                  ["script", "Script"],
                ]}
                onChange={(programMode) => patch({ programMode })}
                testId="editor-program-mode"
              />
              {form.programMode === "exec" ? (
                <>
                  <TextField
                    label="Program"
                    path="kind.program.program"
                    value={form.program}
                    mono
                    testId="editor-program"
                    placeholder="/usr/bin/rsync"
                    hint="An executable name or path. It runs directly, without a shell."
                    onChange={(program) => patch({ program }, "kind.program.program")}
                  />
                  <ArgsEditor rows={form.args} onChange={(args) => patch({ args }, "kind.program.args")} />
                </>
              ) : (
                <>
                  <div className="flex flex-wrap gap-3">
                    <SelectField
                      label="Interpreter"
                      path="kind.program.interpreter"
                      className="w-56"
                      value={form.interpreter}
                      options={[...NAMED_INTERPRETERS.map((i) => [i, INTERPRETER_LABELS[i] ?? i] as const), ["custom", "Other program…"] as const]}
                      onChange={(interpreter) => patch({ interpreter }, "kind.program.interpreter")}
                    />
                    {form.interpreter === "custom" && (
                      <TextField
                        label="Interpreter program"
                        path="kind.program.interpreter.custom"
                        className="min-w-48 flex-1"
                        mono
                        value={form.customInterpreter}
                        placeholder="ruby"
                        onChange={(customInterpreter) => patch({ customInterpreter }, "kind.program.interpreter")}
                      />
                    )}
                  </div>
                  <Field
                    label="Script"
                    path="kind.program.body"
                    render={(props) => (
                      <textarea
                        {...props}
                        value={form.body}
                        rows={8}
                        spellCheck={false}
                        data-testid="editor-program"
                        onChange={(e) => patch({ body: e.target.value }, "kind.program.body")}
                        className={`${inputClass} font-mono`}
                      />
                    )}
                  />
                </>
              )}
            </div>
          ) : (
            <div className="flex flex-wrap gap-3">
              <SelectField
                label="Method"
                path="kind.method"
                className="w-32"
                value={form.method}
                options={methods.map((m) => [m, m] as const)}
                onChange={(method) => patch({ method }, "kind.method")}
              />
              <TextField
                label="URL"
                path="kind.url"
                type="url"
                className="min-w-64 flex-1"
                value={form.url}
                mono
                testId="editor-url"
                placeholder="https://example.com/health"
                onChange={(url) => patch({ url }, "kind.url")}
              />
            </div>
          )}
        </Section>

        <Section title="Schedule">
          <div className="grid gap-4 md:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
            <div className="space-y-3">
              <SelectField
                label="Runs"
                path={form.triggerType === "after_job" ? "trigger.type" : "trigger"}
                value={form.triggerType}
                options={TRIGGER_OPTIONS}
                testId="editor-trigger-type"
                onChange={(triggerType) => patchTrigger({ triggerType })}
              />
              {form.triggerType === "cron" && (
                <>
                  <TextField
                    label="Cron expression"
                    path="trigger.expr"
                    value={form.cronExpr}
                    mono
                    testId="editor-cron"
                    placeholder="0 9 * * 1-5"
                    hint="Minute hour day-of-month month day-of-week (a sixth leading field is seconds), or @daily, @hourly…"
                    onChange={(cronExpr) => patchTrigger({ cronExpr })}
                  />
                  <SelectField
                    label="Time zone"
                    path="trigger.timezone"
                    value={form.timezone ?? ""}
                    options={zoneOptions}
                    testId="editor-timezone"
                    onChange={(tz) => patchTrigger({ timezone: tz === "" ? null : tz })}
                  />
                </>
              )}
              {form.triggerType === "interval" && (
                <>
                  <div className="flex gap-3">
                    <TextField
                      label="Every"
                      path="trigger.every"
                      type="number"
                      inputMode="numeric"
                      className="w-28"
                      value={form.every}
                      testId="editor-every"
                      onChange={(every) => patchTrigger({ every })}
                    />
                    <SelectField
                      label="Unit"
                      path="trigger.unit"
                      className="w-36"
                      value={form.unit}
                      options={[
                        ["seconds", "seconds"],
                        ["minutes", "minutes"],
                        ["hours", "hours"],
                      ]}
                      onChange={(unit) => patchTrigger({ unit })}
                    />
                  </div>
                  <TextField
                    label="Starting at (optional)"
                    path="trigger.anchor"
                    type="datetime-local"
                    value={toLocalInput(form.anchor)}
                    hint={`Runs fall on this time plus whole intervals; in this computer's zone (${zone}). Empty: counted from when the job is saved.`}
                    onChange={(v) => patchTrigger({ anchor: v === "" ? null : fromLocalInput(v) })}
                  />
                </>
              )}
              {(form.triggerType === "at_start" || form.triggerType === "on_wake") && (
                <TextField
                  label="Delay (seconds)"
                  path="trigger.delay_secs"
                  type="number"
                  inputMode="numeric"
                  className="w-40"
                  value={form.eventDelay}
                  testId="editor-event-delay"
                  hint={
                    form.triggerType === "at_start"
                      ? "After Sundial starts (at login, with start-at-login on), wait this long; 0 to 86400."
                      : "After the computer wakes from sleep, wait this long (e.g. for the network); 0 to 86400."
                  }
                  onChange={(eventDelay) => patchTrigger({ eventDelay })}
                />
              )}
              {form.triggerType === "file_arrives" && (
                <div className="flex flex-wrap gap-3">
                  <TextField
                    label="Folder"
                    path="trigger.folder"
                    className="min-w-64 flex-1"
                    value={form.watchFolder}
                    testId="editor-watch-folder"
                    hint="The full path of a folder that exists; its subfolders are not watched."
                    onChange={(watchFolder) => patchTrigger({ watchFolder })}
                  />
                  <TextField
                    label="File names"
                    path="trigger.glob"
                    className="w-40"
                    value={form.watchGlob}
                    testId="editor-watch-glob"
                    hint="A pattern such as *.csv (* for every file; hidden files need a leading dot)."
                    onChange={(watchGlob) => patchTrigger({ watchGlob })}
                  />
                  <TextField
                    label="Settle (seconds)"
                    path="trigger.settle_secs"
                    type="number"
                    inputMode="numeric"
                    className="w-40"
                    value={form.settle}
                    testId="editor-watch-settle"
                    hint="A file runs once it has not changed for this long; 1 to 3600."
                    onChange={(settle) => patchTrigger({ settle })}
                  />
                </div>
              )}
              {form.triggerType === "once" && (
                <TextField
                  label="At"
                  path="trigger.at"
                  type="datetime-local"
                  value={toLocalInput(form.onceAt)}
                  testId="editor-once-at"
                  hint={`In this computer's time zone (${zone}).`}
                  onChange={(v) => patchTrigger({ onceAt: fromLocalInput(v) })}
                />
              )}
              {form.triggerType === "after_job" && (
                <div className="flex flex-wrap gap-3">
                  <SelectField
                    label="After job"
                    path="trigger"
                    className="min-w-48 flex-1"
                    value={form.afterJobId}
                    testId="editor-after-job"
                    options={[
                      ["", jobs.isPending ? "Loading jobs…" : "Choose a job…"],
                      ...upstreamJobs.map((s) => [s.job.id, s.job.name] as const),
                      ...(form.afterJobId !== "" && !upstreamJobs.some((s) => s.job.id === form.afterJobId) && !jobs.isPending
                        ? [[form.afterJobId, `Unknown job (${form.afterJobId})`] as const]
                        : []),
                    ]}
                    onChange={(afterJobId) => patchTrigger({ afterJobId })}
                  />
                  <SelectField
                    label="When it"
                    path="trigger.on"
                    className="w-48"
                    value={form.chainOn}
                    options={[
                      ["success", "succeeds"],
                      ["failure", "fails"],
                      ["any", "finishes (either way)"],
                    ]}
                    onChange={(chainOn) => patchTrigger({ chainOn })}
                  />
                </div>
              )}
            </div>
            <SchedulePreviewPanel trigger={trigger} preview={preview} upstreamName={upstreamName} />
          </div>
        </Section>

        <div className="border-t border-slate-200 pt-4 dark:border-slate-800">
          <button
            type="button"
            aria-expanded={showMore}
            aria-controls={`${prefix}-more`}
            data-testid="editor-more"
            onClick={() => setMoreOpen(!showMore)}
            className="inline-flex items-center gap-1.5 rounded text-sm font-medium text-sky-700 hover:text-sky-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 dark:text-sky-400 dark:hover:text-sky-300"
          >
            <span aria-hidden="true">{showMore ? "▾" : "▸"}</span>
            More options
            <span className="font-normal text-slate-500 dark:text-slate-400">
              {form.kindType === "command" ? "— description, tags, environment, timeout, retries, overlap, missed runs, notifications" : "— description, tags, headers, body, expected status, timeout, retries, overlap, missed runs, notifications"}
            </span>
          </button>
          {showMore && (
            <div id={`${prefix}-more`} className="mt-4 space-y-6">
              <Section title="About">
                <Field
                  label="Description"
                  path="description"
                  render={(props) => (
                    <textarea {...props} rows={2} value={form.description} onChange={(e) => patch({ description: e.target.value }, "description")} className={inputClass} />
                  )}
                />
                <TagsInput tags={form.tags} onChange={(tags) => patch({ tags }, "tags")} />
                <Checkbox label="Enabled" hint="A disabled job keeps its settings but never runs on schedule." checked={form.enabled} onChange={(enabled) => patch({ enabled }, "enabled")} />
              </Section>

              {form.kindType === "command" ? (
                <Section title="Environment">
                  <TextField
                    label="Working directory"
                    path="kind.working_dir"
                    value={form.workingDir ?? ""}
                    mono
                    placeholder="Your home folder"
                    onChange={(v) => patch({ workingDir: v === "" ? null : v }, "kind.working_dir")}
                  />
                  <VarsEditor
                    legend="Environment variables"
                    pathPrefix="kind.env"
                    noun="variable"
                    namePlaceholder="NAME"
                    rows={form.env}
                    onChange={(env) => patch({ env }, "kind.env")}
                  />
                </Section>
              ) : (
                <Section title="Request and response">
                  <VarsEditor
                    legend="Headers"
                    pathPrefix="kind.headers"
                    noun="header"
                    namePlaceholder="Header-Name"
                    rows={form.headers}
                    onChange={(headers) => patch({ headers }, "kind.headers")}
                  />
                  <Field
                    label="Request body"
                    path="kind.body"
                    hint="Empty: no body."
                    render={(props) => (
                      <textarea
                        {...props}
                        rows={4}
                        spellCheck={false}
                        value={form.httpBody ?? ""}
                        onChange={(e) => patch({ httpBody: e.target.value === "" ? null : e.target.value }, "kind.body")}
                        className={`${inputClass} font-mono`}
                      />
                    )}
                  />
                  <fieldset>
                    <legend className="mb-1 block text-sm font-medium text-slate-700 dark:text-slate-200">Success when the status is between</legend>
                    <div className="flex items-center gap-2">
                      <Field
                        label="Lowest status"
                        path="kind.expect_status"
                        className="w-32 [&>label]:sr-only"
                        render={(props) => (
                          <input
                            {...props}
                            type="number"
                            inputMode="numeric"
                            value={form.expectMin}
                            onChange={(e) => patch({ expectMin: e.target.value }, "kind.expect_status")}
                            className={inputClass}
                          />
                        )}
                      />
                      <span className="text-sm text-slate-500">and</span>
                      <label className="w-32">
                        <span className="sr-only">Highest status</span>
                        <input
                          type="number"
                          inputMode="numeric"
                          value={form.expectMax}
                          aria-invalid={placed.byPath["kind.expect_status"] ? true : undefined}
                          aria-describedby={placed.byPath["kind.expect_status"] ? `${fieldId(prefix, "kind.expect_status")}-error` : undefined}
                          onChange={(e) => patch({ expectMax: e.target.value }, "kind.expect_status")}
                          className={inputClass}
                        />
                      </label>
                    </div>
                  </fieldset>
                  <TextField
                    label="Response body must contain"
                    path="kind.body_contains"
                    value={form.bodyContains ?? ""}
                    hint="Empty: any body."
                    onChange={(v) => patch({ bodyContains: v === "" ? null : v }, "kind.body_contains")}
                  />
                  <TextField
                    label="Response body kept in the run log (KiB)"
                    path="kind.log_body_kib"
                    type="number"
                    inputMode="numeric"
                    className="w-64"
                    value={form.logBodyKib}
                    onChange={(logBodyKib) => patch({ logBodyKib }, "kind.log_body_kib")}
                  />
                  <TextField
                    label="Extra CA bundle"
                    path="kind.ca_bundle"
                    value={form.caBundle}
                    hint="A PEM file of CA certificates this job trusts besides the system's (an intranet API's corporate CA). Empty: the system's trust store and the bundle in Settings."
                    onChange={(caBundle) => patch({ caBundle }, "kind.ca_bundle")}
                  />
                </Section>
              )}

              <Section title="Runs">
                <div className="grid gap-3 sm:grid-cols-2">
                  <TextField
                    label="Timeout (seconds)"
                    path="policies.timeout_secs"
                    type="number"
                    inputMode="numeric"
                    value={form.timeout}
                    placeholder="No limit"
                    hint="Empty: no limit. A run still going then is stopped with its processes."
                    onChange={(timeout) => patch({ timeout }, "policies.timeout_secs")}
                  />
                  <SelectField
                    label="If the previous run is still going"
                    path="policies.overlap"
                    value={form.overlap}
                    options={[
                      ["skip", "Skip this run"],
                      ["queue_one", "Queue one run after it"],
                      ["replace", "Stop it and start this one"],
                      ["allow", "Run both at once"],
                    ]}
                    onChange={(overlap) => patch({ overlap }, "policies.overlap")}
                  />
                </div>
                <fieldset className="grid gap-3 sm:grid-cols-4">
                  <legend className="mb-1 text-sm font-medium text-slate-700 sm:col-span-4 dark:text-slate-200">Retries</legend>
                  <TextField
                    label="Attempts"
                    path="policies.retry.max_attempts"
                    type="number"
                    inputMode="numeric"
                    value={form.maxAttempts}
                    hint="1 = no retry"
                    onChange={(maxAttempts) => patch({ maxAttempts }, "policies.retry.max_attempts")}
                  />
                  <TextField
                    label="First delay (s)"
                    path="policies.retry.initial_delay_secs"
                    type="number"
                    inputMode="numeric"
                    value={form.initialDelay}
                    onChange={(initialDelay) => patch({ initialDelay }, "policies.retry.initial_delay_secs")}
                  />
                  <TextField
                    label="Multiplier"
                    path="policies.retry.multiplier"
                    type="number"
                    inputMode="decimal"
                    value={form.multiplier}
                    hint="Each retry waits this many times longer"
                    onChange={(multiplier) => patch({ multiplier }, "policies.retry.multiplier")}
                  />
                  <TextField
                    label="Longest delay (s)"
                    path="policies.retry.max_delay_secs"
                    type="number"
                    inputMode="numeric"
                    value={form.maxDelay}
                    onChange={(maxDelay) => patch({ maxDelay }, "policies.retry.max_delay_secs")}
                  />
                </fieldset>
                <fieldset className="grid gap-3 sm:grid-cols-3">
                  <legend className="mb-1 text-sm font-medium text-slate-700 sm:col-span-3 dark:text-slate-200">Runs missed while the computer was off or asleep</legend>
                  <SelectField
                    label="Missed runs"
                    path="policies.missed.mode"
                    value={form.missedMode}
                    options={[
                      ["run_once", "Run once to catch up"],
                      ["run_all", "Run each missed one"],
                      ["skip", "Skip them"],
                    ]}
                    onChange={(missedMode) => patch({ missedMode }, "policies.missed.mode")}
                  />
                  <TextField
                    label="Catch up at most"
                    path="policies.missed.max_catch_up"
                    type="number"
                    inputMode="numeric"
                    value={form.maxCatchUp}
                    hint="When running each missed one: the most recent ones"
                    onChange={(maxCatchUp) => patch({ maxCatchUp }, "policies.missed.max_catch_up")}
                  />
                  <TextField
                    label="Grace (seconds)"
                    path="policies.missed.grace_secs"
                    type="number"
                    inputMode="numeric"
                    value={form.grace}
                    hint="A run at most this late still counts as on time"
                    onChange={(grace) => patch({ grace }, "policies.missed.grace_secs")}
                  />
                </fieldset>
                <SelectField
                  label="Notify me"
                  path="policies.notify"
                  className="max-w-xs"
                  value={form.notify}
                  options={[
                    ["on_failure", "When a run fails"],
                    ["always", "After every run"],
                    ["never", "Never"],
                  ]}
                  onChange={(notify) => patch({ notify }, "policies.notify")}
                />
              </Section>
            </div>
          )}
        </div>
        <p className={hintClass}>Ctrl+S (⌘S on a Mac) saves.</p>
      </form>
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete “${saved.name}”?`}
        description="The job, its schedule and its run history go away. This cannot be undone."
        confirmLabel="Delete job"
        destructive
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => void deleteJob()}
      />
    </FieldsContext.Provider>
  );
}
