import { describe, expect, it } from "vitest";
import type { LogSearch } from "../../bindings/LogSearch";
import type { LogView } from "../../bindings/LogView";
import { FakeBackend, generatedLog } from "../../ipc/fake";
import { SearchSession } from "./searchSession";

class SpyBackend extends FakeBackend {
  searches: LogSearch[] = [];
  searchLog(view: LogView, search: LogSearch) {
    this.searches.push(search);
    return super.searchLog(view, search);
  }
}

function setup(pageSize: number) {
  const backend = new SpyBackend();
  backend.logs.set("r", generatedLog(20_000));
  const view: LogView = { source: { kind: "run", run_id: "r" } };
  // "line 1999" matches line 1999 and lines 19990..19999: 11 matches.
  const session = new SearchSession(backend, view, "k", { pattern: "line 1999", regex: false, caseSensitive: true }, pageSize);
  return { backend, session };
}

describe("SearchSession", () => {
  it("starts at the first match at or after the top line, counting all", async () => {
    const { session } = setup(3);
    const match = await session.start(5000);
    expect(match?.line).toBe(19_990);
    expect(session.getSnapshot()).toMatchObject({ status: "done", total: 11, current: 1 });
  });

  it("pages forwards and wraps backwards to the last match", async () => {
    const { backend, session } = setup(3);
    expect((await session.start(0))?.line).toBe(1999);
    expect((await session.previous(20_000))?.line).toBe(19_999);
    expect(session.getSnapshot().current).toBe(10);
    // Found from a window near the end, not by reading every page from the start.
    expect(backend.searches.at(-1)?.from).toBeGreaterThan(15_000);
    expect((await session.previous(20_000))?.line).toBe(19_998);
    expect((await session.next(20_000))?.line).toBe(19_999);
    expect((await session.next(20_000))?.line).toBe(1999);
    for (let i = 0; i < 4; i++) await session.next(20_000);
    expect(session.getSnapshot().current).toBe(4);
    expect(session.getSnapshot().matches.get(4)?.line).toBe(19_993);
    expect(backend.searches.every((s) => s.max_matches === 3)).toBe(true);
  });

  it("moves backwards across a gap before a page it jumped to", async () => {
    const { session } = setup(3);
    expect((await session.start(19_995))?.line).toBe(19_995);
    expect(session.getSnapshot().current).toBe(6);
    for (const expected of [19_994, 19_993, 19_992, 19_991, 19_990, 1999]) {
      expect((await session.previous(20_000))?.line).toBe(expected);
    }
    expect(session.getSnapshot().current).toBe(0);
  });

  it("reports an invalid pattern", async () => {
    const backend = new FakeBackend();
    backend.logs.set("r", generatedLog(10));
    const session = new SearchSession(backend, { source: { kind: "run", run_id: "r" } }, "k", { pattern: "(", regex: true, caseSensitive: false }, 10);
    expect(await session.start(0)).toBeUndefined();
    expect(session.getSnapshot().status).toBe("error");
    expect(session.getSnapshot().error).toContain("pattern:");
  });
});
