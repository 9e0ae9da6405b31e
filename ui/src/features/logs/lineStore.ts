// Lines of log views, fetched by block from the engine and kept in a small LRU. Only the
// blocks the viewer asks for (what is visible plus a margin) are ever read: a 10-line log and
// a 10-million-line log cost the same.
import type { LogLine } from "../../bindings/LogLine";
import type { LogView } from "../../bindings/LogView";
import { type Backend, BackendError } from "../../ipc";

/** Lines per request (the engine allows up to 5,000). */
export const BLOCK = 500;
/** Requests in flight at once; a fast thumb drag skips the positions it passed. */
const MAX_IN_FLIGHT = 2;

interface Block {
  start: number;
  lines: LogLine[];
  /** The view's line count when the block was requested: a block that came back short is
   * refetched only once the view has grown past that. */
  total: number;
  failed?: boolean;
}

interface Want {
  view: LogView;
  key: string;
  start: number;
  end: number;
  /** The part that is on screen now; fetched first. */
  visibleStart: number;
  total: number;
}

export function viewKey(view: LogView): string {
  const s = view.source;
  return `${s.kind === "run" ? `run:${s.run_id}` : `app:${s.day}`}|${view.stream ?? "all"}`;
}

export class LineStore {
  private readonly blocks = new Map<string, Block>();
  private readonly inFlight = new Set<string>();
  private want: Want | null = null;
  private readonly listeners = new Set<() => void>();
  private version = 0;
  /** The last read failure, for the viewer to show. */
  error: BackendError | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly maxBlocks = 40,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  private notify(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }

  get(key: string, position: number): LogLine | undefined {
    const index = Math.floor(position / BLOCK);
    const block = this.blocks.get(`${key}#${index}`);
    return block?.lines[position - block.start];
  }

  /** Asks for positions `start..end` of a view holding `total` lines, the visible part first. */
  request(view: LogView, start: number, end: number, visibleStart: number, total: number): void {
    const key = viewKey(view);
    this.want = { view, key, start: Math.max(0, start), end: Math.min(total, end), visibleStart, total };
    // Touch what is wanted so the LRU keeps it.
    for (let i = Math.floor(this.want.start / BLOCK); i * BLOCK < this.want.end; i++) {
      const id = `${key}#${i}`;
      const block = this.blocks.get(id);
      if (block) {
        this.blocks.delete(id);
        this.blocks.set(id, block);
      }
    }
    this.pump();
  }

  private needs(id: string, blockStart: number, total: number): boolean {
    if (this.inFlight.has(id)) return false;
    const block = this.blocks.get(id);
    if (!block) return true;
    const expected = Math.min(BLOCK, total - blockStart);
    return block.lines.length < expected && block.total < total;
  }

  private nextMissing(): number | null {
    const want = this.want;
    if (!want || want.end <= want.start) return null;
    const first = Math.floor(want.start / BLOCK);
    const last = Math.floor((want.end - 1) / BLOCK);
    const visible = Math.min(last, Math.max(first, Math.floor(want.visibleStart / BLOCK)));
    // The visible block, then outwards.
    const order = [visible];
    for (let d = 1; visible - d >= first || visible + d <= last; d++) {
      if (visible + d <= last) order.push(visible + d);
      if (visible - d >= first) order.push(visible - d);
    }
    for (const i of order) {
      if (this.needs(`${want.key}#${i}`, i * BLOCK, want.total)) return i;
    }
    return null;
  }

  private pump(): void {
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const index = this.nextMissing();
      const want = this.want;
      if (index === null || !want) return;
      this.fetch(want.view, want.key, index, want.total);
    }
  }

  private fetch(view: LogView, key: string, index: number, total: number): void {
    const id = `${key}#${index}`;
    this.inFlight.add(id);
    const start = index * BLOCK;
    this.backend
      .readLogLines(view, start, BLOCK)
      .then(
        (lines) => {
          const old = this.blocks.get(id);
          // Lines appended while this request was out may already be newer than its answer.
          const keep = old && old.lines.length > lines.length ? old.lines : lines;
          this.put(id, { start, lines: keep, total });
          this.error = null;
        },
        (e: unknown) => {
          this.put(id, { start, lines: [], total, failed: true });
          this.error = BackendError.from(e);
        },
      )
      .finally(() => {
        this.inFlight.delete(id);
        this.notify();
        this.pump();
      });
  }

  private put(id: string, block: Block): void {
    this.blocks.delete(id);
    this.blocks.set(id, block);
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value;
      if (oldest === undefined) break;
      this.blocks.delete(oldest);
    }
  }

  /** New lines of a growing log, for the unfiltered view (position = line number). */
  append(key: string, lines: LogLine[]): void {
    let changed = false;
    for (const line of lines) {
      const index = Math.floor(line.number / BLOCK);
      const block = this.blocks.get(`${key}#${index}`);
      if (block && !block.failed && line.number === block.start + block.lines.length) {
        block.lines.push(line);
        changed = true;
      }
    }
    if (changed) this.notify();
  }

  /** Lines `start..end` of a view, read in chunks (for copying), using cached blocks. */
  async readRange(view: LogView, start: number, end: number): Promise<LogLine[]> {
    const key = viewKey(view);
    const out: LogLine[] = [];
    let position = start;
    while (position < end) {
      const cached = this.get(key, position);
      if (cached) {
        out.push(cached);
        position += 1;
        continue;
      }
      const count = Math.min(5000, end - position);
      const lines = await this.backend.readLogLines(view, position, count);
      if (lines.length === 0) break;
      out.push(...lines);
      position += lines.length;
    }
    return out;
  }
}
