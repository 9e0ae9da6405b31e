import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState, type ReactNode } from "react";
import type { AppStatus } from "./bindings/AppStatus";
import type { SchedulerRole } from "./bindings/SchedulerRole";
import { type Route, NavigationProvider, useNavigation } from "./app/navigation";
import { useTheme } from "./app/theme";
import { Button } from "./components/Button";
import { BenchViews } from "./benchViews";
import { JobEditor } from "./features/editor/JobEditor";
import { RunHistory } from "./features/history/RunHistory";
import { JobScreen } from "./features/overview/JobScreen";
import { formatWhen } from "./features/jobs/format";
import { JobsScreen } from "./features/jobs/JobsScreen";
import { useSetPaused, useStatus } from "./features/jobs/queries";
import { LogViewerScreen } from "./features/logs/LogViewerScreen";
import { SettingsScreen } from "./features/settings/SettingsScreen";
import { TimelineScreen } from "./features/timeline/TimelineScreen";
import { type Backend, BackendError, BackendProvider, useBackend } from "./ipc";

/** Engines changes arriving within this window are refetched together. */
export const REFRESH_COALESCE_MS = 250;

/** Engine changes invalidate the queries that show them; the UI refetches. A burst of changes
 * (a thousand runs starting in one second) costs one refetch per window, not one per event. */
function LiveUpdates() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    void backend
      .subscribe(() => {
        // Every change can move a next run, a last result or the running count.
        if (timer !== undefined) return;
        timer = setTimeout(() => {
          timer = undefined;
          void queryClient.invalidateQueries();
        }, REFRESH_COALESCE_MS);
      })
      .then((unsubscribe) => {
        if (cancelled) unsubscribe();
        else stop = unsubscribe;
      });
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
      stop?.();
    };
  }, [backend, queryClient]);
  return null;
}

function Theme() {
  const backend = useBackend();
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => backend.getSettings() });
  useTheme(settings.data?.theme ?? "system");
  return null;
}

function StatusLine({ status }: { status: AppStatus }) {
  const running =
    status.running === 0 ? "No jobs running" : status.running === 1 ? "1 job running" : `${status.running} jobs running`;
  const next = status.paused
    ? "Paused: no job will start until you resume"
    : status.next_run
      ? `Next: ${status.next_run.job_name}, ${formatWhen(status.next_run.at)}`
      : "No run scheduled";
  return (
    <p className="truncate text-sm text-slate-600 dark:text-slate-300" data-testid="status-line">
      {running} · {next}
    </p>
  );
}

function PauseButton({ status }: { status: AppStatus }) {
  const setPaused = useSetPaused();
  return (
    <Button
      data-testid="pause-toggle"
      variant={status.paused ? "primary" : "secondary"}
      disabled={setPaused.isPending}
      onClick={() => setPaused.mutate(!status.paused)}
      title={status.paused ? "Start scheduling again from now" : "Stop every schedule; runs going finish"}
    >
      {status.paused ? "Resume all" : "Pause all"}
    </Button>
  );
}

/** "Scheduling is done by sundialctl daemon, pid 123 on this machine, since 09:12." */
export function schedulerNotice(scheduler: SchedulerRole): string | null {
  if (scheduler.role !== "passive") return null;
  const holder = scheduler.holder;
  if (!holder) return "No scheduler is running right now; this window takes over within seconds.";
  const place = holder.this_host ? "this machine" : `host ${holder.host}`;
  return (
    `Scheduling is done by ${holder.name}, pid ${holder.pid} on ${place}, since ${formatWhen(holder.since)}. ` +
    "This window shows and edits jobs; Pause and Resume apply there."
  );
}

/** Who schedules (when it is not this window) and a failing data folder, above every screen. */
function Notices({ status }: { status: AppStatus }) {
  const scheduler = schedulerNotice(status.scheduler);
  return (
    <>
      {scheduler && (
        <p
          className="border-b border-sky-200 bg-sky-50 px-4 py-1.5 text-sm text-sky-900 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-100"
          data-testid="scheduler-notice"
        >
          {scheduler}
        </p>
      )}
      {status.storage_problem && (
        <p
          role="alert"
          className="border-b border-red-200 bg-red-50 px-4 py-1.5 text-sm text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100"
          data-testid="storage-notice"
        >
          {status.storage_problem.charAt(0).toUpperCase() + status.storage_problem.slice(1)}
        </p>
      )}
    </>
  );
}

function TopBar() {
  const status = useStatus();
  return (
    <>
      <header className="flex items-center justify-between gap-4 border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
        <div className="flex min-w-0 items-center gap-3">
          <span className="text-lg font-semibold tracking-tight">
            <span aria-hidden="true" className="mr-1 text-amber-500">☀</span>Sundial
          </span>
          {status.data?.paused && (
            <span
              className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-semibold text-amber-900 dark:bg-amber-900 dark:text-amber-100"
              data-testid="paused-badge"
            >
              Paused
            </span>
          )}
          {status.data && <StatusLine status={status.data} />}
          {status.error && (
            <p role="alert" className="text-sm text-red-700 dark:text-red-400">
              Cannot reach the engine: {BackendError.from(status.error).message}
            </p>
          )}
        </div>
        {status.data && <PauseButton status={status.data} />}
      </header>
      {status.data && <Notices status={status.data} />}
    </>
  );
}

