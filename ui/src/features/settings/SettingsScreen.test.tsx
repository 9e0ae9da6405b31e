import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { NavigationProvider, useNavigation } from "../../app/navigation";
import type { RetentionPolicy } from "../../bindings/RetentionPolicy";
import type { Settings } from "../../bindings/Settings";
import { BackendError, BackendProvider } from "../../ipc";
import { FakeBackend } from "../../ipc/fake";
import { SettingsScreen } from "./SettingsScreen";

function NavigateAway() {
  const { route, navigate } = useNavigation();
  return (
    <button type="button" data-testid="go-jobs" data-screen={route.screen} onClick={() => navigate({ screen: "jobs" })}>
      Jobs
    </button>
  );
}

function renderSettings(backend: FakeBackend) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <BackendProvider backend={backend}>
      <QueryClientProvider client={queryClient}>
        <NavigationProvider initial={{ screen: "settings" }}>
          <SettingsScreen />
          <NavigateAway />
        </NavigationProvider>
      </QueryClientProvider>
    </BackendProvider>,
  );
  return { ...view, queryClient };
}

function input(label: RegExp | string): HTMLInputElement {
  return screen.getByLabelText(label) as HTMLInputElement;
}

function errorOf(field: HTMLElement): string {
  const ids = (field.getAttribute("aria-describedby") ?? "").split(" ");
  return ids.map((id) => document.getElementById(id)?.textContent ?? "").join(" | ");
}

async function loaded() {
  await screen.findByTestId("settings-max-parallel");
}

