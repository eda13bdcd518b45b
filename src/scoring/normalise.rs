//! Text normalisation applied before a model sees a post: exactly the rules training used
//! (`scripts/sentiment_common.py`, `normalise`), as written in `models/README.md`:
//!
//! 1. literal `\uXXXX` escapes become the character (lone surrogates stay as written);
//! 2. `&lt;`, `&gt;`, then `&amp;` are decoded;
//! 3. URLs (`https?://` up to the next whitespace, any case) become `http`;
//! 4. handles (`@` followed by letters, digits, `_`) become `@user`;
//! 5. runs of whitespace become one space, trimmed at both ends.

use std::sync::LazyLock;

use regex::Regex;

static ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\u([0-9A-Fa-f]{4})").expect("valid regex"));
static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)https?://\S+").expect("valid regex"));
static HANDLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"@[A-Za-z0-9_]+").expect("valid regex"));

/// Normalises a post's text the way the model saw its training data.
pub fn normalise(text: &str) -> String {
    let unescaped = ESCAPE.replace_all(text, |caps: &regex::Captures<'_>| {
        u32::from_str_radix(&caps[1], 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_else(|| caps[0].to_owned())
    });
    let decoded = unescaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let no_urls = URL.replace_all(&decoded, "http");
    let no_handles = HANDLE.replace_all(&no_urls, "@user");
    no_handles.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn follows_the_training_rules() {
        let cases = [
            ("@acme  your app\tis down https://t.co/x", "@user your app is down http"),
            ("it\\u2019s broken \\u002c again", "it’s broken , again"),
            ("lone \\ud800 surrogate stays", "lone \\ud800 surrogate stays"),
            ("a &lt;b&gt; &amp;amp;", "a <b> &amp;"),
            ("(see HTTPS://Example.com/x)", "(see http"),
            ("mail me at jo@example.com", "mail me at jo@user.com"),
            ("email me @ home", "email me @ home"),
            ("\u{3000}wide\u{a0}space ", "wide space"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise(input), expected, "normalising {input:?}");
        }
    }
}
