//! Text search over mentions and over the posts of tasks: what a search term may be, and the
//! folded text it is matched against (author handle, author name and post text, lower-cased
//! the same way on every backend).

use std::fmt;

/// Longest search term accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Separates the parts of a post's search text. Post text and names never contain control
/// characters (`Post::new` removes them) and neither may a search term, so a term cannot
/// match across the boundary between handle, name and text.
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// A validated, lower-cased search term: 1 to `MAX_SEARCH_CHARS` characters after trimming,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

/// Why a search term was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    #[error("q is empty")]
    Empty,
    #[error("q is longer than {MAX_SEARCH_CHARS} characters")]
    TooLong,
    #[error("q contains control characters")]
    ControlCharacters,
}

impl SearchTerm {
    pub fn parse(value: &str) -> Result<SearchTerm, SearchTermError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(SearchTermError::Empty);
        }
        if trimmed.chars().count() > MAX_SEARCH_CHARS {
            return Err(SearchTermError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(SearchTermError::ControlCharacters);
        }
        Ok(SearchTerm(fold(trimmed)))
    }

    /// The lower-cased term.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SearchTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Unicode lower case: what both the stored search text and the term are folded with.
fn fold(value: &str) -> String {
    value.to_lowercase()
}

/// The text a post is searched by: handle, name and text, folded, joined by
/// `SEARCH_SEPARATOR`.
pub fn search_text(author_handle: &str, author_name: Option<&str>, text: &str) -> String {
    let mut out = fold(author_handle);
    out.push(SEARCH_SEPARATOR);
    out.push_str(&fold(author_name.unwrap_or_default()));
    out.push(SEARCH_SEPARATOR);
    out.push_str(&fold(text));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_trimmed_folded_and_bounded() {
        assert_eq!(SearchTerm::parse("  ÜBER Bag ").unwrap().as_str(), "über bag");
        assert_eq!(SearchTerm::parse(" \t "), Err(SearchTermError::Empty));
        assert_eq!(
            SearchTerm::parse(&"x".repeat(MAX_SEARCH_CHARS + 1)),
            Err(SearchTermError::TooLong)
        );
        assert!(
            SearchTerm::parse(&"é".repeat(MAX_SEARCH_CHARS)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(SearchTerm::parse("a\u{1f}b"), Err(SearchTermError::ControlCharacters));
    }

    #[test]
    fn search_text_folds_every_part_and_keeps_them_apart() {
        let text = search_text("@Jo", Some("Jo SMITH"), "Ärger mit dem Gepäck");
        assert_eq!(text, "@jo\u{1f}jo smith\u{1f}ärger mit dem gepäck");
        let term = SearchTerm::parse("ÄRGER").unwrap();
        assert!(text.contains(term.as_str()));
        assert!(!text.contains("smithärger"), "parts never run together");
        assert_eq!(search_text("@x", None, "hi"), "@x\u{1f}\u{1f}hi");
    }
}