describe("settings", () => {
  it("shows the loaded values, with Save disabled while nothing changed", async () => {
    const backend = new FakeBackend();
    backend.retention = { keep_runs: 500, keep_days: null };
    backend.autostart = true;
    renderSettings(backend);
    await loaded();
    expect((screen.getByTestId("settings-max-parallel") as HTMLInputElement).value).toBe("4");
    expect(input("Output cap per run").value).toBe("256");
    expect(input("Runs kept per job").value).toBe("500");
    expect(input("Days of history kept").disabled).toBe(true);
    expect((screen.getByTestId("settings-keep_days-unlimited") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId("settings-keep_runs-unlimited") as HTMLInputElement).checked).toBe(false);
    expect(input("Days of application log kept").value).toBe("14");
    expect((screen.getByTestId("settings-notifications") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole("radio", { name: /Wait for them to finish/ }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole("radio", { name: /^System/ }) as HTMLInputElement).checked).toBe(true);
    await waitFor(() => expect(screen.getByRole("switch", { name: "Start Sundial at login" }).getAttribute("aria-checked")).toBe("true"));
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("status").textContent).toBe("");
  });

  it("rejects an out-of-range parallel cap next to the field and saves nothing", async () => {
    const backend = new FakeBackend();
    renderSettings(backend);
    await loaded();
    const field = screen.getByTestId("settings-max-parallel");
    fireEvent.change(field, { target: { value: "65" } });
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(errorOf(field)).toContain("Parallel runs must be a whole number from 1 to 64");

    fireEvent.click(screen.getByTestId("settings-save"));
    expect(screen.getByRole("alert").textContent).toContain("Nothing was saved");
    expect(document.activeElement).toBe(field);

    fireEvent.change(field, { target: { value: "two" } });
    expect(errorOf(field)).toContain("Parallel runs must be a whole number from 1 to 64");
    fireEvent.change(field, { target: { value: "" } });
    expect(errorOf(field)).toContain("Parallel runs is required");
    fireEvent.click(screen.getByTestId("settings-save"));
    expect(backend.calls).not.toContain("updateSettings");
    expect(backend.calls).not.toContain("setRetention");
    expect(backend.settings.max_parallel).toBe(4);

    fireEvent.change(field, { target: { value: "64" } });
    expect(field.getAttribute("aria-invalid")).toBeNull();
  });

  it("checks every bounded field", async () => {
    renderSettings(new FakeBackend());
    await loaded();
    const cases: Array<[string, string, string]> = [
      ["Output cap per run", "65537", "from 1 to 65"],
      ["Runs kept per job", "0", "Runs kept per job must be a whole number from 1"],
      ["Days of history kept", "36501", "from 1 to 36"],
      ["Days of application log kept", "366", "from 1 to 365"],
    ];
    for (const [label, value, message] of cases) {
      const field = input(label);
      fireEvent.change(field, { target: { value } });
      expect(field.getAttribute("aria-invalid")).toBe("true");
      expect(errorOf(field)).toContain(message);
    }
  });

  it("saves settings and retention together with the exact values", async () => {
    const backend = new FakeBackend();
    backend.settings = { ...backend.settings, close_notice_shown: true };
    const updateSettings = vi.spyOn(backend, "updateSettings");
    const setRetention = vi.spyOn(backend, "setRetention");
    const { queryClient } = renderSettings(backend);
    await loaded();

    fireEvent.change(screen.getByTestId("settings-max-parallel"), { target: { value: "8" } });
    fireEvent.change(input("Output cap per run"), { target: { value: " 512 " } });
    fireEvent.change(input("Catch-up spacing after a sleep"), { target: { value: "0" } });
    fireEvent.change(input("Runs kept per job"), { target: { value: "250" } });
    fireEvent.click(screen.getByTestId("settings-keep_days-unlimited"));
    fireEvent.change(input("Days of application log kept"), { target: { value: "30" } });
    fireEvent.click(screen.getByTestId("settings-notifications"));
    fireEvent.click(screen.getByRole("radio", { name: /Cancel them/ }));
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(screen.getByTestId("settings-save"));

    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    const expected: Settings = {
      quit_behaviour: "cancel",
      app_log_days: 30,
      notifications: false,
      close_notice_shown: true,
      max_parallel: 8,
      max_log_mib: 512,
      theme: "system",
      catch_up_stagger_secs: 0,
    };
    expect(updateSettings).toHaveBeenCalledTimes(1);
    expect(updateSettings).toHaveBeenCalledWith(expected);
    expect(setRetention).toHaveBeenCalledTimes(1);
    expect(setRetention).toHaveBeenCalledWith({ keep_runs: 250, keep_days: null } satisfies RetentionPolicy);
    expect(backend.settings).toEqual(expected);
    expect(backend.retention).toEqual({ keep_runs: 250, keep_days: null });
    expect(queryClient.getQueryData(["settings"])).toEqual(expected);
    expect(queryClient.getQueryData(["retention"])).toEqual({ keep_runs: 250, keep_days: null });
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
    expect(input("Output cap per run").value).toBe("512");

    // Editing again clears "Saved".
    fireEvent.change(screen.getByTestId("settings-max-parallel"), { target: { value: "9" } });
    expect(screen.getByRole("status").textContent).toBe("");
  });

  it("saves only the part that changed", async () => {
    const backend = new FakeBackend();
    renderSettings(backend);
    await loaded();
    fireEvent.change(input("Runs kept per job"), { target: { value: "20" } });
    fireEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(backend.calls).toContain("setRetention");
    expect(backend.calls).not.toContain("updateSettings");
    expect(backend.retention).toEqual({ keep_runs: 20, keep_days: 90 });
  });

  it("saves the theme, updating the settings query the shell reads", async () => {
    const backend = new FakeBackend();
    const { queryClient } = renderSettings(backend);
    await loaded();
    const themes = screen.getByRole("radiogroup", { name: "Theme" });
    fireEvent.click(within(themes).getByRole("radio", { name: "Dark" }));
    fireEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(backend.settings.theme).toBe("dark");
    expect(queryClient.getQueryData<Settings>(["settings"])?.theme).toBe("dark");
    expect((within(themes).getByRole("radio", { name: "Dark" }) as HTMLInputElement).checked).toBe(true);
    expect(backend.calls).not.toContain("setRetention");
  });

  it("turns start at login on and off at once", async () => {
    const backend = new FakeBackend();
    const { queryClient } = renderSettings(backend);
    await loaded();
    const toggle = screen.getByRole("switch", { name: "Start Sundial at login" });
    await waitFor(() => expect((toggle as HTMLButtonElement).disabled).toBe(false));
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    fireEvent.click(toggle);
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("true"));
    expect(backend.autostart).toBe(true);
    expect(queryClient.getQueryData(["autostart"])).toBe(true);
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect((toggle as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(toggle);
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("false"));
    expect(backend.autostart).toBe(false);
    expect(backend.calls.filter((c) => c === "setAutostart")).toHaveLength(2);
  });

  it("turning No limit off suggests a value", async () => {
    const backend = new FakeBackend();
    backend.retention = { keep_runs: null, keep_days: null };
    renderSettings(backend);
    await loaded();
    expect(input("Runs kept per job").disabled).toBe(true);
    fireEvent.click(screen.getByTestId("settings-keep_runs-unlimited"));
    expect(input("Runs kept per job").disabled).toBe(false);
    expect(input("Runs kept per job").value).toBe("1000");
    fireEvent.click(screen.getByTestId("settings-keep_runs-unlimited"));
    // Back to what was loaded: nothing to save.
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the engine's field errors next to their inputs and reports a partial save", async () => {
    class RefusingRetention extends FakeBackend {
      override setRetention(): Promise<RetentionPolicy> {
        this.calls.push("setRetention");
        return Promise.reject(
          new BackendError("invalid", "keep_days: must be at most 36500 (100 years)", [
            { field: "keep_days", message: "must be at most 36500 (100 years)" },
          ]),
        );
      }
    }
    const backend = new RefusingRetention();
    renderSettings(backend);
    await loaded();
    fireEvent.change(screen.getByTestId("settings-max-parallel"), { target: { value: "2" } });
    fireEvent.change(input("Days of history kept"), { target: { value: "365" } });
    fireEvent.click(screen.getByTestId("settings-save"));

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The application settings were saved");
    expect(alert.textContent).toContain("The history limits were not saved");
    expect(errorOf(input("Days of history kept"))).toContain("must be at most 36500 (100 years)");
    expect(backend.settings.max_parallel).toBe(2);
    expect(screen.getByRole("status").textContent).toBe("");
    // The unsaved part stays, so Save can try again.
    expect(input("Days of history kept").value).toBe("365");
    expect((screen.getByTestId("settings-save") as HTMLButtonElement).disabled).toBe(false);
    // Editing the field clears the engine's message.
    fireEvent.change(input("Days of history kept"), { target: { value: "366" } });
    expect(errorOf(input("Days of history kept"))).not.toContain("36500");
  });

  it("asks before leaving with unsaved changes", async () => {
    renderSettings(new FakeBackend());
    await loaded();
    fireEvent.change(screen.getByTestId("settings-max-parallel"), { target: { value: "3" } });
    fireEvent.click(screen.getByTestId("go-jobs"));
    expect(await screen.findByText("Discard unsaved changes?")).toBeTruthy();
    expect(screen.getByTestId("go-jobs").dataset.screen).toBe("settings");
  });

  it("shows an engine error instead of the form", async () => {
    const backend = new FakeBackend();
    backend.getSettings = () => Promise.reject({ code: "io", message: "the database is locked" });
    renderSettings(backend);
    expect((await screen.findByRole("alert")).textContent).toContain("the database is locked");
    expect(screen.queryByTestId("settings-save")).toBeNull();
  });
  it("says plainly where secrets are kept, and saves the extra CA bundle", async () => {
    const backend = new FakeBackend();
    backend.secrets = {
      location: "database",
      message: "No OS keychain is reachable (the Secret Service said: no session bus), so secrets are kept in Sundial's database.",
      unreadable: 0,
    };
    renderSettings(backend);
    await loaded();
    const store = await screen.findByTestId("settings-secret-store");
    expect(store.textContent).toContain("Secrets are in Sundial's database");
    expect(store.textContent).toContain("No OS keychain is reachable");
    const bundle = screen.getByTestId("settings-extra-ca-bundle") as HTMLInputElement;
    expect(bundle.value).toBe("");
    fireEvent.change(bundle, { target: { value: " /etc/ssl/corp-ca.pem " } });
    fireEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(backend.settings.extra_ca_bundle).toBe("/etc/ssl/corp-ca.pem"));
    fireEvent.change(screen.getByTestId("settings-extra-ca-bundle"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(backend.settings.extra_ca_bundle).toBeUndefined());
  });
});
