// A pure parser for the ANSI escape sequences programs write to their output. SGR sequences
// (colours, bold, …) become styled segments; every other escape sequence is dropped. Each
// segment remembers where its text starts in the raw line, so search ranges (which index the
// raw text, escape codes included) can be laid on top.

/** A colour: one of the 256 palette entries, or a 24-bit colour. */
export type AnsiColor = { kind: "index"; n: number } | { kind: "rgb"; r: number; g: number; b: number };

export interface AnsiStyle {
  fg?: AnsiColor;
  bg?: AnsiColor;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
  strike?: boolean;
}

export interface AnsiSegment {
  text: string;
  /** Index in the raw text of `text[0]`; the segment's characters are contiguous there. */
  start: number;
  style: AnsiStyle;
}

export interface MarkedSegment extends AnsiSegment {
  /** Part of a search match. */
  mark: boolean;
}

const ESC = "\u001b";

function isEmptyStyle(style: AnsiStyle): boolean {
  return Object.keys(style).length === 0;
}

/** Reads one extended colour (after 38/48) from `params` at `i`; returns it and how many
 * parameters it used. */
function extendedColor(params: number[], i: number): [AnsiColor | undefined, number] {
  const mode = params[i];
  if (mode === 5) {
    const n = params[i + 1];
    if (n === undefined || n < 0 || n > 255) return [undefined, 2];
    return [{ kind: "index", n }, 2];
  }
  if (mode === 2) {
    const [r, g, b] = [params[i + 1], params[i + 2], params[i + 3]];
    if (r === undefined || g === undefined || b === undefined) return [undefined, 4];
    const clamp = (v: number) => Math.max(0, Math.min(255, v));
    return [{ kind: "rgb", r: clamp(r), g: clamp(g), b: clamp(b) }, 4];
  }
  return [undefined, 1];
}

/** Applies an SGR parameter string ("1;31", "38;5;208", "38:2::1:2:3", "") to a style. */
export function applySgr(style: AnsiStyle, paramText: string): AnsiStyle {
  let next: AnsiStyle = { ...style };
  const groups = paramText === "" ? [""] : paramText.split(";");
  // Colon sub-parameters ("38:5:208", "38:2::r:g:b" with an optional colour space id) are
  // flattened into the same list as their semicolon forms.
  const params: number[] = [];
  for (const group of groups) {
    if (group.includes(":")) {
      const parts = group.split(":");
      if ((parts[0] === "38" || parts[0] === "48") && parts[1] === "2" && parts.length >= 6) parts.splice(2, 1);
      for (const p of parts) params.push(p === "" ? 0 : Number(p));
    } else {
      params.push(group === "" ? 0 : Number(group));
    }
  }
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === undefined || Number.isNaN(p)) continue;
    if (p === 0) {
      next = {};
    } else if (p === 1) next.bold = true;
    else if (p === 2) next.dim = true;
    else if (p === 3) next.italic = true;
    else if (p === 4) next.underline = true;
    else if (p === 7) next.inverse = true;
    else if (p === 9) next.strike = true;
    else if (p === 21 || p === 22) {
      delete next.bold;
      delete next.dim;
    } else if (p === 23) delete next.italic;
    else if (p === 24) delete next.underline;
    else if (p === 27) delete next.inverse;
    else if (p === 29) delete next.strike;
    else if (p >= 30 && p <= 37) next.fg = { kind: "index", n: p - 30 };
    else if (p >= 90 && p <= 97) next.fg = { kind: "index", n: p - 90 + 8 };
    else if (p === 39) delete next.fg;
    else if (p >= 40 && p <= 47) next.bg = { kind: "index", n: p - 40 };
    else if (p >= 100 && p <= 107) next.bg = { kind: "index", n: p - 100 + 8 };
    else if (p === 49) delete next.bg;
    else if (p === 38 || p === 48) {
      const [color, used] = extendedColor(params, i + 1);
      if (color) {
        if (p === 38) next.fg = color;
        else next.bg = color;
      }
      i += used;
    }
  }
  return next;
}

/** Finds the end (exclusive) of the escape sequence starting at `i` (text[i] is ESC), and the
 * SGR parameters when it is one. */
function escapeAt(text: string, i: number): { end: number; sgr?: string } {
  const kind = text[i + 1];
  if (kind === undefined) return { end: i + 1 };
  if (kind === "[") {
    // CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
    let j = i + 2;
    while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x3f) j++;
    const params = text.slice(i + 2, j);
    while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
    if (j >= text.length) return { end: text.length };
    const final = text.charCodeAt(j);
    if (final < 0x40 || final > 0x7e) return { end: j };
    const sgr = text[j] === "m" && j === i + 2 + params.length && /^[0-9;:]*$/.test(params) ? params : undefined;
    return sgr === undefined ? { end: j + 1 } : { end: j + 1, sgr };
  }
  if (kind === "]" || kind === "P" || kind === "_" || kind === "^" || kind === "X") {
    // OSC / DCS / APC / PM / SOS: up to BEL or ST (ESC \).
    for (let j = i + 2; j < text.length; j++) {
      if (text[j] === "\u0007") return { end: j + 1 };
      if (text[j] === ESC && text[j + 1] === "\\") return { end: j + 2 };
    }
    return { end: text.length };
  }
  // Two-character escapes (ESC 7, ESC =, ESC ( B …): drop ESC, any intermediates, and the final.
  let j = i + 1;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  return { end: Math.min(j + 1, text.length) };
}

