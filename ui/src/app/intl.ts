const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * A date formatter for the user's locale, made once per set of options. Making one costs far
 * more than formatting with it (`toLocaleString(undefined, options)` makes one per call), and a
 * timeline of thousands of bars or a year of calendar days formats every one of them.
 */
export function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(options);
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(undefined, options);
    formats.set(key, format);
  }
  return format;
}
