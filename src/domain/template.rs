//! Reply templates: `{author}`, `{first_name}`, `{brand}`, `{agent}` and `{platform}` filled
//! in server-side, so every first response is consistent. Templates come from the config
//! (`[[templates]]`, every brand) and from the database (per brand, written by leads in the
//! queue); both are checked here. Unknown placeholders are refused.

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["author", "first_name", "brand", "agent", "platform"];

/// Longest template name and text accepted from the queue.
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The values for one task and one agent.
#[derive(Debug, Clone)]
pub struct TemplateValues<'a> {
    pub author: &'a str,
    /// What to call the customer: see [`first_name`].
    pub first_name: &'a str,
    pub brand: &'a str,
    pub agent: &'a str,
    pub platform: &'a str,
}

/// A template problem: an unknown or unclosed placeholder, or a name or text that is empty
/// or too long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown placeholder {{{0}}}; expected one of {{author}}, {{first_name}}, {{brand}}, {{agent}}, {{platform}}"
    )]
    Unknown(String),
    #[error("unclosed '{{' at character {0}")]
    Unclosed(usize),
    #[error("the template's {0} is empty")]
    Empty(&'static str),
    #[error("the template's {what} is {chars} characters long; the limit is {limit}")]
    TooLong {
        what: &'static str,
        chars: usize,
        limit: usize,
    },
}

/// What a reply calls the customer: the first word of their display name when it has a
/// letter in it, else their handle without the `@` (and without a Mastodon server).
pub fn first_name<'a>(display_name: Option<&'a str>, handle: &'a str) -> &'a str {
    let from_name = display_name
        .and_then(|name| name.split_whitespace().next())
        .filter(|word| word.chars().any(char::is_alphabetic));
    from_name.unwrap_or_else(|| {
        let bare = handle.trim_start_matches('@');
        bare.split('@').next().unwrap_or(bare)
    })
}

/// Checks a template written in the queue: a name, a text, their lengths and placeholders.
pub fn check_new(name: &str, text: &str) -> Result<(), TemplateError> {
    for (what, value, limit) in [("name", name, MAX_NAME_CHARS), ("text", text, MAX_TEXT_CHARS)] {
        if value.trim().is_empty() {
            return Err(TemplateError::Empty(what));
        }
        let chars = value.chars().count();
        if chars > limit {
            return Err(TemplateError::TooLong { what, chars, limit });
        }
    }
    check(text)
}

/// Splits a template into literal text and placeholder names, checking each name.
fn parts(text: &str) -> Result<Vec<(bool, &str)>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find('{') {
        out.push((false, &rest[..start]));
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or(TemplateError::Unclosed(offset + start))?;
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(TemplateError::Unknown(name.to_owned()));
        }
        out.push((true, name));
        offset += start + end + 2;
        rest = &after[end + 1..];
    }
    out.push((false, rest));
    Ok(out)
}

/// Checks a template's placeholders.
pub fn check(text: &str) -> Result<(), TemplateError> {
    parts(text).map(|_| ())
}

/// Fills in a template.
pub fn render(text: &str, values: &TemplateValues<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + 32);
    for (is_name, part) in parts(text)? {
        out.push_str(match (is_name, part) {
            (false, literal) => literal,
            (true, "author") => values.author,
            (true, "first_name") => values.first_name,
            (true, "brand") => values.brand,
            (true, "agent") => values.agent,
            (true, _) => values.platform,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_rejected() {
        let values = TemplateValues {
            author: "@jo",
            first_name: "Jo",
            brand: "Acme Air",
            agent: "ann",
            platform: "x",
        };
        assert_eq!(
            render("Hi {author}, sorry! {agent} at {brand} ({platform})", &values).unwrap(),
            "Hi @jo, sorry! ann at Acme Air (x)"
        );
        assert_eq!(check("Hi {name}"), Err(TemplateError::Unknown("name".into())));
        assert_eq!(check("Hi {author"), Err(TemplateError::Unclosed(3)));
        assert_eq!(render("no placeholders", &values).unwrap(), "no placeholders");
        assert_eq!(render("Dear {first_name},", &values).unwrap(), "Dear Jo,");
    }

    #[test]
    fn the_first_name_is_the_display_name_s_first_word_else_the_bare_handle() {
        assert_eq!(first_name(Some("Jo Smith"), "@jo_s"), "Jo");
        assert_eq!(first_name(Some("  Ana María "), "@ana"), "Ana");
        assert_eq!(first_name(Some("🙂🙂"), "@smiley"), "smiley", "no letters: the handle");
        assert_eq!(first_name(None, "@kim@mastodon.social"), "kim");
        assert_eq!(first_name(Some(""), "jo"), "jo");
    }

    #[test]
    fn a_template_from_the_queue_needs_a_name_a_text_and_known_placeholders() {
        assert_eq!(check_new("Apology", "Hi {first_name}, sorry!"), Ok(()));
        assert_eq!(check_new(" ", "Hi"), Err(TemplateError::Empty("name")));
        assert_eq!(check_new("Apology", ""), Err(TemplateError::Empty("text")));
        assert_eq!(
            check_new(&"n".repeat(81), "Hi"),
            Err(TemplateError::TooLong {
                what: "name",
                chars: 81,
                limit: 80
            })
        );
        assert_eq!(check_new("x", "Hi {name}"), Err(TemplateError::Unknown("name".into())));
    }
}
