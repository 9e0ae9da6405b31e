// The editor's top line: the job's name (with "Unsaved changes"), the status line and the
// buttons: Run now, Delete job, Back or Cancel, Save or Create job.
import { Button } from "../../../components/Button";

export function EditorHeader({
  titleId,
  title,
  dirty,
  status,
  existing,
  inJobScreen,
  saving,
  onRunNow,
  onDelete,
  onBack,
}: {
  titleId: string;
  title: string;
  dirty: boolean;
  status: string | null;
  /** The job is stored (it can run and be deleted). */
  existing: boolean;
  /** Shown as a tab of the job's screen, which has its own "Run now" and way back. */
  inJobScreen: boolean;
  saving: boolean;
  onRunNow: () => void;
  onDelete: () => void;
  onBack: () => void;
}) {
  return (
    <div className="flex flex-wrap items-center justify-between gap-3">
      <h2 id={titleId} className="text-lg font-semibold" data-testid="editor-title">
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
        {existing && (
          <>
            {!inJobScreen && (
              <Button onClick={onRunNow} data-testid="editor-run-now" title={dirty ? "Runs the saved version, without your unsaved changes" : undefined}>
                Run now
              </Button>
            )}
            <Button variant="ghost" className="text-red-700 dark:text-red-400" onClick={onDelete} data-testid="editor-delete">
              Delete job
            </Button>
          </>
        )}
        {(!inJobScreen || dirty) && (
          <Button onClick={onBack} data-testid="editor-cancel">
            {dirty ? "Cancel" : "Back"}
          </Button>
        )}
        <Button type="submit" variant="primary" disabled={saving} data-testid="editor-save" title="Ctrl+S / ⌘S">
          {saving ? "Saving…" : existing ? "Save" : "Create job"}
        </Button>
      </div>
    </div>
  );
}
