// The box above the form when something went wrong: a conflict (with Reload), a failure that
// is not about a field, or how many fields need attention; and the errors no input shows.
import type { RefObject } from "react";
import type { FieldError } from "../../../bindings/FieldError";
import { Button } from "../../../components/Button";
import { placeErrors } from "../errors";
import type { FormState } from "../form";

export function ErrorSummary({
  summaryRef,
  form,
  saveErrors,
  unplaced,
  problem,
  conflict,
  onReload,
}: {
  summaryRef: RefObject<HTMLDivElement | null>;
  form: FormState;
  saveErrors: FieldError[];
  /** Errors without an input, from the save and the preview. */
  unplaced: FieldError[];
  problem: string | null;
  conflict: boolean;
  onReload: () => void;
}) {
  if (saveErrors.length === 0 && problem === null && !conflict && unplaced.length === 0) return null;
  const savePlaced = placeErrors(saveErrors, form);
  const errorCount = Object.keys(savePlaced.byPath).length + savePlaced.unplaced.length;
  return (
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
          <Button onClick={onReload} data-testid="editor-reload">
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
      {unplaced.length > 0 && (
        <ul className="mt-1 list-disc pl-5">
          {unplaced.map((e) => (
            <li key={`${e.field}:${e.message}`} data-testid={`field-error-${e.field}`}>
              {e.field}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
