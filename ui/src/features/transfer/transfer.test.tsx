import { QueryClient } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import { FakeBackend } from "../../ipc/fake";

function renderApp(backend: FakeBackend) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<App backend={backend} queryClient={queryClient} />);
}

const CRONTAB = "# backups\n0 2 * * * /usr/bin/backup --all\n61 * * * * echo never\n*/15 * * * * echo ping\n";

async function openImportFromEmptyState() {
  fireEvent.click(await screen.findByTestId("empty-import-crontab"));
  return screen.findByTestId("import-dialog");
}

function paste(dialog: HTMLElement, text: string) {
  fireEvent.change(within(dialog).getByTestId("import-text"), { target: { value: text } });
}

function entries(dialog: HTMLElement) {
  return within(dialog)
    .getAllByTestId("import-entry")
    .map((e) => ({ line: e.dataset.line, outcome: e.dataset.outcome, text: within(e).getByTestId("import-entry-outcome").textContent ?? "" }));
}

describe("import", () => {
  it("shows every line's job or reason, and imports nothing until confirmed", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    const dialog = await openImportFromEmptyState();
    const confirm = within(dialog).getByTestId("import-confirm") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);

    paste(dialog, CRONTAB);
    expect(confirm.disabled).toBe(true);
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");

    const report = entries(dialog);
    expect(report.map((e) => [e.line, e.outcome])).toEqual([
      ["1", "not_a_job"],
      ["2", "create"],
      ["3", "not_a_job"],
      ["4", "create"],
    ]);
    expect(report[1]?.text).toContain("job: crontab:2 /usr/bin/backup --all — cron 0 2 * * *");
    expect(report[2]?.text).toContain("not imported: time fields");
    expect(report[2]?.text).toContain("61 is out of range");
    expect(within(dialog).getByTestId("import-summary").textContent).toBe("2 jobs to import, 1 line not imported");
    // Checked, but not imported.
    expect(backend.jobs).toHaveLength(0);
    expect(backend.calls).not.toContain("applyImport");

    expect(confirm.textContent).toBe("Import 2 jobs");
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);
    await waitFor(() => expect(screen.queryByTestId("import-dialog")).toBeNull());
    expect(backend.jobs.map((j) => j.job.name)).toEqual(["crontab:2 /usr/bin/backup --all", "crontab:4 echo ping"]);
    expect(await screen.findAllByTestId("job-row")).toHaveLength(2);
  });

  it("hides the report when the text changes, so only what was checked can be imported", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    const dialog = await openImportFromEmptyState();
    paste(dialog, CRONTAB);
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");
    paste(dialog, `${CRONTAB}@reboot echo hi\n`);
    expect(within(dialog).queryByTestId("import-report")).toBeNull();
    expect((within(dialog).getByTestId("import-confirm") as HTMLButtonElement).disabled).toBe(true);
  });

  it("refuses a plan that went stale and asks to check again", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    const dialog = await openImportFromEmptyState();
    paste(dialog, CRONTAB);
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");

    // Meanwhile another process creates a job with one of the names.
    backend.addJob({ name: "crontab:4 echo ping" });
    fireEvent.click(within(dialog).getByTestId("import-confirm"));
    const error = await within(dialog).findByTestId("import-error");
    expect(error.textContent).toContain("the jobs changed since the preview");
    expect(error.textContent).toContain("Check");
    expect(within(dialog).queryByTestId("import-report")).toBeNull();
    expect((within(dialog).getByTestId("import-confirm") as HTMLButtonElement).disabled).toBe(true);
    expect(backend.jobs).toHaveLength(1);

    // Checked again, the taken name refuses the import until a conflict choice is made.
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");
    expect(entries(dialog).map((e) => e.outcome)).toContain("refused");
    expect((within(dialog).getByTestId("import-confirm") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(within(dialog).getByTestId("import-conflict"), { target: { value: "rename" } });
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");
    expect(entries(dialog)[3]?.text).toContain("crontab:4 echo ping (2)");
    fireEvent.click(within(dialog).getByTestId("import-confirm"));
    await waitFor(() => expect(screen.queryByTestId("import-dialog")).toBeNull());
    expect(backend.jobs).toHaveLength(3);
  });

  it("reads the user's crontab, and says so when there is none", async () => {
    const backend = new FakeBackend();
    renderApp(backend);
    const dialog = await openImportFromEmptyState();
    fireEvent.click(within(dialog).getByTestId("import-read-crontab"));
    expect((await within(dialog).findByTestId("import-notice")).textContent).toBe("you have no crontab");

    backend.crontab = { text: "*/5 * * * * echo mine\n", message: null };
    fireEvent.click(within(dialog).getByTestId("import-read-crontab"));
    await waitFor(() => expect((within(dialog).getByTestId("import-text") as HTMLTextAreaElement).value).toBe("*/5 * * * * echo mine\n"));
    fireEvent.click(within(dialog).getByTestId("import-check"));
    await within(dialog).findByTestId("import-report");
    expect(entries(dialog).map((e) => e.outcome)).toEqual(["create"]);
  });
});

describe("export", () => {
  it("exports the selected jobs: a preview of the text, then Save…", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "Backup", trigger: { type: "cron", expr: "0 2 * * *", timezone: null } }, "At 02:00");
    const manual = backend.addJob({ name: "By hand" });
    backend.addJob({ name: "Unselected" });
    renderApp(backend);
    const rows = await screen.findAllByTestId("job-row");
    const exportButton = screen.getByTestId("jobs-export") as HTMLButtonElement;
    expect(exportButton.disabled).toBe(true);
    // Rows are by name: Backup, By hand, Unselected.
    fireEvent.click(within(rows[0] as HTMLElement).getByTestId("job-select"));
    fireEvent.click(within(rows[1] as HTMLElement).getByTestId("job-select"));
    expect(exportButton.textContent).toBe("Export 2…");
    fireEvent.click(exportButton);

    const dialog = await screen.findByTestId("export-dialog");
    const file = await within(dialog).findByTestId("export-file");
    expect(file.textContent).toContain('name = "Backup"');
    expect(file.textContent).toContain('name = "By hand"');
    expect(file.textContent).not.toContain("Unselected");

    fireEvent.change(within(dialog).getByTestId("export-format"), { target: { value: "kubernetes" } });
    await waitFor(() => expect(within(dialog).getByTestId("export-file").textContent).toContain("kind: CronJob"));
    expect(within(dialog).getByTestId("export-untranslatable").textContent).toContain("“By hand”: manual job");

    fireEvent.click(within(dialog).getByTestId("export-save"));
    expect((await within(dialog).findByTestId("export-saved")).textContent).toBe("Saved to /home/me/sundial-jobs.toml");
    expect(backend.saved).toHaveLength(1);
    expect(backend.saved[0]?.format).toBe("kubernetes");
    expect(backend.saved[0]?.ids).toContain(manual.id);
    expect(backend.saved[0]?.ids).toHaveLength(2);
  });

  it("selects every shown job from the header box", async () => {
    const backend = new FakeBackend();
    backend.addJob({ name: "A" });
    backend.addJob({ name: "B" });
    renderApp(backend);
    await screen.findAllByTestId("job-row");
    fireEvent.click(screen.getByTestId("jobs-select-all"));
    expect(screen.getByTestId("jobs-export").textContent).toBe("Export 2…");
    fireEvent.click(screen.getByTestId("jobs-select-all"));
    expect((screen.getByTestId("jobs-export") as HTMLButtonElement).disabled).toBe(true);
  });
});
