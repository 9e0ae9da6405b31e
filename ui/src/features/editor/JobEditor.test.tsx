import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../../bindings/Job";
import type { JobSpec } from "../../bindings/JobSpec";
import { BackendError } from "../../ipc";
import { SECRET_MASK } from "./form";
import { EditorBackend, renderEditor } from "./testing";

/** The item at `i`, or a failed test. */
function nth<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${i}`);
  return item;
}


afterEach(() => {
  vi.useRealTimers();
});

const input = (testId: string) => screen.getByTestId(testId) as HTMLInputElement;
const change = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });

function specOf(job: Job): JobSpec {
  return { name: job.name, description: job.description, tags: job.tags, enabled: job.enabled, kind: job.kind, trigger: job.trigger, policies: job.policies };
}

/** An existing job using most of the spec: args, env with a secret, non-default policies. */
function addRichJob(backend: EditorBackend): Job {
  return backend.addJob({
    name: "Nightly backup",
    description: "Copies the photos",
    tags: ["backup", "nightly"],
    enabled: true,
    kind: {
      type: "command",
      program: { mode: "exec", program: "/usr/bin/rsync", args: ["-a", "--exclude", "*.tmp", "", "with space", "quote\"d"] },
      working_dir: "/home/me",
      env: [
        { name: "TOKEN", value: "s3cret", secret: true },
        { name: "MODE", value: "fast", secret: false },
      ],
    },
    trigger: { type: "cron", expr: "15 3 * * *", timezone: "Europe/Riga" },
    policies: {
      timeout_secs: 900,
      retry: { max_attempts: 3, initial_delay_secs: 30, multiplier: 1.5, max_delay_secs: 600 },
      overlap: "queue_one",
      missed: { mode: "run_all", max_catch_up: 4, grace_secs: 120 },
      notify: "always",
    },
  });
}

describe("job editor: validation display", () => {
  it("shows the engine's field errors next to their inputs and saves nothing", async () => {
    const backend = new EditorBackend();
    backend.createJob = (spec) => {
      backend.created.push(spec);
      return Promise.reject(
        new BackendError("invalid", "the job is not valid", [
          { field: "trigger.expr", message: "needs 5 or 6 fields" },
          { field: "name", message: "is already used by another job" },
        ]),
      );
    };
    renderEditor(backend);
    change(input("editor-name"), "Backup");
    change(input("editor-program"), "/usr/bin/rsync");
    change(input("editor-cron"), "every day");
    fireEvent.click(screen.getByTestId("editor-save"));

    const nameError = await screen.findByTestId("field-error-name");
    expect(nameError.textContent).toBe("is already used by another job");
    const exprError = screen.getByTestId("field-error-trigger.expr");
    expect(exprError.textContent).toBe("needs 5 or 6 fields");
    // Each message is linked to its input and sits right under it.
    for (const [testId, error] of [
      ["editor-name", nameError],
      ["editor-cron", exprError],
    ] as const) {
      const el = input(testId);
      expect(el.getAttribute("aria-invalid")).toBe("true");
      expect(el.getAttribute("aria-describedby")?.split(" ")).toContain(error.id);
      expect(el.parentElement).toBe(error.parentElement);
    }
    // The first invalid input has the focus; nothing was saved; the form is as typed.
    await waitFor(() => expect(document.activeElement).toBe(input("editor-name")));
    expect(backend.jobs).toHaveLength(0);
    expect(backend.created).toHaveLength(1);
    expect(input("editor-name").value).toBe("Backup");
    expect(input("editor-program").value).toBe("/usr/bin/rsync");
    expect(input("editor-cron").value).toBe("every day");
    expect(screen.getByRole("alert").textContent).toContain("not saved");
    expect(screen.getByTestId("route").textContent).toContain("new-job");

    // Editing a field clears its error; the other stays until the next save.
    change(input("editor-name"), "Backup 2");
    expect(screen.queryByTestId("field-error-name")).toBeNull();
    expect(input("editor-name").getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByTestId("field-error-trigger.expr")).toBeTruthy();
  });

  it("puts errors without an input in the summary and opens More options for its fields", async () => {
    const backend = new EditorBackend();
    backend.createJob = () =>
      Promise.reject(
        new BackendError("invalid", "invalid", [
          { field: "policies.retry.max_attempts", message: "must be between 1 and 100" },
          { field: "kind.something_new", message: "is not understood" },
        ]),
      );
    renderEditor(backend);
    change(input("editor-name"), "x");
    expect(screen.queryByLabelText("Attempts")).toBeNull();
    fireEvent.click(screen.getByTestId("editor-save"));
    const attemptsError = await screen.findByTestId("field-error-policies.retry.max_attempts");
    expect(attemptsError.textContent).toBe("must be between 1 and 100");
    expect(screen.getByTestId("editor-more").getAttribute("aria-expanded")).toBe("true");
    const summary = screen.getByRole("alert");
    expect(within(summary).getByTestId("field-error-kind.something_new").textContent).toContain("is not understood");
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText("Attempts")));
  });

  it("refuses a number field that is not a number without asking the engine", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "Backup");
    change(input("editor-program"), "true");
    fireEvent.click(screen.getByTestId("editor-more"));
    change(screen.getByLabelText("Grace (seconds)"), "");
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByTestId("field-error-policies.missed.grace_secs")).textContent).toContain("enter a number");
    expect(backend.created).toHaveLength(0);
  });
});

describe("job editor: create, update and delete", () => {
  it("creates a job with the defaults and opens it", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    expect(screen.getByRole("heading", { name: "New job" })).toBeTruthy();
    change(input("editor-name"), "Backup");
    change(input("editor-program"), "/usr/bin/rsync");
    fireEvent.click(screen.getByRole("button", { name: "+ Add argument" }));
    change(screen.getByLabelText("Argument 1"), "-a");
    change(input("editor-cron"), "0 9 * * 1-5");
    fireEvent.keyDown(window, { key: "s", ctrlKey: true });
    await waitFor(() => expect(backend.jobs).toHaveLength(1));
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(backend.created[0]).toEqual({
      name: "Backup",
      description: "",
      tags: [],
      enabled: true,
      kind: { type: "command", program: { mode: "exec", program: "/usr/bin/rsync", args: ["-a"] }, working_dir: null, env: [] },
      trigger: { type: "cron", expr: "0 9 * * 1-5", timezone: zone },
      policies: {
        timeout_secs: null,
        retry: { max_attempts: 1, initial_delay_secs: 10, multiplier: 2, max_delay_secs: 3600 },
        overlap: "skip",
        missed: { mode: "run_once", max_catch_up: 10, grace_secs: 60 },
        notify: "on_failure",
      },
    } satisfies JobSpec);
    const id = nth(backend.jobs, 0).job.id;
    // No "discard changes?" question: the saved form is clean.
    await waitFor(() => expect(JSON.parse(screen.getByTestId("route").textContent ?? "")).toEqual({ screen: "job", jobId: id, tab: "edit" }));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(await screen.findByRole("heading", { name: "Backup" })).toBeTruthy();
  });

  it("builds HTTP and script jobs from their own fields", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "Health");
    fireEvent.click(screen.getByRole("radio", { name: "HTTP request" }));
    change(screen.getByLabelText("Method"), "POST");
    change(input("editor-url"), "https://example.com/ping");
    change(input("editor-trigger-type"), "interval");
    change(input("editor-every"), "5");
    change(screen.getByLabelText("Unit"), "minutes");
    fireEvent.click(screen.getByTestId("editor-more"));
    fireEvent.click(screen.getByRole("button", { name: "+ Add header" }));
    change(screen.getByLabelText("header 1 name"), "Authorization");
    change(screen.getByLabelText("header 1 value"), "Bearer x");
    fireEvent.click(screen.getByRole("checkbox", { name: "Secret" }));
    change(screen.getByLabelText("Tags"), "web,");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.created).toHaveLength(1));
    expect(nth(backend.created, 0).kind).toEqual({
      type: "http",
      method: "POST",
      url: "https://example.com/ping",
      headers: [{ name: "Authorization", value: "Bearer x", secret: true }],
      body: null,
      expect_status: { min: 200, max: 299 },
      body_contains: null,
      log_body_kib: 64,
    });
    expect(nth(backend.created, 0).trigger).toEqual({ type: "interval", every: 5, unit: "minutes", anchor: null });
    expect(nth(backend.created, 0).tags).toEqual(["web"]);
  });

  it("updates with the loaded revision and says Saved", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    change(input("editor-name"), "Nightly photo backup");
    expect(screen.getByTestId("editor-dirty")).toBeTruthy();
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(backend.updated[0]?.expectedRevision).toBe(1);
    expect(screen.queryByTestId("editor-dirty")).toBeNull();
    expect(screen.getByRole("heading", { name: "Nightly photo backup" })).toBeTruthy();
    // The next save uses the new revision.
    change(input("editor-name"), "Photos");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.updated).toHaveLength(2));
    expect(backend.updated[1]?.expectedRevision).toBe(2);
  });

  it("says when the job was changed elsewhere and reloads it", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    await backend.updateJob(job.id, { ...specOf(job), description: "changed elsewhere" }, 1);
    change(input("editor-name"), "Mine");
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByRole("alert")).textContent).toContain("changed elsewhere");
    expect(input("editor-name").value).toBe("Mine");
    fireEvent.click(screen.getByTestId("editor-reload"));
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    fireEvent.click(screen.getByTestId("editor-more"));
    expect((screen.getByLabelText("Description") as HTMLTextAreaElement).value).toBe("changed elsewhere");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows an edit made elsewhere while the form has no changes", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    const { queryClient } = renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    await backend.updateJob(job.id, { ...specOf(job), name: "Renamed elsewhere" }, 1);
    await act(() => queryClient.invalidateQueries());
    await waitFor(() => expect(input("editor-name").value).toBe("Renamed elsewhere"));
    change(input("editor-cron"), "0 5 * * *");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(backend.updated.at(-1)?.expectedRevision).toBe(2);
  });

  it("runs now, and deletes after confirming", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    fireEvent.click(await screen.findByTestId("editor-run-now"));
    await waitFor(() => expect(backend.runs).toHaveLength(1));
    expect(screen.getByRole("status").textContent).toContain("Started");

    change(input("editor-name"), "unsaved edit");
    fireEvent.click(screen.getByTestId("editor-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete “Nightly backup”?");
    fireEvent.click(within(dialog).getByTestId("confirm-dialog-confirm"));
    await waitFor(() => expect(JSON.parse(screen.getByTestId("route").textContent ?? "")).toEqual({ screen: "jobs" }));
    expect(backend.jobs).toHaveLength(0);
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });
});

describe("job editor: round trip", () => {
  it("sends back exactly the loaded spec except the changed field, secrets still masked", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    fireEvent.click(screen.getByTestId("editor-more"));
    const secret = screen.getByLabelText("variable 1 value") as HTMLInputElement;
    expect(secret.type).toBe("password");
    expect(secret.value).toBe(SECRET_MASK);
    expect(screen.queryByTestId("editor-dirty")).toBeNull();

    change(screen.getByLabelText("Timeout (seconds)"), "1800");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.updated).toHaveLength(1));
    const expected = specOf(job);
    expected.policies = { ...expected.policies, timeout_secs: 1800 };
    if (expected.kind.type === "command") expected.kind.env[0] = { name: "TOKEN", value: SECRET_MASK, secret: true };
    expect(nth(backend.updated, 0).spec).toEqual(expected);
  });

  it("keeps a null time zone, a script with a custom interpreter and an HTTP spec unchanged", async () => {
    const backend = new EditorBackend();
    const script = backend.addJob({
      name: "Script",
      kind: { type: "command", program: { mode: "script", interpreter: { custom: "ruby" }, body: "puts 1\n" }, working_dir: null, env: [] },
      trigger: { type: "cron", expr: "@daily", timezone: null },
    });
    const http = backend.addJob({
      name: "Ping",
      kind: {
        type: "http",
        method: "PURGE",
        url: "https://example.com",
        headers: [{ name: "X-Key", value: "k", secret: true }],
        body: "{}",
        expect_status: { min: 200, max: 204 },
        body_contains: "ok",
        log_body_kib: 8,
        ca_bundle: "/etc/ssl/corp-ca.pem",
      },
      trigger: { type: "once", at: "2030-01-02T03:04:05Z" },
    });
    for (const job of [script, http]) {
      const view = renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
      await waitFor(() => expect(input("editor-name").value).toBe(job.name));
      change(input("editor-name"), `${job.name}!`);
      fireEvent.click(screen.getByTestId("editor-save"));
      await waitFor(() => expect(backend.updated.some((u) => u.id === job.id)).toBe(true));
      const sent = backend.updated.find((u) => u.id === job.id)?.spec;
      const expected = { ...specOf(job), name: `${job.name}!` };
      if (expected.kind.type === "http") expected.kind = { ...expected.kind, headers: [{ name: "X-Key", value: SECRET_MASK, secret: true }] };
      expect(sent).toEqual(expected);
      view.unmount();
    }
  });

  it("replaces a masked secret with what the user types", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    fireEvent.click(screen.getByTestId("editor-more"));
    const secret = screen.getByLabelText("variable 1 value");
    change(secret, `${SECRET_MASK}n`);
    change(screen.getByLabelText("variable 1 value"), "ne");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.updated).toHaveLength(1));
    const kind = nth(backend.updated, 0).spec.kind;
    expect(kind.type === "command" && kind.env[0]).toEqual({ name: "TOKEN", value: "ne", secret: true });
  });
});

describe("job editor: unsaved changes", () => {
  it("asks before leaving a changed form; Keep editing stays", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    // A clean form leaves without asking.
    change(input("editor-name"), "Draft");
    fireEvent.click(screen.getByRole("button", { name: "Go to jobs" }));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Discard unsaved changes?");
    fireEvent.click(within(dialog).getByRole("button", { name: "Keep editing" }));
    await waitFor(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(screen.getByTestId("route").textContent).toContain("new-job");
    expect(input("editor-name").value).toBe("Draft");

    // Back to what was loaded: nothing to lose, so no question.
    change(input("editor-name"), "");
    fireEvent.click(screen.getByRole("button", { name: "Go to jobs" }));
    await waitFor(() => expect(screen.getByTestId("route").textContent).toContain('"jobs"'));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });

  it("discards when asked to, through Cancel too", async () => {
    const backend = new EditorBackend();
    const job = addRichJob(backend);
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    await waitFor(() => expect(input("editor-name").value).toBe("Nightly backup"));
    change(input("editor-cron"), "0 4 * * *");
    fireEvent.click(screen.getByTestId("editor-cancel"));
    const dialog = await screen.findByTestId("confirm-dialog");
    act(() => fireEvent.click(within(dialog).getByTestId("confirm-dialog-confirm")));
    await waitFor(() => expect(screen.getByTestId("route").textContent).toContain('"jobs"'));
    expect(backend.updated).toHaveLength(0);
  });
});
