import { describe, expect, it } from "vitest";
import { markRanges, paletteColor, parseAnsi, stripAnsi, styleProps } from "./ansi";

const E = "\u001b";

describe("parseAnsi", () => {
  it("keeps plain text as one unstyled segment", () => {
    expect(parseAnsi("hello world")).toEqual([{ text: "hello world", start: 0, style: {} }]);
  });

  it("applies and resets SGR attributes", () => {
    const segs = parseAnsi(`a${E}[1;31mbold red${E}[0m plain`);
    expect(segs).toEqual([
      { text: "a", start: 0, style: {} },
      { text: "bold red", start: 8, style: { bold: true, fg: { kind: "index", n: 1 } } },
      { text: " plain", start: 20, style: {} },
    ]);
  });

  it("treats an empty SGR as reset and handles dim, italic, underline and their offs", () => {
    const segs = parseAnsi(`${E}[2;3;4mx${E}[22my${E}[23;24mz${E}[mw`);
    expect(segs.map((s) => s.style)).toEqual([
      { dim: true, italic: true, underline: true },
      { italic: true, underline: true },
      {},
      {},
    ]);
    expect(segs.map((s) => s.text).join("")).toBe("xyzw");
  });

  it("reads bright, 256-colour and truecolor foregrounds and backgrounds", () => {
    const [bright, indexed, rgb, bgs, defaults] = parseAnsi(
      `${E}[92ma${E}[38;5;208mb${E}[38;2;10;20;30mc${E}[48;5;17;101md${E}[39;49me`,
    );
    expect(bright?.style.fg).toEqual({ kind: "index", n: 10 });
    expect(indexed?.style.fg).toEqual({ kind: "index", n: 208 });
    expect(rgb?.style.fg).toEqual({ kind: "rgb", r: 10, g: 20, b: 30 });
    expect(bgs?.style.bg).toEqual({ kind: "index", n: 9 });
    expect(bgs?.style.fg).toEqual({ kind: "rgb", r: 10, g: 20, b: 30 });
    expect(defaults?.style).toEqual({});
  });

  it("reads the colon forms of extended colours", () => {
    const [a, b] = parseAnsi(`${E}[38:5:196ma${E}[48:2::1:2:3mb`);
    expect(a?.style.fg).toEqual({ kind: "index", n: 196 });
    expect(b?.style.bg).toEqual({ kind: "rgb", r: 1, g: 2, b: 3 });
  });

  it("strips other escape sequences and control characters", () => {
    const text = `${E}[2K${E}[1Gstart${E}]0;title\u0007 mid${E}]8;;http://x${E}\\ end\r${E}(B!`;
    expect(parseAnsi(text).map((s) => s.text).join("")).toBe("start mid end!");
    expect(stripAnsi(text)).toBe("start mid end!");
    expect(stripAnsi("tab\tkept")).toBe("tab\tkept");
  });

  it("survives a truncated sequence at the end of a line", () => {
    expect(stripAnsi(`ok${E}[31`)).toBe("ok");
    expect(stripAnsi(`ok${E}`)).toBe("ok");
  });
});

describe("markRanges", () => {
  it("maps raw ranges across escape codes onto the visible text", () => {
    // raw: "ab" + ESC[31m (5 chars) + "cd" + ESC[0m (4 chars) + "ef"
    const raw = `ab${E}[31mcd${E}[0mef`;
    const cStart = raw.indexOf("c");
    const eEnd = raw.indexOf("e") + 1;
    const marked = markRanges(parseAnsi(raw), [[1, cStart + 1], [eEnd - 1, eEnd]]);
    expect(marked.map((m) => [m.text, m.mark, m.style.fg?.kind === "index" ? m.style.fg.n : null])).toEqual([
      ["a", false, null],
      ["b", true, null],
      ["c", true, 1],
      ["d", false, 1],
      ["e", true, null],
      ["f", false, null],
    ]);
  });

  it("leaves segments unmarked without ranges", () => {
    expect(markRanges(parseAnsi("xyz"), [])).toEqual([{ text: "xyz", start: 0, style: {}, mark: false }]);
  });
});

describe("styleProps", () => {
  it("uses theme classes for the 16 colours and inline CSS for others", () => {
    expect(styleProps({ fg: { kind: "index", n: 1 }, bold: true }).className).toContain("font-bold");
    expect(styleProps({ fg: { kind: "index", n: 1 } }).className).toContain("text-red-700");
    expect(styleProps({ fg: { kind: "index", n: 196 } }).style.color).toBe("rgb(255, 0, 0)");
    expect(styleProps({ bg: { kind: "rgb", r: 1, g: 2, b: 3 } }).style.backgroundColor).toBe("rgb(1, 2, 3)");
    expect(paletteColor(232)).toBe("rgb(8, 8, 8)");
    expect(styleProps({})).toEqual({ className: "", style: {} });
  });
});
