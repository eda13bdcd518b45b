//! Text normalisation applied before a model sees a post: exactly the rules its training
//! used, chosen by the manifest's `normalisation_version` and written in `models/README.md`.
//!
//! Version 1 (`scripts/sentiment_common.py`, `normalise`; the sentiment-only model):
//! 1. literal `\uXXXX` escapes become the character (lone surrogates stay as written);
//! 2. `&lt;`, `&gt;`, then `&amp;` are decoded;
//! 3. URLs (`https?://` up to the next whitespace, any case) become `http`;
//! 4. handles (`@` followed by letters, digits, `_`) become `@user`;
//! 5. runs of whitespace become one space, trimmed at both ends.
//!
//! Version 2 (`scripts/text_rules.py`, `normalise_v2`; the complaint model) adds NFKC after
//! step 1 and, before step 5, names the emoji and symbols the vocabulary lacks, from the
//! Unicode Character Database (Unicode 17 on both sides; a fixture test checks that Rust and
//! Python agree). Nothing here is a hand-written emoji table.
//!
//! Must not: depend on the model's tokenizer beyond its one-character vocabulary entries.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

static ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\u([0-9A-Fa-f]{4})").expect("valid regex"));
static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)https?://\S+").expect("valid regex"));
static HANDLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"@[A-Za-z0-9_]+").expect("valid regex"));

/// The normalisation a model was trained with.
#[derive(Debug, Clone)]
pub struct Normaliser {
    version: u32,
    /// One-character vocabulary entries (version 2 keeps these symbols as they are).
    vocabulary_chars: HashSet<char>,
}

impl Normaliser {
    /// Version 1, which needs no vocabulary.
    pub fn v1() -> Normaliser {
        Normaliser {
            version: 1,
            vocabulary_chars: HashSet::new(),
        }
    }

    /// `version` 1 or 2; `vocabulary` is the lines of the model's `vocab.txt`.
    pub fn new<'a>(version: u32, vocabulary: impl IntoIterator<Item = &'a str>) -> Result<Normaliser, String> {
        if !(1..=2).contains(&version) {
            return Err(format!("unknown normalisation_version {version} (1 or 2)"));
        }
        let vocabulary_chars = vocabulary
            .into_iter()
            .filter_map(|entry| {
                let mut chars = entry.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            })
            .collect();
        Ok(Normaliser {
            version,
            vocabulary_chars,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Normalises a post's text the way the model saw its training data.
    pub fn normalise(&self, text: &str) -> String {
        let unescaped = ESCAPE.replace_all(text, |caps: &regex::Captures<'_>| {
            u32::from_str_radix(&caps[1], 16)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_else(|| caps[0].to_owned())
        });
        let folded: String = if self.version >= 2 {
            unescaped.nfkc().collect()
        } else {
            unescaped.into_owned()
        };
        let decoded = folded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        let no_urls = URL.replace_all(&decoded, "http");
        let no_handles = HANDLE.replace_all(&no_urls, "@user");
        let named = if self.version >= 2 {
            self.name_symbols(&no_handles)
        } else {
            no_handles.into_owned()
        };
        named.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Version 2, step 4: emoji and symbols the vocabulary lacks become their names.
    fn name_symbols(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 16);
        let mut last_name: Option<String> = None;
        for c in text.chars() {
            let code = u32::from(c);
            if is_dropped(code) {
                continue;
            }
            if c.is_whitespace() {
                out.push(c);
                continue;
            }
            let name = if (0x1F1E6..=0x1F1FF).contains(&code) {
                Some("flag".to_owned())
            } else if (0x2800..=0x28FF).contains(&code) {
                out.push(' ');
                last_name = None;
                continue;
            } else if is_symbol(c) && !self.vocabulary_chars.contains(&c) {
                match unicode_names2::name(c) {
                    Some(name) => Some(name.to_string().to_lowercase()),
                    None => {
                        out.push(' ');
                        last_name = None;
                        continue;
                    }
                }
            } else {
                None
            };
            match name {
                None => {
                    out.push(c);
                    last_name = None;
                }
                Some(name) => {
                    if last_name.as_deref() != Some(name.as_str()) {
                        out.push(' ');
                        out.push_str(&name);
                        out.push(' ');
                    }
                    last_name = Some(name);
                }
            }
        }
        out
    }
}

/// Zero-width joiner, variation selectors, the keycap mark, skin tones and tag characters.
fn is_dropped(code: u32) -> bool {
    matches!(code, 0x200D | 0xFE0E | 0xFE0F | 0x20E3)
        || (0x1F3FB..=0x1F3FF).contains(&code)
        || (0xE0020..=0xE007F).contains(&code)
}

/// General category Sm, Sc, Sk or So.
fn is_symbol(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::MathSymbol
            | GeneralCategory::CurrencySymbol
            | GeneralCategory::ModifierSymbol
            | GeneralCategory::OtherSymbol
    )
}

/// Version 1: the rules of the sentiment-only model.
pub fn normalise(text: &str) -> String {
    Normaliser::v1().normalise(text)
}

#[cfg(test)]
mod tests {
    use super::{Normaliser, normalise};

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

    #[test]
    fn version_2_names_emoji_and_symbols_the_vocabulary_lacks() {
        let v2 = Normaliser::new(2, ["$", "a", "##b"]).expect("version 2");
        let cases = [
            ("@acme 😡😡 😡 again", "@user pouting face again"),
            ("👍🏽 thanks", "thumbs up sign thanks"),
            ("refund $50 ⭐", "refund $50 white medium star"),
            ("flying 🇬🇧🇺🇸 home", "flying flag home"),
            ("𝐛𝐚𝐝 service", "bad service"),
            ("a ⠿⠿ b", "a b"),
            ("👨\u{200d}💻 help", "man personal computer help"),
        ];
        for (input, expected) in cases {
            assert_eq!(v2.normalise(input), expected, "normalising {input:?}");
        }
        assert_eq!(normalise("😡 bad"), "😡 bad", "version 1 leaves emoji alone");
        assert!(Normaliser::new(3, []).is_err());
    }
}
