import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { BackendError } from "../../ipc";
import { formToSpec, newJobForm, specToForm } from "./form";
import { EditorBackend, renderEditor } from "./testing";

const change = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });
const input = (id: string) => screen.getByTestId(id);

describe("the editor's conditions", () => {
  it("saves only on AC power, with the network up, the wait, what then and a random delay", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "Backup");
    change(input("editor-program"), "/usr/bin/backup");
    fireEvent.click(screen.getByTestId("editor-more"));
    expect(screen.queryByLabelText("Wait at most (seconds)")).toBeNull();
    fireEvent.click(screen.getByLabelText(/Only on AC power/));
    fireEvent.click(screen.getByLabelText(/Only when the network is up/));
    change(screen.getByLabelText("Wait at most (seconds)"), "1800");
    change(screen.getByLabelText("If still not met then"), "run");
    change(screen.getByLabelText("Random delay up to (seconds)"), "300");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.created).toHaveLength(1));
    expect(backend.created[0]?.policies.conditions).toEqual({ ac_power: true, network: true, max_wait_secs: 1800, on_timeout: "run", random_delay_secs: 300 });
  });

  it("leaves the conditions out of a job that has none", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "Plain");
    change(input("editor-program"), "true");
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.created).toHaveLength(1));
    expect(backend.created[0]?.policies).not.toHaveProperty("conditions");
  });

  it("shows a job's conditions and saves them removed when they are turned off", async () => {
    const backend = new EditorBackend();
    const job = backend.addJob({
      name: "Laptop sync",
      policies: {
        timeout_secs: null,
        retry: { max_attempts: 1, initial_delay_secs: 10, multiplier: 2, max_delay_secs: 3600 },
        overlap: "skip",
        missed: { mode: "run_once", max_catch_up: 10, grace_secs: 60 },
        notify: "on_failure",
        conditions: { ac_power: true, network: false, max_wait_secs: 3600, on_timeout: "skip", random_delay_secs: 0 },
      },
    });
    renderEditor(backend, { screen: "job", jobId: job.id, tab: "edit" });
    fireEvent.click(await screen.findByTestId("editor-more"));
    const ac = screen.getByLabelText(/Only on AC power/) as HTMLInputElement;
    expect(ac.checked).toBe(true);
    expect((screen.getByLabelText("Wait at most (seconds)") as HTMLInputElement).value).toBe("3600");
    fireEvent.click(ac);
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.updated).toHaveLength(1));
    expect(backend.updated[0]?.spec.policies).not.toHaveProperty("conditions");
  });

  it("shows the engine's error under the wait and opens More options for it", async () => {
    const backend = new EditorBackend();
    backend.createJob = () =>
      Promise.reject(new BackendError("invalid", "invalid", [{ field: "policies.conditions.random_delay_secs", message: "must be from 0 (none) to 86400 seconds (a day); 90000 is longer" }]));
    renderEditor(backend);
    change(input("editor-name"), "x");
    change(input("editor-program"), "true");
    fireEvent.click(screen.getByTestId("editor-more"));
    change(screen.getByLabelText("Random delay up to (seconds)"), "90000");
    fireEvent.click(screen.getByTestId("editor-more"));
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByTestId("field-error-policies.conditions.random_delay_secs")).textContent).toContain("86400 seconds");
    expect(screen.getByTestId("editor-more").getAttribute("aria-expanded")).toBe("true");
  });

  it("refuses a wait that is not a number without asking the engine", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "x");
    change(input("editor-program"), "true");
    fireEvent.click(screen.getByTestId("editor-more"));
    fireEvent.click(screen.getByLabelText(/Only on AC power/));
    change(screen.getByLabelText("Wait at most (seconds)"), "");
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByTestId("field-error-policies.conditions.max_wait_secs")).textContent).toContain("enter a number");
    expect(backend.created).toHaveLength(0);
  });

  it("keeps the conditions exactly through the form", () => {
    const form = { ...newJobForm(), name: "n", program: "true", network: true, maxWait: "600", randomDelay: "30" };
    const spec = formToSpec(form);
    expect(spec.policies.conditions).toEqual({ ac_power: false, network: true, max_wait_secs: 600, on_timeout: "skip", random_delay_secs: 30 });
    expect(formToSpec(specToForm(spec))).toEqual(spec);
    const plain = formToSpec({ ...newJobForm(), name: "n", program: "true" });
    expect(formToSpec(specToForm(plain))).toEqual(plain);
  });
});
