//! Which posts are mentions of a brand: keywords and handles, minus exclusions and the
//! brand's own posts.
//!
//! A post's text is folded once (lowercase, diacritics removed by NFKD, curly apostrophes
//! made straight) and cut into tokens: words, `#hashtags` and `@mentions`. One Aho-Corasick
//! pass over that token string finds every brand's keywords, exclusions and handles at once
//! (`BrandMatcher::for_brands`), and each hit is then checked against these rules:
//!
//! * **Whole words.** A keyword matches whole words only: `acme` is not in "acmeville". A
//!   possessive `'s` (straight or curly) is not part of a word, so "Acme Air's" and "Acme’s"
//!   match `acme air` and `acme`; other apostrophes stay ("don't").
//! * **Variants.** `-`, `_` and spaces separate words, and a keyword of several words also
//!   matches with its words glued: `acme air` matches "acme-air", "Acme_Air" and "AcmeAir".
//!   Case and diacritics never matter ("ÁCMÉ air").
//! * **Hashtags.** A hashtag is one glued word: `#AcmeAir` matches `acme air`. A keyword also
//!   matches at the **start or end of a hashtag** (`#acmeairfail`, `#boycottacmeair`): tags
//!   glue words together, so this is how complaints tag brands. Only for keywords of at
//!   least four characters (`ee` is not in `#coffee`). The price: `#acmeville` matches
//!   `acme`; list `acmeville` in `exclude` if that is someone else.
//! * **Handles.** A brand handle matches as `@name` (also `@name@server`, a remote Mastodon
//!   mention, for a handle not bound to a server) and without its `@`, like a keyword
//!   ("AcmeAir is down again"). A handle with a server or domain (`acmeair.bsky.social`)
//!   matches without `@` only whole. `@acmeairfan` is someone else.
//! * **Exclusions** follow the keyword rules; one in a post makes it `Excluded` for that
//!   brand.
//! * **Own posts** are told by the author, as each connector stores authors (`OwnAccount`).

use aho_corasick::AhoCorasick;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::config::BrandSettings;
use crate::domain::{Platform, Post};

/// Why a post was not taken as a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mention,
    /// Written by one of the brand's own accounts.
    OwnPost,
    /// Matched an exclusion phrase.
    Excluded,
    /// No keyword or handle of the brand in it.
    Unrelated,
}

/// One or more brands' keywords, handles and exclusions, prepared for matching in one pass
/// per post.
#[derive(Debug, Clone)]
pub struct BrandMatcher {
    brands: Vec<BrandRules>,
    /// Every brand's patterns; `None` when there are none.
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern: its shape and the brands it belongs to.
    patterns: Vec<Pattern>,
}

/// What a brand needs beyond its patterns.
#[derive(Debug, Clone)]
struct BrandRules {
    /// The `@name` forms, lowercased.
    handles: Vec<String>,
    own_accounts: Vec<OwnAccount>,
}

#[derive(Debug, Clone)]
struct Pattern {
    shape: Shape,
    owners: Vec<(usize, Role)>,
}

/// How a pattern must sit in the token string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Words separated by single spaces (a keyword, an exclusion, a handle without `@`).
    Words {
        /// One word of at least `MIN_GLUED_CHARS`: it may be glued to a hashtag's start or
        /// end.
        gluable: bool,
    },
    /// `@name`: a whole mention token.
    Handle { has_server: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Mention,
    Exclude,
}

/// One of the brand's own accounts, from a `handles` entry: `@AcmeAir` on any platform, or
/// `platform:name` on one (`reddit:u/AcmeAir`, `youtube:UC…` for a channel id,
/// `bluesky:acmeair.bsky.social`, `mastodon:acmeair@mastodon.social`).
#[derive(Debug, Clone, PartialEq)]
struct OwnAccount {
    platform: Option<Platform>,
    /// `account_name` of the entry.
    name: String,
}

