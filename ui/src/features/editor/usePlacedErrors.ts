// Where each error shows: the save's field errors and the live preview's, each under its input
// when the form has one, the rest in the summary. A save error wins over a preview error for
// the same field.
import { useMemo } from "react";
import type { FieldError } from "../../bindings/FieldError";
import type { BackendError } from "../../ipc";
import { type PlacedErrors, placeErrors } from "./errors";
import type { FormState } from "./form";
import { previewFieldErrors } from "./preview";

export function usePlacedErrors(previewError: BackendError | null, saveErrors: FieldError[], form: FormState): PlacedErrors {
  return useMemo(() => {
    const live = previewFieldErrors(previewError);
    const fromSave = placeErrors(saveErrors, form);
    const fromPreview = placeErrors(
      Object.entries(live).map(([field, message]) => ({ field, message })),
      form,
    );
    return {
      byPath: { ...fromPreview.byPath, ...fromSave.byPath },
      unplaced: [...fromSave.unplaced, ...fromPreview.unplaced.filter((e) => !fromSave.unplaced.some((s) => s.field === e.field))],
    };
  }, [previewError, saveErrors, form]);
}
