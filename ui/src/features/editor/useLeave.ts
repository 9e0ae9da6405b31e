// Leaving the editor after a create or a delete: the "unsaved changes" guard must learn that the
// form is clean before the navigation asks it, so the form stops counting as dirty first and the
// navigation follows in a later effect.
import { useEffect, useState } from "react";
import { type Route, useNavigation, useUnsavedChanges } from "../../app/navigation";

export interface Leave {
  /** The form has changes not saved (and is not on its way out). */
  dirty: boolean;
  leave: (to: Route) => void;
}

/** `changed`: the form differs from the saved version. */
export function useLeave(changed: boolean): Leave {
  const navigation = useNavigation();
  const [leaveTo, setLeaveTo] = useState<Route | null>(null);
  const dirty = leaveTo === null && changed;
  useUnsavedChanges(dirty);
  // After the guard's effect, in effect order.
  useEffect(() => {
    if (leaveTo) navigation.navigate(leaveTo);
  }, [leaveTo, navigation]);
  return { dirty, leave: setLeaveTo };
}
