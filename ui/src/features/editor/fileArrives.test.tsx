import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { BackendError } from "../../ipc";
import { formToSpec, newJobForm, specToForm } from "./form";
import { EditorBackend, renderEditor } from "./testing";

const change = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });
const input = (id: string) => screen.getByTestId(id);

describe("the file-arrives trigger in the editor", () => {
  it("saves the folder, pattern and settle time, described in words", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "Load CSVs");
    change(input("editor-program"), "/usr/local/bin/load");
    change(await screen.findByTestId("editor-trigger-type"), "file_arrives");
    change(input("editor-watch-folder"), "/data/inbox");
    change(input("editor-watch-glob"), "*.csv");
    change(input("editor-watch-settle"), "10");
    expect(screen.getByTestId("schedule-description").textContent).toBe(
      "Runs once for each new or changed file matching *.csv in /data/inbox, after it has not changed for 10 seconds. The run gets the file's path as $SUNDIAL_TRIGGER_PATH. Files already there when the job is saved are not run.",
    );
    fireEvent.click(screen.getByTestId("editor-save"));
    await waitFor(() => expect(backend.created).toHaveLength(1));
    expect(backend.created[0]?.trigger).toEqual({ type: "file_arrives", folder: "/data/inbox", glob: "*.csv", settle_secs: 10 });
  });

  it("shows the engine's field errors under the folder, pattern and settle inputs", async () => {
    const backend = new EditorBackend();
    backend.createJob = () =>
      Promise.reject(
        new BackendError("invalid", "invalid", [
          { field: "trigger.folder", message: '"/nope" does not exist: create it first' },
          { field: "trigger.glob", message: "is not a valid pattern" },
        ]),
      );
    renderEditor(backend);
    change(input("editor-name"), "x");
    change(input("editor-program"), "true");
    change(await screen.findByTestId("editor-trigger-type"), "file_arrives");
    change(input("editor-watch-folder"), "/nope");
    change(input("editor-watch-glob"), "[a");
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByTestId("field-error-trigger.folder")).textContent).toContain("does not exist");
    expect(screen.getByTestId("field-error-trigger.glob").textContent).toContain("not a valid pattern");
    expect(input("editor-watch-folder").getAttribute("aria-invalid")).toBe("true");
  });

  it("refuses a settle time that is not a number without asking the engine", async () => {
    const backend = new EditorBackend();
    renderEditor(backend);
    change(input("editor-name"), "x");
    change(input("editor-program"), "true");
    change(await screen.findByTestId("editor-trigger-type"), "file_arrives");
    change(input("editor-watch-folder"), "/data");
    change(input("editor-watch-settle"), "");
    fireEvent.click(screen.getByTestId("editor-save"));
    expect((await screen.findByTestId("field-error-trigger.settle_secs")).textContent).toContain("enter a number");
    expect(backend.created).toHaveLength(0);
  });

  it("keeps the trigger exactly through the form", () => {
    const form = { ...newJobForm(), name: "n", program: "true", triggerType: "file_arrives" as const, watchFolder: "/in", watchGlob: "*.json", settle: "3" };
    const spec = formToSpec(form);
    expect(spec.trigger).toEqual({ type: "file_arrives", folder: "/in", glob: "*.json", settle_secs: 3 });
    expect(formToSpec(specToForm(spec))).toEqual(spec);
  });
});
