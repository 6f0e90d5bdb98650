//! Messages for the people on the other end: every refusal says what is wrong in Japanese and in English.

use std::fmt;

/// A message to a client, in Japanese (`ja`, shown first to offices) and English (`en`, for vendors' logs).
///
/// Client-supplied text quoted in a message goes through [`clip`] first, so that a message never grows with
/// the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub ja: String,
    pub en: String,
}

impl Message {
    /// A message from its Japanese and English texts.
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Message {
        Message {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

impl fmt::Display for Message {
    /// The English text (logs and `Display` of errors).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// Longest client-supplied text quoted in a message, an event or a log line, in characters.
pub const QUOTE_CHARS: usize = 64;

/// `s` cut to [`QUOTE_CHARS`] characters (with `…` when cut) and with control characters escaped, for quoting
/// client-supplied text in messages, events and logs.
pub fn clip(s: &str) -> String {
    clip_to(s, QUOTE_CHARS)
}

/// Like [`clip`] with a limit of `max` characters.
///
/// The limit counts the characters shown, escapes included: a control character written as `\u{1c}` counts six.
pub fn clip_to(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut shown = 0;
    for c in s.chars() {
        let width = if c.is_control() {
            c.escape_default().count()
        } else {
            1
        };
        if shown + width > max {
            out.push('…');
            break;
        }
        shown += width;
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_control_characters_count_as_shown() {
        // Found by fuzzing `upload`: 480 control characters quoted as `\u{1c}` each overran a refusal's bound.
        let controls = "\u{1c}".repeat(480);
        let c = clip(&controls);
        assert!(
            c.chars().count() <= QUOTE_CHARS + 1,
            "{} characters",
            c.chars().count()
        );
        assert!(c.starts_with("\\u{1c}") && c.ends_with('…'), "{c}");
    }

    #[test]
    fn clip_bounds_and_escapes() {
        assert_eq!(clip("abc"), "abc");
        let long = "あ".repeat(10_000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), QUOTE_CHARS + 1);
        assert!(c.ends_with('…'));
        assert_eq!(clip("a\0b\nc"), "a\\u{0}b\\nc");
    }
}