/** Splits a raw line into styled segments, without the escape sequences. Carriage returns
 * and other C0 controls (except tab) are dropped too. */
export function parseAnsi(text: string): AnsiSegment[] {
  const segments: AnsiSegment[] = [];
  let style: AnsiStyle = {};
  let runStart = 0;
  let run = "";
  const flush = (nextStart: number) => {
    if (run !== "") segments.push({ text: run, start: runStart, style });
    run = "";
    runStart = nextStart;
  };
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 0x1b) {
      const { end, sgr } = escapeAt(text, i);
      flush(end);
      if (sgr !== undefined) style = applySgr(style, sgr);
      i = end;
    } else if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      flush(i + 1);
      i += 1;
    } else {
      if (run === "") runStart = i;
      run += text[i];
      i += 1;
    }
  }
  flush(text.length);
  return segments;
}

/** The line without escape sequences, as a person reads it (for copying). */
export function stripAnsi(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) plain = false;
  }
  if (plain) return text;
  return parseAnsi(text)
    .map((s) => s.text)
    .join("");
}

/** Lays search `ranges` ([start, end) in the raw text) over segments, splitting them where a
 * range starts or ends. */
export function markRanges(segments: AnsiSegment[], ranges: ReadonlyArray<readonly [number, number]>): MarkedSegment[] {
  if (ranges.length === 0) return segments.map((s) => ({ ...s, mark: false }));
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: MarkedSegment[] = [];
  for (const seg of segments) {
    const segEnd = seg.start + seg.text.length;
    let pos = seg.start;
    for (const [rs, re] of sorted) {
      if (re <= pos || rs >= segEnd) continue;
      const from = Math.max(rs, pos);
      const to = Math.min(re, segEnd);
      if (from > pos) out.push({ text: seg.text.slice(pos - seg.start, from - seg.start), start: pos, style: seg.style, mark: false });
      out.push({ text: seg.text.slice(from - seg.start, to - seg.start), start: from, style: seg.style, mark: true });
      pos = to;
    }
    if (pos < segEnd) out.push({ text: seg.text.slice(pos - seg.start), start: pos, style: seg.style, mark: false });
  }
  return out;
}

// The 16 basic colours as theme-aware classes (readable on the light and the dark background).
const FG_CLASSES = [
  "text-slate-900 dark:text-slate-500",
  "text-red-700 dark:text-red-400",
  "text-green-700 dark:text-green-400",
  "text-yellow-700 dark:text-yellow-300",
  "text-blue-700 dark:text-blue-400",
  "text-fuchsia-700 dark:text-fuchsia-400",
  "text-cyan-700 dark:text-cyan-400",
  "text-slate-500 dark:text-slate-200",
  "text-slate-600 dark:text-slate-400",
  "text-red-600 dark:text-red-300",
  "text-green-600 dark:text-green-300",
  "text-yellow-600 dark:text-yellow-200",
  "text-blue-600 dark:text-blue-300",
  "text-fuchsia-600 dark:text-fuchsia-300",
  "text-cyan-600 dark:text-cyan-300",
  "text-slate-400 dark:text-white",
] as const;

const BG_CLASSES = [
  "bg-slate-900 dark:bg-black",
  "bg-red-200 dark:bg-red-900",
  "bg-green-200 dark:bg-green-900",
  "bg-yellow-200 dark:bg-yellow-900",
  "bg-blue-200 dark:bg-blue-900",
  "bg-fuchsia-200 dark:bg-fuchsia-900",
  "bg-cyan-200 dark:bg-cyan-900",
  "bg-slate-200 dark:bg-slate-600",
  "bg-slate-400 dark:bg-slate-700",
  "bg-red-300 dark:bg-red-700",
  "bg-green-300 dark:bg-green-700",
  "bg-yellow-300 dark:bg-yellow-700",
  "bg-blue-300 dark:bg-blue-700",
  "bg-fuchsia-300 dark:bg-fuchsia-700",
  "bg-cyan-300 dark:bg-cyan-700",
  "bg-white dark:bg-slate-300",
] as const;

/** The xterm 256-colour palette entry `n` (16–255) as CSS. */
export function paletteColor(n: number): string {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const level = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
}

function colorCss(color: AnsiColor): string {
  return color.kind === "rgb" ? `rgb(${color.r}, ${color.g}, ${color.b})` : paletteColor(color.n);
}

/** Class names and inline style for a segment's style. */
export function styleProps(style: AnsiStyle): { className: string; style: { color?: string; backgroundColor?: string } } {
  if (isEmptyStyle(style)) return { className: "", style: {} };
  const classes: string[] = [];
  const css: { color?: string; backgroundColor?: string } = {};
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    [fg, bg] = [bg ?? { kind: "index", n: 7 }, fg ?? { kind: "index", n: 0 }];
  }
  if (fg) {
    if (fg.kind === "index" && fg.n < 16) classes.push(FG_CLASSES[fg.n] ?? "");
    else css.color = colorCss(fg);
  }
  if (bg) {
    if (bg.kind === "index" && bg.n < 16) classes.push(BG_CLASSES[bg.n] ?? "");
    else css.backgroundColor = colorCss(bg);
  }
  if (style.bold) classes.push("font-bold");
  if (style.dim) classes.push("opacity-60");
  if (style.italic) classes.push("italic");
  if (style.underline && style.strike) classes.push("[text-decoration-line:underline_line-through]");
  else if (style.underline) classes.push("underline");
  else if (style.strike) classes.push("line-through");
  return { className: classes.join(" "), style: css };
}
