import { createContext, useCallback, useContext, useEffect, useId, useMemo, useRef, useState, type ReactNode } from "react";
import type { LogSource } from "../bindings/LogSource";
import { ConfirmDialog } from "../components/ConfirmDialog";

/** Every screen of the window. Screens are state, not URLs: the app has one window and no
 * address bar, and the state keeps ids typed. */
export type Route =
  | { screen: "jobs" }
  | { screen: "new-job" }
  | { screen: "job"; jobId: string; tab: "overview" | "edit" | "history" | "logs" }
  | { screen: "history" }
  | { screen: "timeline" }
  /** `line`: open at this line of the file (0-based), selected. */
  | { screen: "log"; source: LogSource; line?: number }
  | { screen: "settings" };

interface Navigation {
  route: Route;
  /** Goes to `to`, first asking to discard unsaved changes when a screen has some. With
   * `replace`, `to` takes the current screen's place (switching tabs), so Back skips it. */
  navigate: (to: Route, options?: { replace?: boolean }) => void;
  /** Back to the previous screen (the jobs list when there is none). */
  back: () => void;
}

const NavigationContext = createContext<Navigation | null>(null);
const GuardContext = createContext<((id: string, dirty: boolean) => void) | null>(null);

/** A route the shell kept (window.__SUNDIAL_SCREEN__), or null when it is not one this page
 * knows: the window reopens on the screen it showed last, else on the jobs list. */
export function parseRoute(value: unknown): Route | null {
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  switch (r.screen) {
    case "jobs":
    case "new-job":
    case "history":
    case "timeline":
    case "settings":
      return { screen: r.screen };
    case "job":
      return typeof r.jobId === "string" && (r.tab === "overview" || r.tab === "edit" || r.tab === "history")
        ? { screen: "job", jobId: r.jobId, tab: r.tab }
        : null;
    case "log":
      return typeof r.source === "object" && r.source !== null ? { screen: "log", source: r.source as LogSource } : null;
    default:
      return null;
  }
}

export function NavigationProvider({
  initial = { screen: "jobs" },
  onChange,
  children,
}: {
  initial?: Route;
  /** Told every screen shown, the first included. */
  onChange?: (route: Route) => void;
  children: ReactNode;
}) {
  const [stack, setStack] = useState<Route[]>([initial]);
  const current = stack[stack.length - 1];
  useEffect(() => {
    if (current) onChange?.(current);
  }, [current, onChange]);
  const dirty = useRef(new Set<string>());
  const [pending, setPending] = useState<(() => void) | null>(null);

  const guarded = useCallback((go: () => void) => {
    if (dirty.current.size > 0) setPending(() => go);
    else go();
  }, []);

  const navigation = useMemo<Navigation>(
    () => ({
      route: stack[stack.length - 1] ?? { screen: "jobs" },
      navigate: (to, options) =>
        guarded(() => setStack((s) => (options?.replace ? [...s.slice(0, -1), to] : [...s.slice(-20), to]))),
      back: () => guarded(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : [{ screen: "jobs" }]))),
    }),
    [stack, guarded],
  );

  const setGuard = useCallback((id: string, isDirty: boolean) => {
    if (isDirty) dirty.current.add(id);
    else dirty.current.delete(id);
  }, []);

  return (
    <NavigationContext.Provider value={navigation}>
      <GuardContext.Provider value={setGuard}>
        {children}
        <ConfirmDialog
          open={pending !== null}
          title="Discard unsaved changes?"
          description="The changes you made on this screen have not been saved. Leaving now discards them."
          confirmLabel="Discard changes"
          cancelLabel="Keep editing"
          destructive
          onCancel={() => setPending(null)}
          onConfirm={() => {
            const go = pending;
            dirty.current.clear();
            setPending(null);
            go?.();
          }}
        />
      </GuardContext.Provider>
    </NavigationContext.Provider>
  );
}

export function useNavigation(): Navigation {
  const navigation = useContext(NavigationContext);
  if (!navigation) throw new Error("useNavigation outside NavigationProvider");
  return navigation;
}

/** While `dirty` is true, leaving the screen asks first: a stray click loses nothing. */
export function useUnsavedChanges(dirty: boolean): void {
  const setGuard = useContext(GuardContext);
  const id = useId();
  useEffect(() => {
    setGuard?.(id, dirty);
    return () => setGuard?.(id, false);
  }, [setGuard, id, dirty]);
}
