// The log viewer's status line: how many lines (of a stream, of the whole log), the file's
// size, the lines on screen, the selection, and what went wrong or was done.
import type { Stream } from "../../bindings/Stream";
import { formatBytes, formatCount, plural } from "./format";

export interface StatusMessage {
  text: string;
  error?: boolean;
}

export function LogStatus({
  known,
  stream,
  total,
  allLines,
  bytes,
  shown,
  selected,
  readError,
  followError,
  message,
}: {
  /** The log's size is known (nothing about it is shown before). */
  known: boolean;
  stream: Stream | undefined;
  total: number;
  allLines: number;
  bytes: number;
  /** 1-based first and last lines on screen. */
  shown: [number, number];
  selected: number;
  readError: string | null;
  followError: string | null;
  message: StatusMessage | null;
}) {
  return (
    <footer className="flex flex-wrap items-center gap-x-4 gap-y-1 border-t border-slate-200 px-4 py-1.5 text-xs text-slate-600 dark:border-slate-800 dark:text-slate-400" data-testid="log-status">
      {known && (
        <>
          <span data-testid="log-line-count">{stream ? `${plural(total, `${stream} line`)} of ${plural(allLines, "line")}` : plural(total, "line")}</span>
          <span data-testid="log-size">{formatBytes(bytes)}</span>
          {total > 0 && (
            <span data-testid="log-range">
              Lines {formatCount(shown[0])}–{formatCount(shown[1])}
            </span>
          )}
          {selected > 0 && <span>{plural(selected, "line")} selected</span>}
        </>
      )}
      {readError && <span className="text-red-700 dark:text-red-400" role="alert">Could not read lines: {readError}</span>}
      {followError && <span className="text-red-700 dark:text-red-400" role="alert">Live updates stopped: {followError}</span>}
      {message && (
        <span className={message.error ? "text-red-700 dark:text-red-400" : "text-emerald-700 dark:text-emerald-400"} role={message.error ? "alert" : "status"} data-testid="log-message">
          {message.text}
        </span>
      )}
    </footer>
  );
}
