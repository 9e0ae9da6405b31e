import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useUnsavedChanges } from "../../app/navigation";
import type { QuitBehaviour } from "../../bindings/QuitBehaviour";
import type { RetentionPolicy } from "../../bindings/RetentionPolicy";
import type { Settings } from "../../bindings/Settings";
import type { Theme } from "../../bindings/Theme";
import { Button, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import {
  DEFAULT_KEEP_DAYS,
  DEFAULT_KEEP_RUNS,
  type FieldErrors,
  type FieldName,
  type FormValues,
  formField,
  NUMBER_FIELDS,
  type NumberFieldName,
  sameRetention,
  sameSettings,
  toForm,
  toRetention,
  toSettings,
  validate,
} from "./form";
import { useStatus } from "../jobs/queries";
import { useAutostart, useRetention, useSetAutostart, useSettings } from "./queries";

/** Fields in screen order: the first invalid one gets the focus on Save. */
const FIELD_ORDER: FieldName[] = ["max_parallel", "max_log_mib", "catch_up_stagger_secs", "extra_ca_bundle", "keep_runs", "keep_days", "app_log_days", "notifications", "quit_behaviour", "theme"];
const SETTINGS_FIELDS: FieldName[] = ["max_parallel", "max_log_mib", "catch_up_stagger_secs", "extra_ca_bundle", "app_log_days", "notifications", "quit_behaviour", "theme"];
const RETENTION_FIELDS: FieldName[] = ["keep_runs", "keep_runs_unlimited", "keep_days", "keep_days_unlimited"];

/** `record` without the given keys. */
function without<T extends object>(record: T, keys: Set<string>): T {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.has(key))) as T;
}

function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="border-b border-slate-200 py-5 last:border-0 dark:border-slate-800">
      <h2 id={id} className="text-base font-semibold">{title}</h2>
      <p className="mt-0.5 text-sm text-slate-600 dark:text-slate-400">{description}</p>
      <div className="mt-4 flex flex-col gap-4">{children}</div>
    </section>
  );
}

function FieldMessage({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <p id={id} className="mt-1 text-sm text-red-700 dark:text-red-400" data-testid="field-error">
      {error}
    </p>
  );
}

function NumberInput({
  id,
  name,
  hint,
  value,
  error,
  disabled = false,
  onChange,
  testId,
  extra,
}: {
  id: string;
  name: NumberFieldName;
  hint: string;
  value: string;
  error: string | undefined;
  disabled?: boolean;
  onChange: (value: string) => void;
  testId?: string;
  extra?: ReactNode;
}) {
  const { label, min, max, unit } = NUMBER_FIELDS[name];
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">{label}</label>
      <p id={`${id}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
        {hint} ({min.toLocaleString()} to {max.toLocaleString()})
      </p>
      <div className="mt-1.5 flex flex-wrap items-center gap-3">
        <div className="flex items-center gap-2">
          <input
            id={id}
            name={name}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            className={`${inputClass} w-32 tabular-nums disabled:opacity-50`}
            value={value}
            disabled={disabled}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error ${id}-hint` : `${id}-hint`}
            onChange={(e) => onChange(e.target.value)}
            data-testid={testId}
          />
          <span className="text-sm text-slate-600 dark:text-slate-400">{unit}</span>
        </div>
        {extra}
      </div>
      <FieldMessage id={`${id}-error`} error={error} />
    </div>
  );
}

function RadioGroup<T extends string>({
  id,
  legend,
  name,
  value,
  options,
  error,
  onChange,
}: {
  id: string;
  legend: string;
  name: string;
  value: T;
  options: Array<{ value: T; label: string; hint?: string }>;
  error: string | undefined;
  onChange: (value: T) => void;
}) {
  return (
    <fieldset id={id} aria-describedby={error ? `${id}-error` : undefined}>
      <legend className="text-sm font-medium">{legend}</legend>
      <div role="radiogroup" aria-label={legend} className="mt-1.5 flex flex-col gap-1.5">
        {options.map((option) => (
          <label key={option.value} className="inline-flex cursor-pointer items-start gap-2 text-sm">
            <input
              type="radio"
              name={name}
              value={option.value}
              checked={value === option.value}
              onChange={() => onChange(option.value)}
              className="mt-0.5 size-4 accent-sky-600"
            />
            <span>
              {option.label}
              {option.hint && <span className="block text-xs text-slate-500 dark:text-slate-400">{option.hint}</span>}
            </span>
          </label>
        ))}
      </div>
      <FieldMessage id={`${id}-error`} error={error} />
    </fieldset>
  );
}

