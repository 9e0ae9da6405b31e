import { memo } from "react";
import type { LogLine } from "../../bindings/LogLine";
import { markRanges, parseAnsi, styleProps } from "./ansi";
import { formatLineTime } from "./format";

/** Every row is this tall (Tailwind `leading-5`); a wrapped line takes a multiple of it. */
export const ROW_HEIGHT = 20;

const streamRow = {
  stdout: "border-transparent",
  stderr: "border-red-500 bg-red-50/70 dark:border-red-500 dark:bg-red-950/40",
  sundial: "border-sky-400/60 text-slate-500 italic dark:border-sky-500/50 dark:text-slate-400",
} as const;

interface RowProps {
  position: number;
  line: LogLine | undefined;
  /** Width of the line-number column in characters. */
  digits: number;
  wrap: boolean;
  showTime: boolean;
  selected: boolean;
  /** Search ranges in this line, when it matches. */
  ranges: ReadonlyArray<readonly [number, number]> | undefined;
  current: boolean;
  onSelect: (position: number, extend: boolean) => void;
}

/** One log line: gutter (number, time), a continuation mark, and its text with ANSI styles and
 * search matches. Memoized: scrolling by a line re-renders only the row that appears. */
export const LogRow = memo(function LogRow({ position, line, digits, wrap, showTime, selected, ranges, current, onSelect }: RowProps) {
  if (!line) {
    return (
      <div className="flex h-5 items-center pl-2" aria-hidden="true" data-testid="log-line-pending">
        <span className="h-2 w-2/5 max-w-md animate-pulse rounded bg-slate-200 dark:bg-slate-800" />
      </div>
    );
  }
  const segments = markRanges(parseAnsi(line.text), ranges ?? []);
  const gutterBg = selected
    ? "bg-sky-100 dark:bg-sky-900"
    : "bg-slate-50 dark:bg-slate-900";
  return (
    <div
      data-testid="log-line"
      data-line={line.number}
      data-position={position}
      data-stream={line.stream}
      data-selected={selected || undefined}
      data-current-match={current || undefined}
      className={
        "flex min-h-5 border-l-2 leading-5 " +
        streamRow[line.stream] +
        (selected ? " !bg-sky-100/80 dark:!bg-sky-900/60" : "") +
        (current ? " outline outline-1 -outline-offset-1 outline-orange-400" : "")
      }
    >
      <div className={`sticky left-0 z-10 flex shrink-0 self-stretch select-none ${gutterBg}`}>
        <button
          type="button"
          tabIndex={-1}
          aria-label={`Select line ${line.number + 1}`}
          aria-pressed={selected}
          onClick={(e) => onSelect(position, e.shiftKey)}
          className="cursor-pointer pr-2 pl-1 text-right text-slate-400 tabular-nums hover:text-slate-700 dark:text-slate-500 dark:hover:text-slate-200"
          style={{ width: `${digits + 2}ch` }}
        >
          {line.number + 1}
        </button>
        {showTime && (
          <span className="w-[13ch] shrink-0 pr-2 text-slate-400 tabular-nums dark:text-slate-500" data-testid="log-time">
            {formatLineTime(line.time)}
          </span>
        )}
      </div>
      <span
        className="w-4 shrink-0 text-center text-slate-400 select-none dark:text-slate-500"
        title={line.continued ? "Continues the previous line (it was too long for one record)" : undefined}
        aria-label={line.continued ? "continued" : undefined}
      >
        {line.continued ? "↪" : ""}
      </span>
      <span className={`pr-4 ${wrap ? "min-w-0 flex-1 break-all whitespace-pre-wrap" : "whitespace-pre"}`}>
        {segments.length === 0 ? " " : null}
        {segments.map((seg) => {
          const { className, style } = styleProps(seg.style);
          if (seg.mark) {
            return (
              <mark
                key={seg.start}
                data-testid={current ? "log-current-match" : "log-match"}
                className={
                  `rounded-sm ${className} ` +
                  (current
                    ? "bg-orange-400 text-black dark:bg-orange-500"
                    : "bg-yellow-200 text-inherit dark:bg-yellow-600/60")
                }
                style={style}
              >
                {seg.text}
              </mark>
            );
          }
          return className === "" && style.color === undefined && style.backgroundColor === undefined ? (
            <span key={seg.start}>{seg.text}</span>
          ) : (
            <span key={seg.start} className={className} style={style}>
              {seg.text}
            </span>
          );
        })}
      </span>
    </div>
  );
});