impl OwnAccount {
    fn parse(entry: &str) -> OwnAccount {
        let entry = entry.trim();
        let on_platform = entry
            .split_once(':')
            .and_then(|(prefix, name)| Some((prefix.parse::<Platform>().ok()?, name)));
        match on_platform {
            Some((platform, name)) => OwnAccount {
                platform: Some(platform),
                name: account_name(name),
            },
            None => OwnAccount {
                platform: None,
                name: account_name(entry),
            },
        }
    }

    /// Whether this account is `author` (an `account_name`) on `platform`.
    fn is(&self, platform: Platform, author: &str) -> bool {
        self.platform.is_none_or(|own| own == platform) && self.name == author
    }
}

/// An account name as the connectors store authors, compared case-insensitively: without
/// the leading `@` (X, Bluesky, Mastodon) or `u/` (Reddit). A Mastodon account on another
/// server keeps its `@server`, so `@acme` on one server is not `@acme@other.social`.
fn account_name(handle: &str) -> String {
    let lower = handle.trim().to_lowercase();
    let name = lower.trim_start_matches('@');
    let name = name
        .strip_prefix("/u/")
        .or_else(|| name.strip_prefix("u/"))
        .unwrap_or(name);
    name.to_owned()
}

impl BrandMatcher {
    /// A matcher for one brand.
    pub fn new(brand: &BrandSettings) -> BrandMatcher {
        BrandMatcher::for_brands(std::slice::from_ref(brand))
    }

    /// A matcher for several brands at once: `verdicts` answers for all of them in one pass.
    pub fn for_brands(brands: &[BrandSettings]) -> BrandMatcher {
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut add = |text: String, shape: Shape, owner: (usize, Role)| {
            if text.is_empty() {
                return;
            }
            let id = *index.entry(text.clone()).or_insert_with(|| {
                texts.push(text);
                patterns.push(Pattern { shape, owners: vec![] });
                patterns.len() - 1
            });
            if !patterns[id].owners.contains(&owner) {
                patterns[id].owners.push(owner);
            }
        };
        let mut rules = Vec::with_capacity(brands.len());
        for (b, brand) in brands.iter().enumerate() {
            let own_accounts: Vec<OwnAccount> = brand
                .handles
                .iter()
                .map(|entry| OwnAccount::parse(entry))
                .filter(|account| !account.name.is_empty())
                .collect();
            let mut handles: Vec<String> = own_accounts
                .iter()
                .map(|account| format!("@{}", account.name))
                .collect();
            handles.sort();
            handles.dedup();
            for handle in &handles {
                let folded: String = fold(handle).collect();
                let has_server = folded[1..].contains(['@', '.']);
                add(folded, Shape::Handle { has_server }, (b, Role::Mention));
                // Without its `@`: a plain name like a keyword; one with a server or domain
                // only whole (`support.acme.com` must not match "support").
                let bare = &handle[1..];
                let phrase = phrase_words(bare);
                if has_server {
                    add(phrase.join(" "), Shape::Words { gluable: false }, (b, Role::Mention));
                } else {
                    for (text, shape) in phrase_patterns(&phrase) {
                        add(text, shape, (b, Role::Mention));
                    }
                }
            }
            for (list, role) in [(&brand.keywords, Role::Mention), (&brand.exclude, Role::Exclude)] {
                for phrase in list {
                    for (text, shape) in phrase_patterns(&phrase_words(phrase)) {
                        add(text, shape, (b, role));
                    }
                }
            }
            rules.push(BrandRules { handles, own_accounts });
        }
        let automaton = (!texts.is_empty())
            .then(|| AhoCorasick::new(&texts).expect("brand patterns are small enough for an automaton"));
        BrandMatcher {
            brands: rules,
            automaton,
            patterns,
        }
    }

    /// The (first) brand's handles, lowercased with a leading `@`.
    pub fn handles(&self) -> &[String] {
        self.brands.first().map_or(&[], |b| &b.handles)
    }

    /// Like `verdict`; without `match_keywords`, a post without a keyword or handle is a
    /// mention too (the source's content is about the brand already).
    pub fn verdict_for(&self, post: &Post, match_keywords: bool) -> Verdict {
        match self.verdict(post) {
            Verdict::Unrelated if !match_keywords => Verdict::Mention,
            verdict => verdict,
        }
    }

