//! `HttpUrl`: an absolute `http` or `https` URL, the one rule for every URL a person configures
//! for earshot to call (a platform's API base, an OAuth token endpoint, a feed, the public
//! address of exports). Parsing only: nothing here resolves or fetches anything.

use std::fmt;

/// Why a text is not an `HttpUrl`; its message is the one config problems show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an http(s) URL")]
pub struct NotHttpUrl;

/// An absolute URL whose scheme is `http` or `https`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    /// Parses `text`, refusing anything that is not an absolute http(s) URL.
    pub fn parse(text: &str) -> Result<HttpUrl, NotHttpUrl> {
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(HttpUrl(url)),
            _ => Err(NotHttpUrl),
        }
    }

    /// The check of a URL setting, as a `(field, message)` config problem when it fails.
    pub fn problem(field: &str, text: &str) -> Option<(String, String)> {
        HttpUrl::parse(text)
            .err()
            .map(|error| (field.to_owned(), error.to_string()))
    }

    /// The parsed URL, for its parts.
    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::str::FromStr for HttpUrl {
    type Err = NotHttpUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        HttpUrl::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_and_https_urls_are_accepted() {
        for good in ["https://api.x.com", "http://127.0.0.1:8080/base/", "HTTPS://M.EXAMPLE"] {
            assert!(HttpUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "api.x.com",
            "/2/tweets",
            "ftp://files.example",
            "javascript:alert(1)",
            "https://",
        ] {
            assert_eq!(HttpUrl::parse(bad), Err(NotHttpUrl), "{bad}");
        }
    }

    #[test]
    fn a_problem_names_the_field_with_the_config_message() {
        assert_eq!(HttpUrl::problem("base_url", "https://api.x.com"), None);
        assert_eq!(
            HttpUrl::problem("auth_url", "www.reddit.com"),
            Some(("auth_url".to_owned(), "must be an http(s) URL".to_owned()))
        );
    }
}
