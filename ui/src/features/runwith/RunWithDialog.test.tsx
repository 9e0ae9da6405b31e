import { QueryClient } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { App } from "../../App";
import type { Route } from "../../app/navigation";
import { FakeBackend } from "../../ipc/fake";

// jsdom has no layout: give elements a size so the history's virtualizer has a viewport.
const SIZES = { clientHeight: 600, clientWidth: 1000, offsetHeight: 600, offsetWidth: 1000 } as const;
const saved = new Map<string, PropertyDescriptor | undefined>();
beforeAll(() => {
  for (const [name, value] of Object.entries(SIZES)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else Reflect.deleteProperty(HTMLElement.prototype, name);
  }
});

function renderAt(backend: FakeBackend, initialRoute: Route) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<App backend={backend} queryClient={queryClient} initialRoute={initialRoute} />);
}

function jobWithEnv(backend: FakeBackend) {
  return backend.addJob({
    name: "Report",
    kind: {
      type: "command",
      program: { mode: "script", interpreter: "sh", body: 'echo "$LEVEL"' },
      working_dir: null,
      env: [
        { name: "LEVEL", value: "info", secret: false },
        { name: "TOKEN", value: "••••••", secret: true },
      ],
    },
  });
}

async function openDialog() {
  fireEvent.click(await screen.findByTestId("job-run-with"));
  return screen.findByTestId("run-with-dialog");
}

function rowNamed(dialog: HTMLElement, name: string): HTMLElement {
  const row = within(dialog)
    .getAllByTestId("run-with-env-row")
    .find((r) => r.dataset.name === name);
  if (!row) throw new Error(`no row ${name}`);
  return row;
}

describe("run now with…", () => {
  it("is prefilled from the job, masks secrets, and starts one run with what was changed", async () => {
    const backend = new FakeBackend();
    const job = jobWithEnv(backend);
    renderAt(backend, { screen: "job", jobId: job.id, tab: "overview" });
    const dialog = await openDialog();
    await waitFor(() => expect(within(dialog).getAllByTestId("run-with-env-row")).toHaveLength(2));
    const level = within(rowNamed(dialog, "LEVEL")).getByTestId("run-with-env-value") as HTMLInputElement;
    expect(level.value).toBe("info");
    const token = within(rowNamed(dialog, "TOKEN")).getByTestId("run-with-env-value") as HTMLInputElement;
    expect(token.value).toBe("••••••");
    expect(token.disabled).toBe(true);
    expect(within(dialog).getByTestId("run-with-summary").textContent).toBe("Nothing changed: the job runs as it is.");

    fireEvent.change(level, { target: { value: "debug" } });
    fireEvent.click(within(dialog).getByTestId("run-with-add-env"));
    const added = within(dialog).getAllByTestId("run-with-env-row").at(-1);
    if (!added) throw new Error("no added row");
    fireEvent.change(within(added).getByTestId("run-with-env-name"), { target: { value: "EXTRA" } });
    fireEvent.change(within(added).getByTestId("run-with-env-value"), { target: { value: "1" } });
    fireEvent.change(within(dialog).getByTestId("run-with-args"), { target: { value: "first\nsecond arg" } });
    expect(within(dialog).getByTestId("run-with-summary").textContent).toBe("2 values set, 2 arguments added");
    fireEvent.click(within(dialog).getByTestId("run-with-start"));

    await waitFor(() => expect(screen.queryByTestId("run-with-dialog")).toBeNull());
    const run = backend.runs.at(-1);
    expect(run?.overrides).toEqual({
      env: [
        { name: "LEVEL", value: "debug" },
        { name: "EXTRA", value: "1" },
      ],
      args: ["first", "second arg"],
    });
    // The job screen follows the run it started and says what it was run with.
    expect((await screen.findByTestId("started-run-overrides")).textContent).toBe("with LEVEL=debug, EXTRA=1, +2 args");
    expect(backend.jobs[0]?.job.kind).toEqual(job.kind);
  }, 20_000);

  it("shows the engine's field error next to the row it is about, and starts nothing", async () => {
    const backend = new FakeBackend();
    const job = jobWithEnv(backend);
    renderAt(backend, { screen: "job", jobId: job.id, tab: "overview" });
    const dialog = await openDialog();
    await waitFor(() => expect(within(dialog).getAllByTestId("run-with-env-row")).toHaveLength(2));
    fireEvent.click(within(dialog).getByTestId("run-with-add-env"));
    const added = within(dialog).getAllByTestId("run-with-env-row").at(-1);
    if (!added) throw new Error("no added row");
    fireEvent.change(within(added).getByTestId("run-with-env-name"), { target: { value: "1BAD" } });
    fireEvent.change(within(added).getByTestId("run-with-env-value"), { target: { value: "x" } });
    fireEvent.click(within(dialog).getByTestId("run-with-start"));
    const error = await within(added).findByTestId("run-with-field-error");
    expect(error.textContent).toContain('"1BAD" is not a valid variable name');
    expect(within(added).getByTestId("run-with-env-name").getAttribute("aria-invalid")).toBe("true");
    expect(backend.runs).toHaveLength(0);
    expect(screen.getByTestId("run-with-dialog")).toBeTruthy();
  });

  it("says that an HTTP job has nothing to change for one run", async () => {
    const backend = new FakeBackend();
    const job = backend.addJob({
      name: "Ping",
      kind: { type: "http", method: "GET", url: "https://example.test/", headers: [], body: null, expect_status: { min: 200, max: 299 }, body_contains: null, log_body_kib: 64 },
    });
    renderAt(backend, { screen: "job", jobId: job.id, tab: "overview" });
    const dialog = await openDialog();
    expect((await within(dialog).findByTestId("run-with-http")).textContent).toContain("An HTTP job has no environment and takes no arguments");
    expect(within(dialog).queryByTestId("run-with-start")).toBeNull();
  });

  it("history notes what a run was run with", async () => {
    const backend = new FakeBackend();
    const job = jobWithEnv(backend);
    backend.addRun(job.id, new Date(Date.now() - 60_000).toISOString(), 300, "succeeded", {
      reason: "manual",
      overrides: { env: [{ name: "LEVEL", value: "debug" }], args: ["--dry-run"] },
    });
    renderAt(backend, { screen: "job", jobId: job.id, tab: "history" });
    const note = await screen.findByTestId("history-overrides");
    expect(note.textContent).toBe("with LEVEL=debug, + --dry-run");
    expect(screen.getByTestId("history-run-with")).toBeTruthy();
  });

  it("is offered in the jobs list too", async () => {
    const backend = new FakeBackend();
    jobWithEnv(backend);
    renderAt(backend, { screen: "jobs" });
    fireEvent.click(await screen.findByTestId("run-with"));
    const dialog = await screen.findByTestId("run-with-dialog");
    await waitFor(() => expect(within(dialog).getAllByTestId("run-with-env-row")).toHaveLength(2));
    fireEvent.change(within(dialog).getByTestId("run-with-args"), { target: { value: "x" } });
    fireEvent.click(within(dialog).getByTestId("run-with-start"));
    await waitFor(() => expect(backend.runs.at(-1)?.overrides).toEqual({ env: [], args: ["x"] }));
  });
});
