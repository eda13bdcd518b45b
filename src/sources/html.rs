//! HTML fragments (Mastodon statuses, feed summaries, HN comments, YouTube comments) to plain
//! text: tags removed, block and line-break tags turned into newlines, entities decoded by the
//! maintained `html-escape` crate. Script and style content is dropped. The result is text for
//! scoring and display, never rendered as HTML.

/// Plain text of an HTML fragment.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while let Some(open) = rest.find('<') {
        if skip_until.is_none() {
            out.push_str(&rest[..open]);
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // A `<` that starts no tag is text.
            if skip_until.is_none() {
                out.push_str(&rest[open..]);
            }
            rest = "";
            break;
        };
        let tag = after[..close].trim();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match skip_until {
            Some(end) if closing && name == end => skip_until = None,
            Some(_) => {}
            None if !closing && (name == "script" || name == "style") => {
                skip_until = Some(if name == "script" { "script" } else { "style" });
            }
            None if name == "br" => out.push('\n'),
            None if is_block(&name) && !out.is_empty() && !out.ends_with('\n') => out.push('\n'),
            None => {}
        }
        rest = &after[close + 1..];
    }
    if skip_until.is_none() {
        out.push_str(rest);
    }
    let decoded = html_escape::decode_html_entities(&out).replace('\u{a0}', " ");
    tidy_whitespace(&decoded)
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div" | "li" | "ul" | "ol" | "blockquote" | "pre" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr"
    )
}

/// Collapses runs of spaces within lines and drops blank lines at the ends.
fn tidy_whitespace(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut out = lines.join("\n");
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn mastodon_content_becomes_plain_text() {
        let html = r#"<p>My <a href="https://x.example/tags/acmeair" class="mention hashtag">#<span>AcmeAir</span></a> flight &amp; bag are lost&#39;</p><p>second<br/>line</p>"#;
        assert_eq!(to_text(html), "My #AcmeAir flight & bag are lost'\nsecond\nline");
    }

    #[test]
    fn scripts_are_dropped_and_stray_brackets_kept() {
        assert_eq!(to_text("a<script>alert(1)</script>b"), "ab");
        assert_eq!(to_text("1 < 2 &lt;3"), "1 < 2 <3");
        assert_eq!(to_text("&nbsp;x&nbsp;&nbsp;y "), "x y");
    }
}
