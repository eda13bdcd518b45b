//! The platform-neutral parts of a chat message: the `Summary` every platform shows, the
//! `UpdateOf` mark, CommonMark escaping (shared by the Markdown platforms) and cutting text
//! to a platform's limit on a character boundary. Each platform's markup lives in
//! `alerts::channels`. Pure: no IO.

use crate::domain::TaskId;

const ELLIPSIS: char = '…';

/// What every platform shows, before platform markup: a title, labelled facts, an optional
/// quote of the post and an optional link. Only `title` is earshot's own text.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub title: String,
    pub facts: Vec<(&'static str, String)>,
    pub quote: Option<String>,
    pub link: Option<String>,
    /// Red for critical or breached, amber otherwise (0xRRGGBB).
    pub color: u32,
}

/// An alert about a task that was already posted to the same channel, on a platform where
/// earshot can neither edit nor thread (`channels::Capabilities`): the new message says
/// which task it updates and when that task was first posted, so readers connect the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateOf {
    pub task_id: TaskId,
    pub first_sent_at_ms: i64,
}

/// CommonMark (Mattermost, Teams, Discord): backslash-escape markup, and break `@` mentions
/// with a zero-width space so `@channel`, `@all` or `@someone` do not notify.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            // Brackets cover links (`[text](url)`, `![img](url)`); `-`, `+` and `(` only matter
            // next to them or at a line start, and escaping them would show in some clients.
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '|' | '~' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            _ => out.push(c),
        }
    }
    out
}

/// `&`, `<`, `>` and, when `quote` is set, `"` as HTML entities (Slack mrkdwn, Google Chat).
pub(crate) fn escape_entities(text: &str, quote: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// At most `max` characters; a cut text ends with `…`.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    if max > 0 {
        out.push(ELLIPSIS);
    }
    out
}

/// At most `max` bytes of UTF-8, cut on a character boundary; a cut text ends with `…`.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(ELLIPSIS.len_utf8());
    let mut end = budget;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    if max >= ELLIPSIS.len_utf8() {
        out.push(ELLIPSIS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_on_char_boundaries_and_marks_the_cut() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        let cut = truncate_bytes("ééééé", 6);
        assert!(cut.len() <= 6, "{cut}");
        assert_eq!(cut, "é…");
        assert_eq!(truncate_bytes("abc", 3), "abc");
    }
}
