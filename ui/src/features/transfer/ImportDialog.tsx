// Import a crontab or a job file (decisions/0018). The text comes from a paste, the user's
// crontab (`crontab -l`) or a file; "Check" asks the engine what would happen to every line,
// and only that report, unchanged, can be imported: the engine checks it again and refuses a
// plan that went stale (a job of the same name made elsewhere meanwhile). Nothing is written
// before "Import".
import * as Dialog from "@radix-ui/react-dialog";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { ImportFormat } from "../../bindings/ImportFormat";
import type { ImportPlan } from "../../bindings/ImportPlan";
import type { ImportReport } from "../../bindings/ImportReport";
import type { ImportSource } from "../../bindings/ImportSource";
import type { OnConflict } from "../../bindings/OnConflict";
import { Button, fieldClass, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";
import { ImportReportView } from "./ImportReport";

const formatLabel: Record<ImportFormat, string> = {
  crontab: "User crontab (crontab -l)",
  system_crontab: "System crontab (/etc/crontab, /etc/cron.d: with a user field)",
  toml: "Sundial job file (TOML)",
  json: "Sundial job file (JSON)",
};

const conflictLabel: Record<OnConflict, string> = {
  error: "Stop: import nothing",
  skip: "Leave the existing job, skip this one",
  rename: "Import under a new name",
  replace: "Replace the existing job's definition",
};

function isCrontab(format: ImportFormat): boolean {
  return format === "crontab" || format === "system_crontab";
}

export function ImportDialog({
  open,
  onClose,
  onImported = () => undefined,
}: {
  open: boolean;
  onClose: () => void;
  onImported?: (report: ImportReport) => void;
}) {
  return (
    <Dialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-950/40" />
        <Dialog.Content
          className="fixed top-1/2 left-1/2 z-50 flex max-h-[92vh] w-[min(48rem,96vw)] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
          data-testid="import-dialog"
          aria-describedby={undefined}
        >
          <Dialog.Title className="border-b border-slate-200 px-5 py-3 text-base font-semibold dark:border-slate-700">Import jobs</Dialog.Title>
          {open && <ImportForm onClose={onClose} onImported={onImported} />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function ImportForm({ onClose, onImported }: { onClose: () => void; onImported: (report: ImportReport) => void }) {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const [format, setFormat] = useState<ImportFormat>("crontab");
  const [origin, setOrigin] = useState("crontab");
  const [timezone, setTimezone] = useState("");
  const [onConflict, setOnConflict] = useState<OnConflict>("error");
  const [plan, setPlan] = useState<ImportPlan | null>(null);
  /** The source the shown plan was made from: only that one is imported. */
  const [checked, setChecked] = useState<ImportSource | null>(null);
  const [busy, setBusy] = useState<"check" | "import" | "read" | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Any change to what would be imported hides the report: it no longer says what happens.
  const changed = (apply: () => void) => {
    apply();
    setPlan(null);
    setChecked(null);
    setError(null);
  };
  const source: ImportSource = { text, format, origin, timezone: timezone.trim() === "" ? null : timezone.trim(), on_conflict: onConflict };

  const run = async (what: "check" | "import" | "read", work: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(BackendError.from(e).message);
    } finally {
      setBusy(null);
    }
  };

  const check = () =>
    run("check", async () => {
      setNotice(null);
      const found = await backend.previewImport(source);
      setPlan(found);
      setChecked(source);
    });

  const confirm = () =>
    run("import", async () => {
      if (!plan || !checked) return;
      try {
        const report = await backend.applyImport(checked, plan);
        void queryClient.invalidateQueries();
        onImported(report);
        onClose();
      } catch (e) {
        const err = BackendError.from(e);
        if (err.code === "conflict") {
          // Stale: the report no longer holds. Show why, and make the user check again.
          setPlan(null);
          setChecked(null);
          throw new BackendError("conflict", `${err.message}. Press “Check” to see what an import would do now.`);
        }
        throw err;
      }
    });

  const readCrontab = () =>
    run("read", async () => {
      const crontab = await backend.readCrontab();
      changed(() => {
        setText(crontab.text);
        setFormat("crontab");
        setOrigin("crontab");
      });
      setNotice(crontab.message ?? "Your crontab was read: press “Check” to see what would be imported.");
    });

  const chooseFile = () =>
    run("read", async () => {
      const file = await backend.chooseImportFile();
      if (!file) return;
      changed(() => {
        setText(file.text);
        setOrigin(file.name);
        if (file.format) setFormat(file.format);
      });
      setNotice(`Read ${file.name}${file.format ? "" : ": say what it is under Format"}.`);
    });

  const canImport = plan !== null && plan.ready && plan.jobs > 0 && busy === null;

  return (
    <form
      className="flex min-h-0 flex-col"
      onSubmit={(e) => {
        e.preventDefault();
        void check();
      }}
    >
      <div className="min-h-0 flex-1 space-y-4 overflow-auto px-5 py-4">
        <div className="flex flex-wrap items-center gap-2">
          <Button onClick={() => void readCrontab()} disabled={busy !== null} data-testid="import-read-crontab">
            Read my crontab
          </Button>
          <Button onClick={() => void chooseFile()} disabled={busy !== null} data-testid="import-choose-file">
            Choose file…
          </Button>
          <span className="text-xs text-slate-500 dark:text-slate-400">or paste below</span>
        </div>
        <div>
          <label className="text-sm font-medium" htmlFor="import-text">
            Paste a crontab or a job file
          </label>
          <textarea
            id="import-text"
            className={`${inputClass} mt-1 h-36 font-mono text-xs`}
            value={text}
            spellCheck={false}
            placeholder={"# m h dom mon dow command\n0 2 * * * /usr/local/bin/backup"}
            onChange={(e) => changed(() => setText(e.target.value))}
            data-testid="import-text"
          />
          {notice && (
            <p className="mt-1 text-xs text-slate-600 dark:text-slate-300" data-testid="import-notice">
              {notice}
            </p>
          )}
        </div>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          <label className="text-sm">
            <span className="font-medium">Format</span>
            <select className={`${inputClass} mt-1`} value={format} onChange={(e) => changed(() => setFormat(e.target.value as ImportFormat))} data-testid="import-format">
              {(Object.keys(formatLabel) as ImportFormat[]).map((f) => (
                <option key={f} value={f}>
                  {formatLabel[f]}
                </option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            <span className="font-medium">Time zone</span>
            <input
              className={`${inputClass} mt-1`}
              value={timezone}
              disabled={!isCrontab(format)}
              placeholder="the system's (or the crontab's CRON_TZ)"
              title={isCrontab(format) ? "An IANA zone such as Europe/Paris, for the crontab's jobs" : "A job file names each job's zone itself"}
              onChange={(e) => changed(() => setTimezone(e.target.value))}
              data-testid="import-timezone"
            />
          </label>
          <label className="text-sm">
            <span className="font-medium">If a name is taken</span>
            <select className={`${fieldClass} mt-1 w-full`} value={onConflict} onChange={(e) => changed(() => setOnConflict(e.target.value as OnConflict))} data-testid="import-conflict">
              {(Object.keys(conflictLabel) as OnConflict[]).map((c) => (
                <option key={c} value={c}>
                  {conflictLabel[c]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {plan ? (
          <ImportReportView plan={plan} />
        ) : (
          <p className="text-sm text-slate-500 dark:text-slate-400" data-testid="import-unchecked">
            Nothing is imported until you have checked the text and seen what every line becomes.
          </p>
        )}
        {error && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400" data-testid="import-error">
            {error}
          </p>
        )}
      </div>
      <div className="flex items-center justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-700">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" disabled={busy !== null || text.trim() === ""} data-testid="import-check">
          {busy === "check" ? "Checking…" : "Check"}
        </Button>
        <Button variant="primary" disabled={!canImport} onClick={() => void confirm()} data-testid="import-confirm">
          {busy === "import" ? "Importing…" : `Import ${plan?.jobs ?? ""} job${plan?.jobs === 1 ? "" : "s"}`.replace("  ", " ")}
        </Button>
      </div>
    </form>
  );
}
