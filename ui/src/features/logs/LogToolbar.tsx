// The log viewer's toolbar sections: the search box, the stream filter, the display toggles,
// go to line, and the jump / follow / copy buttons.
import { useState, type FormEvent, type RefObject } from "react";
import type { Stream } from "../../bindings/Stream";
import { inputClass } from "../../components/Button";
import type { LogSearchState } from "./useLogSearch";
import { iconButton, toggleClass } from "./styles";

export function SearchBox({ search, inputRef }: { search: LogSearchState; inputRef: RefObject<HTMLInputElement | null> }) {
  const { query, setQuery, regex, caseSensitive, snapshot, typing, searching, matchText, goMatch } = search;
  return (
    <div className="flex items-center gap-1" role="search">
      <input
        ref={inputRef}
        type="search"
        placeholder="Search log"
        aria-label="Search log"
        data-testid="log-search"
        value={query}
        spellCheck={false}
        aria-invalid={snapshot.status === "error" && !typing}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            goMatch(e.shiftKey ? -1 : 1);
          } else if (e.key === "Escape" && query !== "") {
            e.preventDefault();
            setQuery("");
          }
        }}
        className={`${inputClass} !w-56 !py-1 font-mono`}
      />
      <button type="button" className={toggleClass(regex)} aria-pressed={regex} onClick={search.toggleRegex} title="Use a regular expression">
        Regex
      </button>
      <button type="button" className={toggleClass(caseSensitive)} aria-pressed={caseSensitive} onClick={search.toggleCase} title="Match upper and lower case exactly">
        Match case
      </button>
      <button type="button" className={iconButton} aria-label="Previous match" title="Previous match (Shift+Enter, Shift+F3)" data-testid="log-prev-match" disabled={query === ""} onClick={() => goMatch(-1)}>
        ↑
      </button>
      <button type="button" className={iconButton} aria-label="Next match" title="Next match (Enter, F3)" data-testid="log-next-match" disabled={query === ""} onClick={() => goMatch(1)}>
        ↓
      </button>
      <span className="inline-flex min-w-20 items-center gap-1.5 text-xs text-slate-600 tabular-nums dark:text-slate-300" data-testid="log-match-count" aria-live="polite">
        {searching && <span className="size-3 animate-spin rounded-full border-2 border-slate-300 border-t-sky-600" aria-hidden="true" />}
        {matchText}
      </span>
      {snapshot.status === "error" && !typing && query !== "" && (
        <span role="alert" className="max-w-sm truncate text-xs text-red-700 dark:text-red-400" title={snapshot.error ?? undefined} data-testid="log-search-error">
          {snapshot.error}
        </span>
      )}
    </div>
  );
}

const STREAMS: Array<[Stream | undefined, string]> = [
  [undefined, "All"],
  ["stdout", "stdout"],
  ["stderr", "stderr"],
];

export function StreamFilter({ stream, onChange }: { stream: Stream | undefined; onChange: (stream: Stream | undefined) => void }) {
  return (
    <div role="group" aria-label="Stream" className="ml-2 inline-flex overflow-hidden rounded-md border border-slate-300 dark:border-slate-600">
      {STREAMS.map(([value, label]) => (
        <button
          key={label}
          type="button"
          aria-pressed={stream === value}
          onClick={() => onChange(value)}
          className={
            "px-2 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600 " +
            (stream === value
              ? "bg-sky-600 text-white"
              : "bg-white text-slate-700 hover:bg-slate-50 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700")
          }
        >
          {label}
        </button>
      ))}
    </div>
  );
}

export function Toggle({ on, onToggle, children }: { on: boolean; onToggle: () => void; children: string }) {
  return (
    <button type="button" className={toggleClass(on)} aria-pressed={on} onClick={onToggle}>
      {children}
    </button>
  );
}

/** "Go to line": a 1-based line number; `onGo` gets it, or an error to show. */
export function GoToLine({ inputRef, onGo, onError }: { inputRef: RefObject<HTMLInputElement | null>; onGo: (line: number) => void; onError: (text: string) => void }) {
  const [text, setText] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(text.replace(/[\s,]/g, ""));
    if (!Number.isInteger(n) || n < 1) {
      onError("Enter a line number (1 or more)");
      return;
    }
    onGo(n);
  };
  return (
    <form className="flex items-center gap-1" onSubmit={submit}>
      <input
        ref={inputRef}
        inputMode="numeric"
        placeholder="Go to line"
        aria-label="Go to line"
        data-testid="log-goto"
        value={text}
        onChange={(e) => setText(e.target.value)}
        className={`${inputClass} !w-28 !py-1`}
      />
      <button type="submit" className={iconButton}>
        Go
      </button>
    </form>
  );
}

export function JumpAndCopy({
  live,
  pinned,
  copyLabel,
  canCopy,
  onStart,
  onEnd,
  onFollow,
  onCopy,
}: {
  live: boolean;
  pinned: boolean;
  copyLabel: string;
  canCopy: boolean;
  onStart: () => void;
  onEnd: () => void;
  onFollow: () => void;
  onCopy: () => void;
}) {
  return (
    <div className="ml-auto flex items-center gap-1">
      <button type="button" className={iconButton} aria-label="Jump to start" title="Jump to start (Ctrl+Home)" onClick={onStart}>
        ⤒ Start
      </button>
      <button type="button" className={iconButton} aria-label="Jump to end" title="Jump to end (Ctrl+End)" onClick={onEnd}>
        ⤓ End
      </button>
      {live && (
        <button type="button" className={toggleClass(pinned)} aria-pressed={pinned} data-testid="log-follow" title="Keep showing the newest lines" onClick={onFollow}>
          Follow
        </button>
      )}
      <button type="button" className={iconButton} onClick={onCopy} disabled={!canCopy} data-testid="log-copy">
        {copyLabel}
      </button>
    </div>
  );
}
