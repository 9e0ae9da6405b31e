// One search in one log view: counts every match, keeps the pages of matches it has fetched
// (by their index among all matches), and moves a current match forwards and backwards,
// fetching further pages as needed and wrapping around at the ends.
import type { LogMatch } from "../../bindings/LogMatch";
import type { LogSearchResult } from "../../bindings/LogSearchResult";
import type { LogView } from "../../bindings/LogView";
import { type Backend, BackendError } from "../../ipc";

export interface SearchOptions {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
}

export interface SearchSnapshot {
  status: "searching" | "done" | "error";
  error: string | null;
  /** Every match in the view. */
  total: number;
  /** Index of the current match among all of them; -1 before the first move. */
  current: number;
  /** Fetched matches by index. */
  matches: ReadonlyMap<number, LogMatch>;
  /** Fetched matches by view position → index. */
  byPosition: ReadonlyMap<number, number>;
  /** A page is being fetched for a move. */
  busy: boolean;
}

export class SearchSession {
  private snapshot: SearchSnapshot = {
    status: "searching",
    error: null,
    total: 0,
    current: -1,
    matches: new Map(),
    byPosition: new Map(),
    busy: false,
  };
  private readonly listeners = new Set<() => void>();
  private disposed = false;
  /** Moves run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly backend: Backend,
    readonly view: LogView,
    readonly key: string,
    readonly options: SearchOptions,
    private readonly pageSize: number,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SearchSnapshot => this.snapshot;

  /** (Again) in use: React may dispose and reuse a session when it re-runs an effect. */
  activate(): void {
    this.disposed = false;
  }

  dispose(): void {
    this.disposed = true;
  }

  private update(patch: Partial<SearchSnapshot>): void {
    if (this.disposed) return;
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }

  private async search(from: number, max: number): Promise<LogSearchResult> {
    const result = await this.backend.searchLog(this.view, {
      pattern: this.options.pattern,
      regex: this.options.regex,
      case_sensitive: this.options.caseSensitive,
      from,
      max_matches: Math.max(1, Math.min(10_000, max)),
    });
    if (this.disposed) throw new Error("disposed");
    return result;
  }

  /** Stores a page whose first match has index `base`. */
  private addPage(base: number, matches: LogMatch[], total?: number): void {
    const all = new Map(this.snapshot.matches);
    const byPosition = new Map(this.snapshot.byPosition);
    matches.forEach((m, i) => {
      all.set(base + i, m);
      byPosition.set(m.position, base + i);
    });
    this.update({ matches: all, byPosition, ...(total === undefined ? {} : { total }) });
  }

  private run<T>(task: () => Promise<T>): Promise<T | undefined> {
    const next = this.queue.then(async () => {
      if (this.disposed) return undefined;
      try {
        return await task();
      } catch (e) {
        if (!this.disposed && !(e instanceof Error && e.message === "disposed")) {
          this.update({ status: "error", error: BackendError.from(e).message, busy: false });
        }
        return undefined;
      }
    });
    this.queue = next;
    return next;
  }

  /** Counts the matches and makes the first one at or after position `near` current. */
  start(near: number): Promise<LogMatch | undefined> {
    return this.run(async () => {
      const first = await this.search(0, this.pageSize);
      this.addPage(0, first.matches, first.total);
      let index = 0;
      if (near > 0 && first.total > 0) {
        const inPage = first.matches.findIndex((m) => m.position >= near);
        if (inPage !== -1) index = inPage;
        else if (first.matches.length < first.total) {
          const after = await this.search(near, this.pageSize);
          if (after.total > 0) {
            index = first.total - after.total;
            this.addPage(index, after.matches);
          }
        }
      }
      const match = first.total > 0 ? this.snapshot.matches.get(index) : undefined;
      this.update({ status: "done", current: match ? index : -1 });
      return match;
    });
  }

  /** Makes sure match `index` is fetched. */
  private async load(index: number, viewLines: number): Promise<LogMatch | undefined> {
    const have = this.snapshot.matches.get(index);
    if (have) return have;
    const before = this.snapshot.matches.get(index - 1);
    if (before) {
      // Forwards: the page that starts right after the previous match.
      const page = await this.search(before.position + 1, this.pageSize);
      this.addPage(index, page.matches, index + page.total);
      return this.snapshot.matches.get(index);
    }
    // Backwards (or wrapping to the last match): look in growing windows before the next
    // known match (or the end of the view) until the window holds match `index`.
    const after = this.snapshot.matches.get(index + 1);
    const limit = after ? after.position : viewLines;
    const afterCount = this.snapshot.total - index - 1; // matches at or after `limit`
    let step = 1024;
    for (;;) {
      const from = Math.max(0, limit - step);
      let page = await this.search(from, this.pageSize);
      const inWindow = page.total - afterCount;
      if (inWindow > 0 || from === 0) {
        if (inWindow <= 0) return undefined;
        // The window's matches start at index `index + 1 - inWindow`; page on until `index`.
        let base = index + 1 - inWindow;
        for (;;) {
          this.addPage(base, page.matches);
          if (base + page.matches.length > index || page.matches.length === 0) break;
          base += page.matches.length;
          page = await this.search(page.next, this.pageSize);
        }
        return this.snapshot.matches.get(index);
      }
      step *= 4;
    }
  }

  private move(delta: 1 | -1, viewLines: number): Promise<LogMatch | undefined> {
    return this.run(async () => {
      const { total, current } = this.snapshot;
      if (this.snapshot.status !== "done" || total === 0) return undefined;
      let index = current === -1 ? (delta === 1 ? 0 : total - 1) : current + delta;
      if (index >= total) index = 0;
      if (index < 0) index = total - 1;
      this.update({ busy: true });
      const match = await this.load(index, viewLines);
      this.update({ busy: false, ...(match ? { current: index } : {}) });
      return match;
    });
  }

  /** The next match; `viewLines` is the view's line count now. */
  next(viewLines: number): Promise<LogMatch | undefined> {
    return this.move(1, viewLines);
  }

  /** The previous match (the last one from the first); `viewLines` is the view's line count
   * now, where the search for the last match starts. */
  previous(viewLines: number): Promise<LogMatch | undefined> {
    return this.move(-1, viewLines);
  }
}
