//! Redaction: every secret value of a job replaced by the mask in what Sundial writes.
//!
//! One multi-pattern matcher (Aho-Corasick, leftmost-longest) per job. Output arrives in
//! pieces (pipe reads, response body chunks, a process printing a byte at a time), so the
//! stream form keeps back the shortest tail that could still become a secret: a secret split
//! across two reads is caught whole, and output that cannot be the start of a secret (a line
//! ending in `\n`, nearly always) is never held back, so followers see it at once.

use std::borrow::Cow;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::domain::{Job, SECRET_MASK, secrets};

/// The secrets of one job, ready to be masked in text. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    patterns: Option<Arc<Patterns>>,
}

struct Patterns {
    matcher: AhoCorasick,
    texts: Vec<Vec<u8>>,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values themselves.
        let count = self.patterns.as_ref().map_or(0, |p| p.texts.len());
        f.debug_struct("Redactor")
            .field("patterns", &count)
            .finish()
    }
}

impl Redactor {
    /// Masks nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Masks each value and the forms it commonly takes in output: the token of an
    /// `Authorization: Bearer <token>` value, each line of a multi-line value, the value as
    /// URL-encoded in a query string.
    pub fn new<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Self {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        let mut add = |text: &str| {
            let bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() && !texts.contains(&bytes) {
                texts.push(bytes);
            }
        };
        for value in values {
            let value = value.as_ref();
            if value.is_empty() {
                continue;
            }
            add(value);
            for form in derived_forms(value) {
                add(&form);
            }
        }
        if texts.is_empty() {
            return Self::none();
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&texts)
            .expect("a set of literal byte strings always builds");
        let longest = texts.iter().map(Vec::len).max().unwrap_or(0);
        Self {
            patterns: Some(Arc::new(Patterns {
                matcher,
                texts,
                longest,
            })),
        }
    }

    /// The secrets of a job (env values and headers marked secret).
    pub fn for_job(job: &Job) -> Self {
        Self::new(secrets::secret_values(&job.spec.kind))
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_none()
    }

    /// `text` with every secret replaced by the mask.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(p) = &self.patterns else {
            return Cow::Borrowed(text);
        };
        if p.matcher.find(text).is_none() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(
            p.matcher
                .replace_all(text, &vec![SECRET_MASK; p.texts.len()]),
        )
    }

    /// [`Redactor::redact`] for bytes.
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(p) = &self.patterns else {
            return Cow::Borrowed(bytes);
        };
        if p.matcher.find(bytes).is_none() {
            return Cow::Borrowed(bytes);
        }
        let mask = SECRET_MASK.as_bytes();
        Cow::Owned(
            p.matcher
                .replace_all_bytes(bytes, &vec![mask; p.texts.len()]),
        )
    }

    /// Whether `text` holds a secret.
    pub fn finds_in(&self, text: &str) -> bool {
        self.patterns
            .as_ref()
            .is_some_and(|p| p.matcher.find(text).is_some())
    }

    /// A redactor for one stream of output that arrives in pieces.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            patterns: self.patterns.clone(),
            carry: Vec::new(),
        }
    }
}

/// Other spellings of a secret that output commonly shows.
fn derived_forms(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let long_enough = |s: &str| s.chars().count() >= secrets::SECRET_MIN_CHARS;
    // "Bearer <token>", "Basic <credentials>", "Token <t>": the token alone.
    if let Some((scheme, token)) = value.split_once(' ')
        && !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphabetic())
        && long_enough(token.trim())
    {
        forms.push(token.trim().to_string());
    }
    // A multi-line value is written to the log a line at a time.
    if value.contains('\n') {
        for line in value.lines() {
            let line = line.trim_end_matches('\r');
            if long_enough(line) {
                forms.push(line.to_string());
            }
        }
    }
    // In a URL query or a form body: the value and its token, encoded.
    let mut encoded_forms = Vec::new();
    for plain in std::iter::once(value).chain(forms.iter().map(String::as_str)) {
        let encoded: String = url::form_urlencoded::byte_serialize(plain.as_bytes()).collect();
        if encoded != plain {
            let percent_space = encoded.replace('+', "%20");
            if percent_space != encoded {
                encoded_forms.push(percent_space);
            }
            encoded_forms.push(encoded);
        }
    }
    forms.extend(encoded_forms);
    forms
}

impl std::fmt::Debug for StreamRedactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamRedactor")
            .field("held", &self.carry.len())
            .finish()
    }
}

/// Redacts one stream of output fed in pieces; see the module documentation.
pub struct StreamRedactor {
    patterns: Option<Arc<Patterns>>,
    /// Bytes read but not passed on yet: they may be the start of a secret.
    carry: Vec<u8>,
}

