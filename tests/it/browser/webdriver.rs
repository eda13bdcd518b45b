//! The few W3C WebDriver commands the browser tests use, over the `reqwest` client earshot
//! already depends on.
//!
//! Why not a WebDriver crate: fantoccini (and thirtyfour), as dev-dependencies, turn on
//! `syn`/`time` features that shared dependencies (serde's derive, torch-sys's build
//! dependencies) also use, so the test build could no longer reuse the demo build's artifacts:
//! running both README commands would compile torch-sys and everything above it twice
//! (measured: `Compiling torch-sys` after adding fantoccini to a warm tree). The protocol
//! subset here is small and stable (W3C WebDriver, JSON over HTTP): sessions,
//! navigation, element lookup by CSS selector, click, keys, text/attribute/property,
//! script, alert text, screenshot and page source.

use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error: the command, and the driver's error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{command}: {message}")]
pub(crate) struct WebDriverError {
    command: String,
    pub(crate) code: String,
    message: String,
}

/// One browser session (cheap to clone).
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    session: String,
}

/// An element of the current page.
#[derive(Clone)]
pub(crate) struct Element {
    client: Client,
    id: String,
}

impl Client {
    /// Opens a session on the driver at `driver_url` with these capabilities.
    pub(crate) async fn connect(driver_url: &str, capabilities: Value) -> Result<Client, WebDriverError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| error("new session", "client", e))?;
        let session_url = format!("{driver_url}/session");
        let value = send(
            &http,
            reqwest::Method::POST,
            &session_url,
            Some(json!({ "capabilities": { "alwaysMatch": capabilities } })),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| error("new session", "no session id", &value))?;
        Ok(Client {
            http,
            session: format!("{session_url}/{id}"),
        })
    }

    async fn get(&self, path: &str) -> Result<Value, WebDriverError> {
        send(
            &self.http,
            reqwest::Method::GET,
            &format!("{}{path}", self.session),
            None,
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WebDriverError> {
        send(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.session),
            Some(body),
        )
        .await
    }

    fn element(&self, value: &Value) -> Result<Element, WebDriverError> {
        let id = value[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| error("element", "not an element", value))?;
        Ok(Element {
            client: self.clone(),
            id: id.to_owned(),
        })
    }

    pub(crate) async fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    pub(crate) async fn current_url(&self) -> Result<url::Url, WebDriverError> {
        let value = self.get("/url").await?;
        let text = value.as_str().unwrap_or_default();
        url::Url::parse(text).map_err(|e| error("current url", "not a URL", e))
    }

    /// The first element matching a CSS selector.
    pub(crate) async fn find(&self, css: &str) -> Result<Element, WebDriverError> {
        let value = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        self.element(&value)
    }

    /// Every element matching a CSS selector.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, WebDriverError> {
        let value = self
            .post("/elements", json!({ "using": "css selector", "value": css }))
            .await?;
        value
            .as_array()
            .map(|items| items.iter().map(|item| self.element(item)).collect())
            .unwrap_or_else(|| Err(error("elements", "not a list", &value)))
    }

    /// Makes the page's viewport exactly `width` × `height` CSS pixels (as a phone when
    /// `mobile`), through Chromium's device emulation, whatever the window's frame.
    pub(crate) async fn viewport(&self, width: u32, height: u32, mobile: bool) -> Result<(), WebDriverError> {
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": { "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile },
            }),
        )
        .await
        .map(drop)
    }

    /// The element that has the keyboard focus.
    pub(crate) async fn active_element(&self) -> Result<Element, WebDriverError> {
        let value = self.get("/element/active").await?;
        self.element(&value)
    }

    /// Runs `script` as a function body in the page; returns what it returns.
    pub(crate) async fn execute(&self, script: &str) -> Result<Value, WebDriverError> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// The text of the open JavaScript dialog; an error (`no such alert`) when none is open.
    pub(crate) async fn alert_text(&self) -> Result<String, WebDriverError> {
        let value = self.get("/alert/text").await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// A PNG of the viewport.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>, WebDriverError> {
        use base64::Engine;
        let value = self.get("/screenshot").await?;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| error("screenshot", "not base64", e))
    }

    /// The page's current DOM as HTML.
    pub(crate) async fn source(&self) -> Result<String, WebDriverError> {
        Ok(self.get("/source").await?.as_str().unwrap_or_default().to_owned())
    }

    /// Ends the session (the driver closes the browser).
    pub(crate) async fn close(&self) -> Result<(), WebDriverError> {
        send(&self.http, reqwest::Method::DELETE, &self.session, None)
            .await
            .map(drop)
    }
}

impl Element {
    fn path(&self, what: &str) -> String {
        format!("/element/{}{what}", self.id)
    }

    /// The rendered text.
    pub(crate) async fn text(&self) -> Result<String, WebDriverError> {
        let value = self.client.get(&self.path("/text")).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn attr(&self, name: &str) -> Result<Option<String>, WebDriverError> {
        let value = self.client.get(&self.path(&format!("/attribute/{name}"))).await?;
        Ok(value.as_str().map(str::to_owned))
    }

    pub(crate) async fn prop(&self, name: &str) -> Result<Option<String>, WebDriverError> {
        let value = self.client.get(&self.path(&format!("/property/{name}"))).await?;
        Ok(match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            other => Some(other.to_string()),
        })
    }

    pub(crate) async fn is_displayed(&self) -> Result<bool, WebDriverError> {
        let value = self.client.get(&self.path("/displayed")).await?;
        Ok(value.as_bool().unwrap_or(false))
    }

    pub(crate) async fn click(&self) -> Result<(), WebDriverError> {
        self.client.post(&self.path("/click"), json!({})).await.map(drop)
    }

    /// Types `text` into the element (focusing it first).
    pub(crate) async fn send_keys(&self, text: &str) -> Result<(), WebDriverError> {
        self.client
            .post(&self.path("/value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    /// Elements inside this one matching a CSS selector.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, WebDriverError> {
        let value = self
            .client
            .post(
                &self.path("/elements"),
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        value
            .as_array()
            .map(|items| items.iter().map(|item| self.client.element(item)).collect())
            .unwrap_or_else(|| Err(error("elements", "not a list", &value)))
    }

    /// Picks the `<option>` with this value in a `<select>`, as a user would.
    pub(crate) async fn select_by_value(&self, value: &str) -> Result<(), WebDriverError> {
        let options = self.find_all("option").await?;
        for option in options {
            if option.attr("value").await?.as_deref() == Some(value) {
                return option.click().await;
            }
        }
        Err(error("select", "no such option", value))
    }
}

fn error(command: &str, code: &str, detail: impl std::fmt::Display) -> WebDriverError {
    WebDriverError {
        command: command.to_owned(),
        code: code.to_owned(),
        message: detail.to_string(),
    }
}

/// Sends one command; returns its `value`, or the driver's error.
async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, WebDriverError> {
    let command = format!("{method} {url}");
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| error(&command, "transport", e))?;
    let status = response.status();
    let mut body: Value = response.json().await.map_err(|e| error(&command, "not JSON", e))?;
    let value = body["value"].take();
    if status.is_success() {
        Ok(value)
    } else {
        Err(WebDriverError {
            command,
            code: value["error"].as_str().unwrap_or("unknown error").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        })
    }
}
