// Export the selected jobs as a Sundial job file (TOML, JSON), systemd units or Kubernetes
// CronJobs: the text is shown first, with what could not be translated, then "Save…" asks
// where (the system's save dialog, opened by the shell). Secret values are always masked.
import * as Dialog from "@radix-ui/react-dialog";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { ExportFormat } from "../../bindings/ExportFormat";
import { Button, inputClass } from "../../components/Button";
import { BackendError, useBackend } from "../../ipc";

const formatLabel: Record<ExportFormat, string> = {
  toml: "Sundial job file (TOML)",
  json: "Sundial job file (JSON)",
  systemd: "systemd timers (.service + .timer per job)",
  kubernetes: "Kubernetes CronJobs (YAML)",
};

export function ExportDialog({ jobIds, open, onClose }: { jobIds: string[]; open: boolean; onClose: () => void }) {
  return (
    <Dialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-950/40" />
        <Dialog.Content
          className="fixed top-1/2 left-1/2 z-50 flex max-h-[92vh] w-[min(48rem,96vw)] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
          data-testid="export-dialog"
          aria-describedby={undefined}
        >
          <Dialog.Title className="border-b border-slate-200 px-5 py-3 text-base font-semibold dark:border-slate-700">
            Export {jobIds.length} job{jobIds.length === 1 ? "" : "s"}
          </Dialog.Title>
          {open && <ExportForm jobIds={jobIds} onClose={onClose} />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function ExportForm({ jobIds, onClose }: { jobIds: string[]; onClose: () => void }) {
  const backend = useBackend();
  const [format, setFormat] = useState<ExportFormat>("toml");
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const preview = useQuery({
    queryKey: ["export", format, jobIds],
    queryFn: () => backend.exportJobs(jobIds, format),
    // An export is what the jobs are now: fetched each time the dialog shows it.
    staleTime: 0,
    gcTime: 0,
  });
  const save = async () => {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      const path = await backend.saveExport(jobIds, format);
      if (path) setSaved(path);
    } catch (e) {
      setError(BackendError.from(e).message);
    } finally {
      setSaving(false);
    }
  };
  const files = preview.data?.files ?? [];
  return (
    <div className="flex min-h-0 flex-col">
      <div className="min-h-0 flex-1 space-y-4 overflow-auto px-5 py-4">
        <label className="block text-sm">
          <span className="font-medium">Format</span>
          <select
            className={`${inputClass} mt-1`}
            value={format}
            onChange={(e) => {
              setFormat(e.target.value as ExportFormat);
              setSaved(null);
              setError(null);
            }}
            data-testid="export-format"
          >
            {(Object.keys(formatLabel) as ExportFormat[]).map((f) => (
              <option key={f} value={f}>
                {formatLabel[f]}
              </option>
            ))}
          </select>
        </label>
        <p className="text-xs text-slate-500 dark:text-slate-400">Secret values are written masked; a job file imported elsewhere asks for them again.</p>
        {preview.isPending && <p className="text-sm text-slate-500">Exporting…</p>}
        {preview.error && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            Could not export: {BackendError.from(preview.error).message}
          </p>
        )}
        {preview.data && (
          <div className="space-y-3" data-testid="export-preview">
            {preview.data.untranslatable.length > 0 && (
              <ul className="space-y-1 text-sm text-amber-700 dark:text-amber-400" data-testid="export-untranslatable">
                {preview.data.untranslatable.map((u) => (
                  <li key={u.job}>
                    Not exported: “{u.job}”: {u.reason}
                  </li>
                ))}
              </ul>
            )}
            {preview.data.notes.length > 0 && (
              <ul className="space-y-1 text-xs text-slate-600 dark:text-slate-300" data-testid="export-notes">
                {preview.data.notes.map((n, i) => (
                  <li key={i}>Note: {n}</li>
                ))}
              </ul>
            )}
            {files.length === 0 && <p className="text-sm text-slate-600 dark:text-slate-300">None of these jobs can be written in this format.</p>}
            {files.map((f) => (
              <section key={f.name} aria-label={f.name}>
                <h3 className="font-mono text-xs font-semibold text-slate-600 dark:text-slate-300">{f.name}</h3>
                <pre className="mt-1 max-h-64 overflow-auto rounded-md border border-slate-200 bg-slate-50 p-2 font-mono text-xs dark:border-slate-700 dark:bg-slate-950" data-testid="export-file" tabIndex={0}>
                  {f.content}
                </pre>
              </section>
            ))}
          </div>
        )}
        {saved && (
          <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="export-saved">
            Saved to {saved}
          </p>
        )}
        {error && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            Could not save: {error}
          </p>
        )}
      </div>
      <div className="flex items-center justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-700">
        <Button onClick={onClose}>Close</Button>
        <Button variant="primary" disabled={saving || files.length === 0} onClick={() => void save()} data-testid="export-save">
          {saving ? "Saving…" : format === "systemd" ? "Save in a folder…" : "Save…"}
        </Button>
      </div>
    </div>
  );
}
