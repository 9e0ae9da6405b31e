import type { QuitBehaviour } from "../../bindings/QuitBehaviour";
import type { RetentionPolicy } from "../../bindings/RetentionPolicy";
import type { Settings } from "../../bindings/Settings";
import type { Theme } from "../../bindings/Theme";

/** The form as the user edits it: numbers stay text until they are checked. Keys are the
 * engine's field names, so its field errors land next to the right input. */
export interface FormValues {
  max_parallel: string;
  max_log_mib: string;
  catch_up_stagger_secs: string;
  keep_runs: string;
  keep_runs_unlimited: boolean;
  keep_days: string;
  keep_days_unlimited: boolean;
  app_log_days: string;
  notifications: boolean;
  quit_behaviour: QuitBehaviour;
  theme: Theme;
  /** A PEM file of CA certificates HTTP jobs trust besides the system's ("": none). */
  extra_ca_bundle: string;
}

export type FieldName = keyof FormValues;
export type FieldErrors = Partial<Record<FieldName, string>>;

/** Suggested values when "No limit" is turned off on an empty field (the engine's defaults). */
export const DEFAULT_KEEP_RUNS = "1000";
export const DEFAULT_KEEP_DAYS = "90";

interface NumberField {
  label: string;
  min: number;
  max: number;
  unit: string;
}

export const NUMBER_FIELDS = {
  max_parallel: { label: "Parallel runs", min: 1, max: 64, unit: "runs" },
  max_log_mib: { label: "Output cap per run", min: 1, max: 65_536, unit: "MiB" },
  catch_up_stagger_secs: { label: "Catch-up spacing after a sleep", min: 0, max: 600, unit: "seconds" },
  keep_runs: { label: "Runs kept per job", min: 1, max: 4_294_967_295, unit: "runs" },
  keep_days: { label: "Days of history kept", min: 1, max: 36_500, unit: "days" },
  app_log_days: { label: "Days of application log kept", min: 1, max: 365, unit: "days" },
} satisfies Record<string, NumberField>;

export type NumberFieldName = keyof typeof NUMBER_FIELDS;

export function toForm(settings: Settings, retention: RetentionPolicy): FormValues {
  return {
    max_parallel: String(settings.max_parallel),
    max_log_mib: String(settings.max_log_mib),
    catch_up_stagger_secs: String(settings.catch_up_stagger_secs),
    keep_runs: retention.keep_runs === null ? "" : String(retention.keep_runs),
    keep_runs_unlimited: retention.keep_runs === null,
    keep_days: retention.keep_days === null ? "" : String(retention.keep_days),
    keep_days_unlimited: retention.keep_days === null,
    app_log_days: String(settings.app_log_days),
    notifications: settings.notifications,
    quit_behaviour: settings.quit_behaviour,
    theme: settings.theme,
    extra_ca_bundle: settings.extra_ca_bundle ?? "",
  };
}

/** A whole number within the field's bounds, or the message saying what is allowed. */
function checkNumber(name: NumberFieldName, raw: string): { value: number } | { error: string } {
  const { label, min, max, unit } = NUMBER_FIELDS[name];
  const text = raw.trim();
  const allowed = `a whole number from ${min.toLocaleString()} to ${max.toLocaleString()} (${unit})`;
  if (text === "") return { error: `${label} is required: enter ${allowed}.` };
  if (!/^\d+$/.test(text)) return { error: `${label} must be ${allowed}.` };
  const value = Number(text);
  if (value < min || value > max) return { error: `${label} must be ${allowed}; ${text} is out of range.` };
  return { value };
}

/** Every client-side problem with the form, by field. */
export function validate(values: FormValues): FieldErrors {
  const errors: FieldErrors = {};
  for (const name of Object.keys(NUMBER_FIELDS) as NumberFieldName[]) {
    if (name === "keep_runs" && values.keep_runs_unlimited) continue;
    if (name === "keep_days" && values.keep_days_unlimited) continue;
    const checked = checkNumber(name, values[name]);
    if ("error" in checked) errors[name] = checked.error;
  }
  return errors;
}

/** The settings to save: the form's values over the latest loaded ones (so fields the form
 * does not show, like `close_notice_shown`, stay as loaded). Call only on a valid form. */
export function toSettings(values: FormValues, loaded: Settings): Settings {
  const rest: Settings = { ...loaded };
  delete rest.extra_ca_bundle;
  const bundle = values.extra_ca_bundle.trim();
  return {
    ...rest,
    ...(bundle === "" ? {} : { extra_ca_bundle: bundle }),
    max_parallel: Number(values.max_parallel.trim()),
    max_log_mib: Number(values.max_log_mib.trim()),
    catch_up_stagger_secs: Number(values.catch_up_stagger_secs.trim()),
    app_log_days: Number(values.app_log_days.trim()),
    notifications: values.notifications,
    quit_behaviour: values.quit_behaviour,
    theme: values.theme,
  };
}

export function toRetention(values: FormValues): RetentionPolicy {
  return {
    keep_runs: values.keep_runs_unlimited ? null : Number(values.keep_runs.trim()),
    keep_days: values.keep_days_unlimited ? null : Number(values.keep_days.trim()),
  };
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return (
    a.max_parallel === b.max_parallel &&
    a.max_log_mib === b.max_log_mib &&
    a.catch_up_stagger_secs === b.catch_up_stagger_secs &&
    a.app_log_days === b.app_log_days &&
    a.notifications === b.notifications &&
    a.quit_behaviour === b.quit_behaviour &&
    a.theme === b.theme &&
    (a.extra_ca_bundle ?? "") === (b.extra_ca_bundle ?? "")
  );
}

export function sameRetention(a: RetentionPolicy, b: RetentionPolicy): boolean {
  return a.keep_runs === b.keep_runs && a.keep_days === b.keep_days;
}

/** Which form field an engine field error belongs to ("max_parallel", "settings.max_parallel",
 * "retention.keep_runs"); undefined when the form has no such field. */
export function formField(engineField: string): FieldName | undefined {
  const name = engineField.split(".").at(-1) ?? engineField;
  const fields: FieldName[] = ["max_parallel", "max_log_mib", "catch_up_stagger_secs", "keep_runs", "keep_days", "app_log_days", "notifications", "quit_behaviour", "theme", "extra_ca_bundle"];
  return fields.find((f) => f === name);
}
