// Follows a live run log: one subscription per viewer, started once, its batches ignored after
// the viewer goes away (the backend offers no unsubscribe; it stops when the run ends).
import type { LogLine } from "../../bindings/LogLine";
import { type Backend, BackendError } from "../../ipc";

export interface FollowHandlers {
  onStart: () => void;
  onLines: (lines: LogLine[]) => void;
  /** Counts read elsewhere (a filtered view's) should be read again; at most every
   * `refreshMs`. */
  onRefresh: () => void;
  onDone: () => void;
  onError: (message: string) => void;
}

export class Follower {
  private started = false;
  private active = true;
  private finished = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly handlers: FollowHandlers,
    private readonly refreshMs = 300,
  ) {}

  private scheduleRefresh(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (this.active) this.handlers.onRefresh();
    }, this.refreshMs);
  }

  /** Starts following `runId` from line `fromLine`; later calls do nothing. */
  start(runId: string, fromLine: number): void {
    if (this.started) return;
    this.started = true;
    this.handlers.onStart();
    this.backend
      .followRunLog(runId, fromLine, (batch) => {
        if (!this.active || this.finished) return;
        if (batch.lines.length > 0) {
          this.handlers.onLines(batch.lines);
          this.scheduleRefresh();
        }
        if (batch.error) this.handlers.onError(BackendError.from(batch.error).message);
        if (batch.done) {
          this.finished = true;
          this.handlers.onDone();
        }
      })
      .catch((e: unknown) => {
        if (this.active) this.handlers.onError(BackendError.from(e).message);
      });
  }

  /** The viewer is (again) on screen. */
  resume(): void {
    this.active = true;
  }

  /** The viewer went away: ignore every further batch. */
  stop(): void {
    this.active = false;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }
}