function AutostartSwitch() {
  const autostart = useAutostart();
  const setAutostart = useSetAutostart();
  const id = useId();
  const on = autostart.data ?? false;
  const error = autostart.error ?? setAutostart.error;
  return (
    <div>
      <div className="flex items-center justify-between gap-4">
        <div>
          <span id={`${id}-label`} className="block text-sm font-medium">Start Sundial at login</span>
          <span id={`${id}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
            Applied at once: Sundial starts in the tray when you log in, so scheduled jobs keep running.
          </span>
        </div>
        <button
          type="button"
          role="switch"
          aria-checked={on}
          aria-labelledby={`${id}-label`}
          aria-describedby={`${id}-hint`}
          disabled={autostart.isPending || setAutostart.isPending}
          onClick={() => setAutostart.mutate(!on)}
          data-testid="settings-autostart"
          className={
            "relative inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-60 " +
            (on ? "bg-sky-600" : "bg-slate-300 dark:bg-slate-600")
          }
        >
          <span
            aria-hidden="true"
            className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${on ? "translate-x-5.5" : "translate-x-0.5"}`}
          />
        </button>
      </div>
      {error && (
        <p role="alert" className="mt-1 text-sm text-red-700 dark:text-red-400">
          {autostart.error ? "Could not read the start-at-login setting" : "Could not change start at login"}:{" "}
          {BackendError.from(error).message}
        </p>
      )}
    </div>
  );
}

interface SaveOutcome {
  settings?: PromiseSettledResult<Settings>;
  retention?: PromiseSettledResult<RetentionPolicy>;
}

/** Where secrets are kept (the OS keychain, or the database when none is reachable), as the
 * engine says it. */
function SecretStore() {
  const status = useStatus();
  const secrets = status.data?.secrets;
  if (!secrets) return null;
  const inKeychain = secrets.location === "keychain";
  return (
    <div
      role={inKeychain && secrets.unreadable === 0 ? undefined : "note"}
      className={
        inKeychain && secrets.unreadable === 0
          ? "rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700"
          : "rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
      }
      data-testid="settings-secret-store"
    >
      <p className="font-medium">{inKeychain ? "Secrets are in the OS keychain" : "Secrets are in Sundial's database"}</p>
      <p className="mt-1">{secrets.message}</p>
    </div>
  );
}

