// Test harness for the editor's tests: a FakeBackend whose preview answers per trigger, and a
// tiny shell that shows the route and the editor the way the app does.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { Job } from "../../bindings/Job";
import type { JobSpec } from "../../bindings/JobSpec";
import type { SchedulePreview } from "../../bindings/SchedulePreview";
import type { Trigger } from "../../bindings/Trigger";
import { NavigationProvider, type Route, useNavigation } from "../../app/navigation";
import { type Backend, BackendProvider } from "../../ipc";
import { FakeBackend } from "../../ipc/fake";
import { SECRET_MASK } from "./form";
import { JobEditor } from "./JobEditor";

/** Secrets come back masked, as from the engine; every saved spec is recorded. */
export class EditorBackend extends FakeBackend {
  previewed: Trigger[] = [];
  created: JobSpec[] = [];
  updated: Array<{ id: string; spec: JobSpec; expectedRevision: number }> = [];
  /** How the preview answers; `previewTrigger` of the plain fake ignores the trigger. */
  answer: (trigger: Trigger, count: number) => Promise<SchedulePreview> = () => Promise.resolve({ description: "Every day", fires: [] });

  constructor() {
    super();
    (this as Backend).previewTrigger = (trigger, count) => {
      this.calls.push("previewTrigger");
      this.previewed.push(trigger);
      return this.answer(trigger, count);
    };
  }

  override getJob(id: string): Promise<Job> {
    return super.getJob(id).then((job) => structuredClone(masked(job)));
  }
  override createJob(spec: JobSpec): Promise<Job> {
    this.created.push(structuredClone(spec));
    return super.createJob(spec);
  }
  override updateJob(id: string, spec: JobSpec, expectedRevision: number): Promise<Job> {
    this.updated.push({ id, spec: structuredClone(spec), expectedRevision });
    return super.updateJob(id, spec, expectedRevision);
  }
}

function masked(job: Job): Job {
  const mask = <T extends { secret: boolean; value: string }>(v: T): T => (v.secret ? { ...v, value: SECRET_MASK } : v);
  if (job.kind.type === "command") return { ...job, kind: { ...job.kind, env: job.kind.env.map(mask) } };
  return { ...job, kind: { ...job.kind, headers: job.kind.headers.map(mask) } };
}

function Shell() {
  const { route, navigate } = useNavigation();
  return (
    <div>
      <p data-testid="route">{JSON.stringify(route)}</p>
      <button type="button" onClick={() => navigate({ screen: "jobs" })}>
        Go to jobs
      </button>
      {route.screen === "new-job" && <JobEditor />}
      {route.screen === "job" && <JobEditor jobId={route.jobId} />}
    </div>
  );
}

export function renderEditor(backend: Backend, initial: Route = { screen: "new-job" }) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <NavigationProvider initial={initial}>
          <Shell />
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>,
  );
  return { ...view, queryClient };
}

/** A settable promise, to answer calls in any order. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