    /// The (first) brand's verdict on `post`.
    pub fn verdict(&self, post: &Post) -> Verdict {
        self.verdicts(post).first().copied().unwrap_or(Verdict::Unrelated)
    }

    /// Every brand's verdict on `post`, in the order the brands were given, from one pass
    /// over its text.
    pub fn verdicts(&self, post: &Post) -> Vec<Verdict> {
        #[derive(Clone, Copy, Default)]
        struct Hits {
            mention: bool,
            excluded: bool,
        }
        let mut hits = vec![Hits::default(); self.brands.len()];
        if let Some(automaton) = &self.automaton {
            let tokens = tokens(&post.text);
            for hit in automaton.find_overlapping_iter(&tokens) {
                let pattern = &self.patterns[hit.pattern().as_usize()];
                if !sits_right(&tokens, hit.start(), hit.end(), pattern.shape) {
                    continue;
                }
                for &(brand, role) in &pattern.owners {
                    match role {
                        Role::Mention => hits[brand].mention = true,
                        Role::Exclude => hits[brand].excluded = true,
                    }
                }
            }
        }
        let author = account_name(&post.author_handle);
        self.brands
            .iter()
            .zip(hits)
            .map(|(brand, hits)| {
                if brand
                    .own_accounts
                    .iter()
                    .any(|account| account.is(post.platform, &author))
                {
                    Verdict::OwnPost
                } else if hits.excluded {
                    Verdict::Excluded
                } else if hits.mention {
                    Verdict::Mention
                } else {
                    Verdict::Unrelated
                }
            })
            .collect()
    }
}

