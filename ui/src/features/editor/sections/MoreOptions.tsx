// "More options": the settings most jobs keep at their defaults, folded away. It opens by hand,
// and by itself while one of its fields has an error (so the error is seen).
import { type ReactNode, useContext, useState } from "react";
import { FieldsContext } from "../fields";
import type { KindType } from "../form";

export function MoreOptions({ kindType, hasError, children }: { kindType: KindType; hasError: boolean; children: ReactNode }) {
  const { prefix } = useContext(FieldsContext);
  const [open, setOpen] = useState(false);
  const shown = open || hasError;
  return (
    <div className="border-t border-slate-200 pt-4 dark:border-slate-800">
      <button
        type="button"
        aria-expanded={shown}
        aria-controls={`${prefix}-more`}
        data-testid="editor-more"
        onClick={() => setOpen(!shown)}
        className="inline-flex items-center gap-1.5 rounded text-sm font-medium text-sky-700 hover:text-sky-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 dark:text-sky-400 dark:hover:text-sky-300"
      >
        <span aria-hidden="true">{shown ? "▾" : "▸"}</span>
        More options
        <span className="font-normal text-slate-500 dark:text-slate-400">
          {kindType === "command" ? "— description, tags, environment, timeout, retries, overlap, missed runs, notifications, conditions" : "— description, tags, headers, body, expected status, timeout, retries, overlap, missed runs, notifications, conditions"}
        </span>
      </button>
      {shown && (
        <div id={`${prefix}-more`} className="mt-4 space-y-6">
          {children}
        </div>
      )}
    </div>
  );
}