type Section = "jobs" | "timeline" | "history" | "app-log" | "settings";

function sectionOf(route: Route): Section {
  switch (route.screen) {
    case "jobs":
    case "new-job":
    case "job":
      return "jobs";
    case "history":
      return "history";
    case "timeline":
      return "timeline";
    case "log":
      return route.source.kind === "app" ? "app-log" : "history";
    case "settings":
      return "settings";
  }
}

/** The newest application log (file names are UTC days). */
async function newestAppLogDay(backend: Backend): Promise<string> {
  const files = await backend.listAppLogs().catch(() => []);
  return files[0]?.day ?? new Date().toISOString().slice(0, 10);
}

function Sidebar() {
  const { route, navigate } = useNavigation();
  const backend = useBackend();
  const current = sectionOf(route);
  const item = (section: Section, label: string, icon: string, go: () => void, shortcut?: string) => (
    <li>
      <button
        type="button"
        onClick={go}
        aria-current={current === section ? "page" : undefined}
        data-testid={`nav-${section}`}
        title={shortcut ? `${label} (${shortcut})` : label}
        className={
          "flex w-full items-center gap-2.5 rounded-md px-3 py-2 text-left text-sm font-medium focus-visible:outline-2 focus-visible:outline-sky-600 " +
          (current === section
            ? "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100"
            : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800")
        }
      >
        <span aria-hidden="true" className="w-4 text-center">{icon}</span>
        {label}
      </button>
    </li>
  );
  return (
    <nav aria-label="Sections" className="w-44 shrink-0 border-r border-slate-200 bg-slate-50 p-2 dark:border-slate-800 dark:bg-slate-900">
      <ul className="space-y-1">
        {item("jobs", "Jobs", "☰", () => navigate({ screen: "jobs" }))}
        {item("timeline", "Timeline", "▤", () => navigate({ screen: "timeline" }))}
        {item("history", "Run history", "↺", () => navigate({ screen: "history" }))}
        {item("app-log", "Application log", "≡", () => {
          void newestAppLogDay(backend).then((day) => navigate({ screen: "log", source: { kind: "app", day } }));
        })}
        {item("settings", "Settings", "⚙", () => navigate({ screen: "settings" }))}
      </ul>
      <p className="mt-6 px-3 text-xs leading-relaxed text-slate-500 dark:text-slate-400">
        <kbd className="font-sans">Ctrl</kbd>+<kbd className="font-sans">N</kbd> new job
        <br />
        <kbd className="font-sans">Ctrl</kbd>+<kbd className="font-sans">F</kbd> search in a log
      </p>
    </nav>
  );
}

function Screen() {
  const { route } = useNavigation();
  let content: ReactNode;
  switch (route.screen) {
    case "jobs":
      content = <JobsScreen />;
      break;
    case "new-job":
      content = (
        <div className="h-full overflow-auto">
          <JobEditor />
        </div>
      );
      break;
    case "job":
      content = <JobScreen jobId={route.jobId} tab={route.tab} />;
      break;
    case "history":
      content = <RunHistory />;
      break;
    case "timeline":
      content = <TimelineScreen />;
      break;
    case "log":
      content = <LogViewerScreen source={route.source} line={route.line} />;
      break;
    case "settings":
      content = (
        <div className="h-full overflow-auto">
          <SettingsScreen />
        </div>
      );
      break;
  }
  return <main className="min-w-0 flex-1 overflow-hidden">{content}</main>;
}

/** Window-wide shortcuts; screens add their own (search in a log, save in the editor). */
function Shortcuts() {
  const { navigate } = useNavigation();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === "n") {
        e.preventDefault();
        navigate({ screen: "new-job" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);
  return null;
}

export function App({
  backend,
  queryClient,
  initialRoute,
}: {
  backend: Backend;
  queryClient?: QueryClient;
  initialRoute?: Route;
}) {
  // The shell keeps the screen shown, so the window reopens on it after a close to the tray.
  const rememberScreen = useCallback(
    (route: Route) => void backend.rememberScreen(route).catch(() => undefined),
    [backend],
  );
  const [client] = useState(
    () =>
      queryClient ??
      new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: 1 } } }),
  );
  return (
    <BackendProvider backend={backend}>
      <QueryClientProvider client={client}>
        <NavigationProvider initial={initialRoute ?? { screen: "jobs" }} onChange={rememberScreen}>
          <LiveUpdates />
          <Theme />
          <Shortcuts />
          {window.__SUNDIAL_BENCH_VIEWS__ && <BenchViews />}
          <div className="flex h-screen flex-col">
            <TopBar />
            <div className="flex min-h-0 flex-1">
              <Sidebar />
              <Screen />
            </div>
          </div>
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>
  );
}