/// `text` lowercased, diacritics removed (NFKD, combining marks dropped), and curly or
/// full-width apostrophes made `'`.
fn fold(text: &str) -> impl Iterator<Item = char> + '_ {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}' => '\'',
            c => c,
        })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The folded text as tokens separated by single spaces: words (alphanumeric, with `'` and
/// `&` inside them, a possessive `'s` cut off), `#hashtags` (glued: `_` dropped) and
/// `@mentions` (with `_ . - @` inside, as handles are written). `#` and `@` start a token
/// only after a non-word character (so not in `c#` or `jo@acme.com`).
fn tokens(text: &str) -> String {
    let chars: Vec<char> = fold(text).collect();
    let mut out = String::with_capacity(text.len() + 8);
    let push = |out: &mut String, token: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    };
    let n = chars.len();
    let mut i = 0;
    let mut token = String::new();
    while i < n {
        let c = chars[i];
        let after_word = i > 0 && is_word_char(chars[i - 1]);
        let next_is_word = i + 1 < n && (is_word_char(chars[i + 1]) || chars[i + 1] == '_');
        if (c == '#' || c == '@') && !after_word && next_is_word {
            token.clear();
            token.push(c);
            let mut j = i + 1;
            while j < n {
                let d = chars[j];
                if is_word_char(d) {
                    token.push(d);
                } else if d == '_' {
                    if c == '@' {
                        token.push(d);
                    }
                } else if c == '@' && matches!(d, '.' | '-' | '@') {
                    token.push(d);
                } else {
                    break;
                }
                j += 1;
            }
            // "@acme." ends a sentence, not the handle.
            while token.len() > 1 && token.ends_with(['.', '-', '@']) {
                token.pop();
            }
            if token.len() > 1 {
                push(&mut out, &token);
            }
            i = j;
        } else if is_word_char(c) {
            token.clear();
            let mut j = i;
            while j < n {
                let d = chars[j];
                let joiner = matches!(d, '\'' | '&') && j + 1 < n && is_word_char(chars[j + 1]);
                if !(is_word_char(d) || joiner) {
                    break;
                }
                token.push(d);
                j += 1;
            }
            if token.len() > 2 && token.ends_with("'s") {
                token.truncate(token.len() - 2);
            }
            push(&mut out, &token);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// A configured phrase (keyword, exclusion, handle without `@`) as words: `#` and `@` are
/// plain separators here.
fn phrase_words(phrase: &str) -> Vec<String> {
    let plain: String = phrase
        .chars()
        .map(|c| if c == '#' || c == '@' { ' ' } else { c })
        .collect();
    tokens(&plain)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The patterns for a phrase: its words with single spaces, and its words glued (which is
/// also how it is written in a hashtag).
fn phrase_patterns(words: &[String]) -> Vec<(String, Shape)> {
    if words.is_empty() {
        return vec![];
    }
    let spaced = words.join(" ");
    let glued: String = words.concat().chars().filter(|c| is_word_char(*c)).collect();
    let gluable = |word: &str| !word.contains(' ') && word.chars().count() >= MIN_GLUED_CHARS;
    let mut out = vec![(
        spaced.clone(),
        Shape::Words {
            gluable: gluable(&spaced),
        },
    )];
    if glued != spaced && !glued.is_empty() {
        out.push((
            glued.clone(),
            Shape::Words {
                gluable: gluable(&glued),
            },
        ));
    }
    out
}

/// The shortest keyword that matches glued to a hashtag's start or end: `ee` would be in
/// `#coffee` and `#eek`.
const MIN_GLUED_CHARS: usize = 4;

/// Whether a hit at `start..end` of the token string obeys the rules of the module doc.
fn sits_right(tokens: &str, start: usize, end: usize, shape: Shape) -> bool {
    let bytes = tokens.as_bytes();
    let token_start = tokens[..start].rfind(' ').map_or(0, |p| p + 1);
    let token_end = |at: usize| at == bytes.len() || bytes[at] == b' ';
    let marker = bytes[token_start];
    match shape {
        Shape::Handle { has_server } => start == token_start && (token_end(end) || (!has_server && bytes[end] == b'@')),
        Shape::Words { gluable } => {
            if start == token_start {
                // A word pattern never starts with `#` or `@`, so this is a plain word.
                token_end(end)
            } else if start == token_start + 1 && marker == b'@' {
                // The whole mention is the keyword (`@acmeair` for `acmeair`).
                token_end(end)
            } else if marker == b'#' {
                // The whole tag, a tag and the words after it, the start or the end of a tag.
                let at_tag_start = start == token_start + 1;
                (at_tag_start && token_end(end)) || (gluable && (at_tag_start || token_end(end)))
            } else {
                false
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BrandId, PostDraft};

    fn matcher_settings() -> BrandSettings {
        BrandSettings {
            handles: vec!["@NorthwindAir".into()],
            exclude: vec!["northwind traders".into()],
            threshold: 55.0,
            ..BrandSettings::new(
                BrandId::parse("northwind").unwrap(),
                "Northwind Air",
                vec!["Northwind Air".into(), "northwindair".into()],
            )
        }
    }

    fn matcher() -> BrandMatcher {
        BrandMatcher::new(&matcher_settings())
    }

    fn post(author: &str, text: &str) -> Post {
        post_on(Platform::X, author, text)
    }

    fn post_on(platform: Platform, author: &str, text: &str) -> Post {
        let draft = PostDraft {
            external_id: "1".into(),
            text: text.into(),
            author_handle: author.into(),
            ..PostDraft::default()
        };
        Post::new(platform, draft).unwrap()
    }

    #[test]
    fn own_accounts_are_recognised_as_each_connector_stores_its_authors() {
        let m = BrandMatcher::new(&BrandSettings {
            handles: vec![
                "@NorthwindAir".into(),
                "reddit:u/Northwind_Care".into(),
                "youtube:UCnorthwind123".into(),
                "bluesky:northwind.bsky.social".into(),
                "mastodon:northwind@mastodon.social".into(),
            ],
            ..matcher_settings()
        });
        let text = "Sorry to hear that, Northwind Air here";
        let own = [
            (Platform::X, "@northwindair"),
            (Platform::HackerNews, "NorthwindAir"),
            (Platform::Reddit, "u/Northwind_Care"),
            (Platform::YouTube, "UCnorthwind123"),
            (Platform::Bluesky, "@northwind.bsky.social"),
            (Platform::Mastodon, "@northwind@mastodon.social"),
        ];
        for (platform, author) in own {
            assert_eq!(
                m.verdict(&post_on(platform, author, text)),
                Verdict::OwnPost,
                "{platform} {author}"
            );
        }
        let others = [
            // A platform-bound account is that platform's only.
            (Platform::X, "@northwind_care"),
            (Platform::Reddit, "u/ucnorthwind123"),
            // The same name on another Mastodon server is someone else.
            (Platform::Mastodon, "@northwind@other.social"),
        ];
        for (platform, author) in others {
            assert_eq!(
                m.verdict(&post_on(platform, author, text)),
                Verdict::Mention,
                "{platform} {author}"
            );
        }
    }

    #[test]
    fn verdicts() {
        let m = matcher();
        let cases = [
            ("@jo", "Flying Northwind Air today", Verdict::Mention),
            ("@jo", "#NorthwindAir lost my bag", Verdict::Mention),
            ("@jo", "hey @northwindair where is my bag", Verdict::Mention),
            ("@jo", "hey @northwindairfan nice pic", Verdict::Unrelated),
            (
                "@northwindair",
                "We're sorry to hear that, Northwind Air here",
                Verdict::OwnPost,
            ),
            ("@jo", "Northwind Traders stock is up", Verdict::Excluded),
            ("@jo", "Northwind is a database sample", Verdict::Unrelated),
        ];
        for (author, text, expected) in cases {
            assert_eq!(m.verdict(&post(author, text)), expected, "{author}: {text}");
        }
    }

    fn acme() -> BrandSettings {
        BrandSettings {
            id: BrandId::parse("acme").unwrap(),
            name: "Acme Air".into(),
            keywords: vec!["Acme Air".into(), "acme".into()],
            handles: vec!["@AcmeAir".into(), "bluesky:help.acme.com".into()],
            exclude: vec!["acme anvils".into()],
            ..matcher_settings()
        }
    }

    fn assert_verdicts(m: &BrandMatcher, cases: &[(&str, Verdict)]) {
        for (text, expected) in cases {
            assert_eq!(m.verdict(&post("@jo", text)), *expected, "{text}");
        }
    }

    #[test]
    fn possessives_with_straight_and_curly_apostrophes_are_the_brand() {
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec!["Acme Air".into()],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("Is Acme Air's new baggage policy legit?", Verdict::Mention),
                ("Is Acme Air\u{2019}s new baggage policy legit?", Verdict::Mention),
                ("Acme Air\u{02BC}s app is down", Verdict::Mention),
                ("Acme Airs are planes", Verdict::Unrelated),
            ],
        );
        let m = BrandMatcher::new(&acme());
        assert_verdicts(
            &m,
            &[
                ("Acme's app is down", Verdict::Mention),
                ("Acme\u{2019}s app is down", Verdict::Mention),
                // Other apostrophes stay in their word.
                ("I don't fly", Verdict::Unrelated),
            ],
        );
    }

    #[test]
    fn hashtags_match_whole_and_with_a_keyword_glued_to_their_start_or_end() {
        let m = BrandMatcher::new(&acme());
        assert_verdicts(
            &m,
            &[
                ("#AcmeAir lost my bag", Verdict::Mention),
                ("never again #acmeairfail", Verdict::Mention),
                ("#boycottacmeair", Verdict::Mention),
                ("#Acme_Air_Sucks", Verdict::Mention),
                ("#Acme Air delayed", Verdict::Mention),
                // The documented price of the start-of-tag rule.
                ("#acmeville summer fair", Verdict::Mention),
                // Inside a tag, not at its start or end: not the brand.
                ("#wileacmeoyote", Verdict::Unrelated),
                // Exclusions follow the same rules.
                ("#AcmeAnvils are heavy", Verdict::Excluded),
            ],
        );
        // A short keyword matches a whole tag only.
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec!["EE".into()],
            handles: vec![],
            exclude: vec![],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("#EE signal gone", Verdict::Mention),
                ("my #coffee is cold", Verdict::Unrelated),
                ("#eek", Verdict::Unrelated),
            ],
        );
    }

    #[test]
    fn whole_words_only_outside_hashtags() {
        let m = BrandMatcher::new(&acme());
        assert_verdicts(
            &m,
            &[
                ("Moving to acmeville next week", Verdict::Unrelated),
                ("the pacme tool", Verdict::Unrelated),
                ("write to jo@acme.com", Verdict::Mention),
                ("@acmeville is a town account", Verdict::Unrelated),
                ("@acme thanks", Verdict::Mention),
            ],
        );
    }

    #[test]
    fn handles_match_without_their_at_sign() {
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec![],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("AcmeAir is down again", Verdict::Mention),
                ("u/AcmeAir answer me", Verdict::Mention),
                ("@AcmeAir. Where is my bag?", Verdict::Mention),
                ("@acmeair@mastodon.social hello", Verdict::Mention),
                ("@acmeairfan nice pic", Verdict::Unrelated),
                // A handle with a domain matches without `@` only whole.
                ("mailed help.acme.com twice", Verdict::Mention),
                ("help me please", Verdict::Unrelated),
                ("@help.acme.com is slow", Verdict::Mention),
            ],
        );
    }

    #[test]
    fn hyphen_underscore_space_and_glued_variants_match() {
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec!["acme air".into()],
            handles: vec![],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("flew acme-air today", Verdict::Mention),
                ("flew acme_air today", Verdict::Mention),
                ("flew acmeair today", Verdict::Mention),
                ("flew Acme  Air today", Verdict::Mention),
                ("flew acme airlines", Verdict::Unrelated),
            ],
        );
        // A keyword written glued or hyphenated matches the same way.
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec!["acme-air".into()],
            handles: vec![],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("Acme Air lost it", Verdict::Mention),
                ("AcmeAir lost it", Verdict::Mention),
            ],
        );
    }

    #[test]
    fn case_and_diacritics_do_not_matter() {
        let m = BrandMatcher::new(&BrandSettings {
            keywords: vec!["Café Noir".into(), "Zürich Air".into()],
            handles: vec![],
            exclude: vec![],
            ..acme()
        });
        assert_verdicts(
            &m,
            &[
                ("CAFE NOIR served cold coffee", Verdict::Mention),
                ("café noir served cold coffee", Verdict::Mention),
                ("Cafe\u{301} Noir, decomposed", Verdict::Mention),
                ("zurich air lost my bag", Verdict::Mention),
                ("ZÜRICH AIR lost my bag", Verdict::Mention),
                ("Ｃａｆｅ Ｎｏｉｒ in full width", Verdict::Mention),
            ],
        );
    }

    #[test]
    fn exclusions_and_own_accounts_still_win() {
        let m = BrandMatcher::new(&acme());
        assert_verdicts(&m, &[("Acme anvils and Acme Air", Verdict::Excluded)]);
        assert_eq!(m.verdict(&post("@AcmeAir", "Acme Air here, sorry")), Verdict::OwnPost);
        assert_eq!(
            m.verdict(&post_on(Platform::Bluesky, "@help.acme.com", "Acme Air here")),
            Verdict::OwnPost
        );
    }

    #[test]
    fn one_pass_answers_for_every_brand() {
        let brands = [
            acme(),
            matcher_settings(),
            BrandSettings {
                id: BrandId::parse("globex").unwrap(),
                keywords: vec!["Globex".into(), "acme".into()],
                handles: vec![],
                exclude: vec![],
                ..matcher_settings()
            },
        ];
        let m = BrandMatcher::for_brands(&brands);
        let verdicts = m.verdicts(&post("@jo", "Acme's and #NorthwindAir lost my bag, acme anvils"));
        assert_eq!(verdicts, [Verdict::Excluded, Verdict::Mention, Verdict::Mention]);
        let verdicts = m.verdicts(&post("@northwindair", "Globex is fine"));
        assert_eq!(verdicts, [Verdict::Unrelated, Verdict::OwnPost, Verdict::Mention]);
        // Each brand alone answers the same.
        for (i, brand) in brands.iter().enumerate() {
            let text = "Acme's and #NorthwindAir lost my bag, acme anvils";
            assert_eq!(
                BrandMatcher::new(brand).verdict(&post("@jo", text)),
                m.verdicts(&post("@jo", text))[i]
            );
        }
    }
}
