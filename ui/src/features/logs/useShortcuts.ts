// The log viewer's window-wide shortcuts: Ctrl+F search, Ctrl+G go to line, F3 / Shift+F3
// next / previous match, Ctrl+Home / Ctrl+End start and end (outside text fields).
import { useEffect, useRef, type RefObject } from "react";

function isTextTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
}

export interface ShortcutActions {
  searchInput: RefObject<HTMLInputElement | null>;
  gotoInput: RefObject<HTMLInputElement | null>;
  goMatch: (direction: 1 | -1) => void;
  toStart: () => void;
  toEnd: () => void;
}

export function useShortcuts(actions: ShortcutActions): void {
  const shortcuts = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    shortcuts.current = (e) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.altKey && (e.key === "f" || e.key === "F")) {
        e.preventDefault();
        actions.searchInput.current?.focus();
        actions.searchInput.current?.select();
      } else if (mod && !e.altKey && (e.key === "g" || e.key === "G")) {
        e.preventDefault();
        actions.gotoInput.current?.focus();
        actions.gotoInput.current?.select();
      } else if (e.key === "F3") {
        e.preventDefault();
        actions.goMatch(e.shiftKey ? -1 : 1);
      } else if (mod && (e.key === "Home" || e.key === "End") && !isTextTarget(e.target)) {
        e.preventDefault();
        if (e.key === "Home") actions.toStart();
        else actions.toEnd();
      }
    };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => shortcuts.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