function SettingsForm({ settings, retention }: { settings: Settings; retention: RetentionPolicy }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const formId = useId();
  const fieldId = (name: FieldName) => `${formId}-${name}`;

  const base = toForm(settings, retention);
  /** Only what the user changed: everything else follows the engine as it changes. */
  const [edits, setEdits] = useState<Partial<FormValues>>({});
  const [attempted, setAttempted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const values: FormValues = { ...base, ...edits };
  const changed = (Object.keys(edits) as FieldName[]).filter((name) => {
    if (name === "keep_runs" && values.keep_runs_unlimited) return false;
    if (name === "keep_days" && values.keep_days_unlimited) return false;
    return edits[name] !== base[name];
  });
  const dirty = changed.length > 0;
  useUnsavedChanges(dirty);

  const clientErrors = validate(values);
  const errorOf = (name: FieldName): string | undefined =>
    serverErrors[name] ?? (attempted || name in edits ? clientErrors[name] : undefined);

  const set = (patch: Partial<FormValues>) => {
    setEdits((current) => ({ ...current, ...patch }));
    setSaved(false);
    setProblem(null);
    const touched = new Set<string>(Object.keys(patch));
    if (touched.has("keep_runs_unlimited")) touched.add("keep_runs");
    if (touched.has("keep_days_unlimited")) touched.add("keep_days");
    setServerErrors((current) => without(current, touched));
  };

  const save = useMutation({
    mutationFn: async ({ nextSettings, nextRetention }: { nextSettings: Settings | null; nextRetention: RetentionPolicy | null }) => {
      const [s, r] = await Promise.allSettled([
        nextSettings ? backend.updateSettings(nextSettings) : Promise.resolve(null),
        nextRetention ? backend.setRetention(nextRetention) : Promise.resolve(null),
      ]);
      const outcome: SaveOutcome = {};
      if (nextSettings) outcome.settings = s as PromiseSettledResult<Settings>;
      if (nextRetention) outcome.retention = r as PromiseSettledResult<RetentionPolicy>;
      return outcome;
    },
    onSuccess: (outcome) => {
      const fieldErrors: FieldErrors = {};
      const failures: string[] = [];
      const clear = (names: FieldName[]) => setEdits((current) => without(current, new Set(names)));
      const failed = (what: string, reason: unknown) => {
        const error = BackendError.from(reason);
        const unplaced = error.fields.filter((f) => {
          const name = formField(f.field);
          if (name) fieldErrors[name] = f.message;
          return !name;
        });
        if (error.fields.length === 0 || unplaced.length > 0) {
          failures.push(`${what}: ${unplaced.length > 0 ? unplaced.map((f) => `${f.field}: ${f.message}`).join("; ") : error.message}`);
        } else {
          failures.push(`${what}: see the highlighted fields`);
        }
      };
      if (outcome.settings?.status === "fulfilled") {
        queryClient.setQueryData(["settings"], outcome.settings.value);
        void queryClient.invalidateQueries({ queryKey: ["settings"] });
        clear(SETTINGS_FIELDS);
      } else if (outcome.settings?.status === "rejected") {
        failed("The application settings were not saved", outcome.settings.reason);
      }
      if (outcome.retention?.status === "fulfilled") {
        queryClient.setQueryData(["retention"], outcome.retention.value);
        void queryClient.invalidateQueries({ queryKey: ["retention"] });
        clear(RETENTION_FIELDS);
      } else if (outcome.retention?.status === "rejected") {
        failed("The history limits were not saved", outcome.retention.reason);
      }
      setServerErrors(fieldErrors);
      if (failures.length === 0) {
        setSaved(true);
        setAttempted(false);
        setProblem(null);
        return;
      }
      const savedPart =
        outcome.settings?.status === "fulfilled"
          ? "The application settings were saved. "
          : outcome.retention?.status === "fulfilled"
            ? "The history limits were saved. "
            : "";
      setProblem(`${savedPart}${failures.join(". ")}.`);
    },
  });

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!dirty || save.isPending) return;
    setAttempted(true);
    setSaved(false);
    const errors = validate(values);
    const firstInvalid = FIELD_ORDER.find((name) => errors[name]);
    if (firstInvalid) {
      setProblem("Nothing was saved: fix the highlighted fields first.");
      document.getElementById(fieldId(firstInvalid))?.focus();
      return;
    }
    setProblem(null);
    const nextSettings = toSettings(values, settings);
    const nextRetention = toRetention(values);
    save.mutate({
      nextSettings: sameSettings(nextSettings, settings) ? null : nextSettings,
      nextRetention: sameRetention(nextRetention, retention) ? null : nextRetention,
    });
  };

  const noLimit = (name: "keep_runs" | "keep_days", fallback: string) => {
    const flag = name === "keep_runs" ? "keep_runs_unlimited" : "keep_days_unlimited";
    return (
      <label className="inline-flex cursor-pointer items-center gap-2 text-sm">
        <input
          type="checkbox"
          className="size-4 accent-sky-600"
          checked={values[flag]}
          onChange={(e) => {
            const unlimited = e.target.checked;
            set({ [flag]: unlimited, ...(!unlimited && values[name].trim() === "" ? { [name]: fallback } : {}) });
          }}
          data-testid={`settings-${name}-unlimited`}
        />
        No limit
      </label>
    );
  };

  return (
    <form onSubmit={onSubmit} noValidate className="flex min-h-0 flex-1 flex-col" aria-label="Settings">
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-2xl px-6 pb-6">
          <Section title="Running" description="How many jobs run at once and how much output each run keeps.">
            <NumberInput
              id={fieldId("max_parallel")}
              name="max_parallel"
              hint="More runs than this wait as queued. Applies at once."
              value={values.max_parallel}
              error={errorOf("max_parallel")}
              onChange={(v) => set({ max_parallel: v })}
              testId="settings-max-parallel"
            />
            <NumberInput
              id={fieldId("max_log_mib")}
              name="max_log_mib"
              hint="Output past this is dropped behind a marker line. Applies to runs that start after you save."
              value={values.max_log_mib}
              error={errorOf("max_log_mib")}
              onChange={(v) => set({ max_log_mib: v })}
              testId="settings-max-log-mib"
            />
            <NumberInput
              id={fieldId("catch_up_stagger_secs")}
              name="catch_up_stagger_secs"
              hint="After a sleep, jobs that missed runs catch up this many seconds apart instead of all at once (0: together). Applies at once."
              value={values.catch_up_stagger_secs}
              error={errorOf("catch_up_stagger_secs")}
              onChange={(v) => set({ catch_up_stagger_secs: v })}
              testId="settings-catch-up-stagger"
            />
          </Section>

          <Section title="Secrets and trust" description="Where secret values are kept, and which certificate authorities HTTP jobs trust.">
            <SecretStore />
            <div>
              <label htmlFor={fieldId("extra_ca_bundle")} className="block text-sm font-medium">
                Extra CA bundle
              </label>
              <input
                id={fieldId("extra_ca_bundle")}
                type="text"
                className={`${inputClass} w-full`}
                placeholder="/etc/ssl/certs/corporate-ca.pem"
                value={values.extra_ca_bundle}
                aria-invalid={errorOf("extra_ca_bundle") ? true : undefined}
                aria-describedby={`${fieldId("extra_ca_bundle")}-hint ${fieldId("extra_ca_bundle")}-error`}
                onChange={(e) => set({ extra_ca_bundle: e.target.value })}
                data-testid="settings-extra-ca-bundle"
              />
              <p id={`${fieldId("extra_ca_bundle")}-hint`} className="mt-1 text-xs text-slate-500 dark:text-slate-400">
                A PEM file of CA certificates HTTP jobs trust besides the system's trust store (a corporate CA, a TLS-inspecting proxy's). Empty: the system's trust store only. Applies to runs that start after you save.
              </p>
              <FieldMessage id={`${fieldId("extra_ca_bundle")}-error`} error={errorOf("extra_ca_bundle")} />
            </div>
          </Section>

          <Section
            title="History"
            description="Runs beyond either limit are deleted with their logs, for each job separately."
          >
            <NumberInput
              id={fieldId("keep_runs")}
              name="keep_runs"
              hint="The newest runs of each job are kept"
              value={values.keep_runs}
              disabled={values.keep_runs_unlimited}
              error={values.keep_runs_unlimited ? undefined : errorOf("keep_runs")}
              onChange={(v) => set({ keep_runs: v })}
              testId="settings-keep-runs"
              extra={noLimit("keep_runs", DEFAULT_KEEP_RUNS)}
            />
            <NumberInput
              id={fieldId("keep_days")}
              name="keep_days"
              hint="Runs older than this are deleted"
              value={values.keep_days}
              disabled={values.keep_days_unlimited}
              error={values.keep_days_unlimited ? undefined : errorOf("keep_days")}
              onChange={(v) => set({ keep_days: v })}
              testId="settings-keep-days"
              extra={noLimit("keep_days", DEFAULT_KEEP_DAYS)}
            />
          </Section>

          <Section title="Application log" description="Sundial's own log, one file a day.">
            <NumberInput
              id={fieldId("app_log_days")}
              name="app_log_days"
              hint="Older daily files are deleted at start-up and each midnight"
              value={values.app_log_days}
              error={errorOf("app_log_days")}
              onChange={(v) => set({ app_log_days: v })}
              testId="settings-app-log-days"
            />
          </Section>

          <Section title="Desktop" description="How Sundial fits in with your desktop.">
            <AutostartSwitch />
            <div>
              <label className="inline-flex cursor-pointer items-start gap-2 text-sm">
                <input
                  id={fieldId("notifications")}
                  type="checkbox"
                  className="mt-0.5 size-4 accent-sky-600"
                  checked={values.notifications}
                  onChange={(e) => set({ notifications: e.target.checked })}
                  data-testid="settings-notifications"
                />
                <span>
                  <span className="font-medium">Desktop notifications when runs fail</span>
                  <span className="block text-xs text-slate-500 dark:text-slate-400">
                    Each job's notification setting decides which of its runs notify.
                  </span>
                </span>
              </label>
              <FieldMessage id={`${fieldId("notifications")}-error`} error={errorOf("notifications")} />
            </div>
            <RadioGroup<QuitBehaviour>
              id={fieldId("quit_behaviour")}
              legend="When quitting while runs are going"
              name="quit_behaviour"
              value={values.quit_behaviour}
              error={errorOf("quit_behaviour")}
              onChange={(v) => set({ quit_behaviour: v })}
              options={[
                { value: "wait", label: "Wait for them to finish", hint: "Sundial quits once the running jobs end." },
                { value: "cancel", label: "Cancel them", hint: "Running jobs are stopped and marked cancelled." },
              ]}
            />
            <RadioGroup<Theme>
              id={fieldId("theme")}
              legend="Theme"
              name="theme"
              value={values.theme}
              error={errorOf("theme")}
              onChange={(v) => set({ theme: v })}
              options={[
                { value: "system", label: "System", hint: "Follow the desktop's light or dark mode." },
                { value: "light", label: "Light" },
                { value: "dark", label: "Dark" },
              ]}
            />
          </Section>
        </div>
      </div>

      <footer className="flex items-center justify-end gap-3 border-t border-slate-200 px-6 py-3 dark:border-slate-800">
        <div className="mr-auto min-w-0 text-sm">
          {problem && (
            <p role="alert" className="text-red-700 dark:text-red-400" data-testid="settings-problem">
              {problem}
            </p>
          )}
          <p role="status" className="text-emerald-700 dark:text-emerald-400" data-testid="settings-status">
            {saved && !dirty ? "Saved" : ""}
          </p>
        </div>
        {dirty && (
          <Button variant="ghost" onClick={() => { setEdits({}); setServerErrors({}); setProblem(null); setAttempted(false); }} disabled={save.isPending}>
            Discard changes
          </Button>
        )}
        <Button type="submit" variant="primary" disabled={!dirty || save.isPending} data-testid="settings-save">
          {save.isPending ? "Saving…" : "Save"}
        </Button>
      </footer>
    </form>
  );
}

/** Application settings: one form, saved with one Save; start at login applies at once. */
export function SettingsScreen() {
  const settings = useSettings();
  const retention = useRetention();
  const error = settings.error ?? retention.error;
  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="settings">
      <header className="border-b border-slate-200 px-6 py-3 dark:border-slate-800">
        <h1 className="text-lg font-semibold">Settings</h1>
      </header>
      {error ? (
        <div role="alert" className="m-4 flex items-center justify-between gap-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
          <span>Could not load the settings: {BackendError.from(error).message}</span>
          <Button
            onClick={() => {
              void settings.refetch();
              void retention.refetch();
            }}
          >
            Try again
          </Button>
        </div>
      ) : settings.data && retention.data ? (
        <SettingsForm settings={settings.data} retention={retention.data} />
      ) : (
        <p className="p-6 text-sm text-slate-500 dark:text-slate-400">Loading settings…</p>
      )}
    </div>
  );
}