impl StreamRedactor {
    /// Appends to `out` what of `data` (after what was held back) can be passed on, secrets
    /// masked.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let Some(p) = self.patterns.clone() else {
            out.extend_from_slice(data);
            return;
        };
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(data);
        let mut last = 0;
        for found in p.matcher.find_iter(&window) {
            // From `hold` on, the window may be the start of a (longer) secret: wait.
            if found.start() >= hold_from(&p, &window, last) {
                break;
            }
            out.extend_from_slice(&window[last..found.start()]);
            out.extend_from_slice(SECRET_MASK.as_bytes());
            last = found.end();
        }
        let hold = hold_from(&p, &window, last);
        out.extend_from_slice(&window[last..hold]);
        window.drain(..hold);
        self.carry = window;
    }

    /// The end of the stream: whatever was held back, secrets masked.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let carry = std::mem::take(&mut self.carry);
        match &self.patterns {
            Some(p) => {
                let mask = SECRET_MASK.as_bytes();
                out.extend_from_slice(
                    &p.matcher
                        .replace_all_bytes(&carry, &vec![mask; p.texts.len()]),
                )
            }
            None => out.extend_from_slice(&carry),
        }
    }

    /// Bytes held back now.
    pub fn held(&self) -> usize {
        self.carry.len()
    }
}

/// The first position at or after `from` where the rest of `window` is a proper prefix of a
/// secret (the window's length when there is none).
fn hold_from(p: &Patterns, window: &[u8], from: usize) -> usize {
    let start = from.max(window.len().saturating_sub(p.longest.saturating_sub(1)));
    for at in start..window.len() {
        let tail = &window[at..];
        if p.texts
            .iter()
            .any(|t| t.len() > tail.len() && t.starts_with(tail))
        {
            return at;
        }
    }
    window.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(redactor: &Redactor, pieces: &[&[u8]]) -> String {
        let mut stream = redactor.stream();
        let mut out = Vec::new();
        for piece in pieces {
            stream.feed(piece, &mut out);
        }
        stream.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_whole_values_in_text() {
        let r = Redactor::new(["hunter22", "Bearer tok-123456"]);
        assert_eq!(
            r.redact("pw=hunter22 auth=Bearer tok-123456 and tok-123456"),
            format!("pw={SECRET_MASK} auth={SECRET_MASK} and {SECRET_MASK}")
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn a_secret_split_across_pieces_is_caught() {
        let r = Redactor::new(["s3cr3t-value"]);
        let text = b"token: s3cr3t-value\nnext s3cr3t-value end\n";
        // Every split point, and one byte at a time.
        for cut in 0..text.len() {
            let out = streamed(&r, &[&text[..cut], &text[cut..]]);
            assert!(!out.contains("s3cr3t"), "cut {cut}: {out}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        let out = streamed(&r, &bytes);
        assert_eq!(
            out,
            format!("token: {SECRET_MASK}\nnext {SECRET_MASK} end\n")
        );
    }

    #[test]
    fn only_a_possible_start_of_a_secret_is_held_back() {
        let r = Redactor::new(["abcdef"]);
        let mut stream = r.stream();
        let mut out = Vec::new();
        stream.feed(b"line one\n", &mut out);
        assert_eq!(out, b"line one\n");
        assert_eq!(stream.held(), 0);
        stream.feed(b"x abc", &mut out);
        assert_eq!(out, b"line one\nx ");
        assert_eq!(stream.held(), 3);
        stream.feed(b"xyz\n", &mut out);
        assert_eq!(out, b"line one\nx abcxyz\n");
    }

    #[test]
    fn overlapping_secrets_mask_the_longest() {
        let r = Redactor::new(["abcd", "abcdefgh"]);
        for cut in 0..12 {
            let text = b"..abcdefgh..";
            let out = streamed(&r, &[&text[..cut], &text[cut..]]);
            assert_eq!(out, format!("..{SECRET_MASK}.."), "cut {cut}");
        }
        let r = Redactor::new(["zabc", "abcdefg"]);
        let text = b"zabcdefg";
        for cut in 0..text.len() {
            let out = streamed(&r, &[&text[..cut], &text[cut..]]);
            assert!(!out.contains("abc"), "cut {cut}: {out}");
        }
    }

    #[test]
    fn url_encoded_and_bearer_forms_are_masked() {
        let r = Redactor::new(["Bearer a b&c=d"]);
        assert_eq!(r.redact("?t=a+b%26c%3Dd"), format!("?t={SECRET_MASK}"));
        assert_eq!(r.redact("token a b&c=d"), format!("token {SECRET_MASK}"));
    }
}
