//! Reply templates: `{author}`, `{brand}`, `{agent}` and `{platform}` filled in server-side,
//! so every first response is consistent. Unknown placeholders are a config error.

use crate::config::TemplateSettings;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 4] = ["author", "brand", "agent", "platform"];

/// The values for one task and one agent.
#[derive(Debug, Clone)]
pub struct TemplateValues<'a> {
    pub author: &'a str,
    pub brand: &'a str,
    pub agent: &'a str,
    pub platform: &'a str,
}

/// A template problem: an unknown or unclosed placeholder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{0}}}; expected one of {{author}}, {{brand}}, {{agent}}, {{platform}}")]
    Unknown(String),
    #[error("unclosed '{{' at character {0}")]
    Unclosed(usize),
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
            (true, "brand") => values.brand,
            (true, "agent") => values.agent,
            (true, _) => values.platform,
        });
    }
    Ok(out)
}

/// The template with this name.
pub fn find<'a>(templates: &'a [TemplateSettings], name: &str) -> Option<&'a TemplateSettings> {
    templates.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_rejected() {
        let values = TemplateValues {
            author: "@jo",
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
    }
}
