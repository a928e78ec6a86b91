//! The web chat page of `curator serve` (`GET /`), against a server started in-process on
//! 127.0.0.1 without a model (replies use the fixed opening): the page and its assets load without
//! the API key under a strict Content-Security-Policy; the session view carries what the page
//! shows; and in headless Chromium driven over WebDriver (chromedriver), a whole conversation —
//! streamed replies, cards, like and dislike, what Curator knows, the session restored after a
//! reload, the API key prompt, Stop cancelling a generation (with a model that never ends) — and
//! HTML inside replies, titles and reasons shown as text.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver` (`bash scripts/prereqs.sh
//! --tests` installs them as root) and fail naming the install command without them. Their
//! screenshots (desktop and 375 px wide) are written under `CARGO_TARGET_TMPDIR/web_page/`, and
//! their paths printed (`cargo test --release --test web_page -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use curator::dialogue::DialogueState;
use curator::llm::{ChatMessage, GenerationParams, GenerationStats, LanguageModel, StopReason};
use curator::server::sessions::SessionStore;
use curator::server::{router, AppState, ServerOptions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{json, Value};

/// A server started in-process on 127.0.0.1 (port 0) on its own runtime, with its database.
struct Served {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Without a model: replies use the fixed opening and the ranker's list.
    fn start(api_key: Option<&str>) -> Served {
        Served::with(ServerOptions { api_key: api_key.map(str::to_string), ..ServerOptions::default() }, None)
    }

    /// With `options` (its database put in a fresh folder) and `model`.
    fn with(options: ServerOptions, model: Option<Box<dyn LanguageModel>>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sessions.sqlite");
        let options = ServerOptions { db_path: db.clone(), ..options };
        let state = AppState::start(options, model).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move { axum::serve(listener, router(state)).await });
        Served { rt, addr, db, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

// ---------------------------------------------------------------------------------------------
// Without a browser: the page's HTTP answers and the session view it reads.

#[test]
fn the_page_loads_without_the_key_under_a_strict_content_security_policy() {
    let s = Served::start(Some("s3cret"));
    let http = reqwest::blocking::Client::new();
    let page = http.get(s.url("/")).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let header = |r: &reqwest::blocking::Response, name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let csp = header(&page, "content-security-policy");
    for directive in
        ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]
    {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.text().unwrap();
    // Scripts only from files, no inline event handler attributes.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains(r#"<script src="/page/app.js" defer></script>"#));
    for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onkeydown=", " oninput="] {
        assert!(!html.contains(handler), "{handler} in the page");
    }

    let js = http.get(s.url("/page/app.js")).send().unwrap();
    assert_eq!(js.status().as_u16(), 200);
    assert_eq!(header(&js, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&js, "content-security-policy"), csp);
    let js = js.text().unwrap();
    // Server strings go in as text: the script never parses HTML or evaluates strings.
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
    let css = http.get(s.url("/page/app.css")).send().unwrap();
    assert_eq!((css.status().as_u16(), header(&css, "content-type").as_str()), (200, "text/css; charset=utf-8"));
    // The API itself still needs the key.
    assert_eq!(http.get(s.url("/v1/models")).send().unwrap().status().as_u16(), 401);
    let doc = curator::server::openapi_document();
    assert!(doc["paths"]["/"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Session"]["properties"]["rejected"].is_object());
}

#[test]
fn the_session_view_carries_what_is_asked_for_ruled_out_and_the_latest_cards() {
    let s = Served::start(None);
    let http = reqwest::blocking::Client::new();
    let chat: Value = http
        .post(s.url("/v1/chat/completions"))
        .body(json!({"messages": [{"role": "user", "content": "I loved Heat and Collateral, a 90s thriller, no horror"}]}).to_string())
        .send()
        .unwrap()
        .json_value();
    let id = chat["session_id"].as_str().unwrap();
    let view: Value = http.get(s.url(&format!("/v1/sessions/{id}"))).send().unwrap().json_value();
    assert_eq!(
        view["wanted"],
        json!([{"kind": "genre", "label": "thriller"}, {"kind": "years", "label": "the 1990s"}]),
        "{view}"
    );
    assert_eq!(view["rejected"], json!([{"kind": "genre", "label": "horror"}]), "{view}");
    let sent = chat["recommendations"].as_array().unwrap();
    let shown = view["recommendations"].as_array().unwrap();
    assert_eq!(shown.len(), 3, "{view}");
    assert_eq!(shown.len(), sent.len());
    for (card, rec) in shown.iter().zip(sent) {
        assert_eq!((&card["id"], &card["title"], &card["reason"]), (&rec["id"], &rec["title"], &rec["reason"]));
        let title = card["title"].as_str().unwrap();
        assert!(title.ends_with(&format!("({})", card["year"])), "{card}");
        assert!(!card["genres"].as_array().unwrap().is_empty(), "{card}");
    }
}

/// The body of a response as JSON.
trait JsonValue {
    fn json_value(self) -> Value;
}

impl JsonValue for reqwest::blocking::Response {
    fn json_value(self) -> Value {
        let text = self.text().unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

// ---------------------------------------------------------------------------------------------
// In headless Chromium.

/// One browser test at a time: each starts a server, chromedriver and Chromium.
static BROWSER: Mutex<()> = Mutex::new(());

const INSTALL: &str = "the web page's browser tests need Chromium and ChromeDriver. Install them with:  \
     sudo apt-get update && sudo apt-get install -y chromium chromium-driver  \
     (or run `bash scripts/prereqs.sh --tests` as root)";

/// The first of `names` found on `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// A chromedriver started on a free port of 127.0.0.1, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
    browser: PathBuf,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let (Some(driver), Some(browser)) =
            (find_program(&["chromedriver"]), find_program(&["chromium", "chromium-browser"]))
        else {
            panic!("{INSTALL}");
        };
        let mut child = Command::new(driver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver ({e}); {INSTALL}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.split("started successfully on port ").nth(1).map(|p| p.trim_end_matches('.').parse()))
            .unwrap_or_else(|| panic!("chromedriver did not say which port it listens on; {INSTALL}"))
            .unwrap();
        // Keep reading what it prints, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ChromeDriver { child, port, browser }
    }

    async fn connect(&self) -> Client {
        let mut caps = serde_json::Map::new();
        // --no-sandbox: CI runs as root. The rest keep Chromium off the network (only 127.0.0.1).
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ];
        caps.insert("goog:chromeOptions".into(), json!({"binary": self.browser, "args": args}));
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}; {INSTALL}"))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `scenario` in a fresh Chromium against `served`; the browser is closed whatever happens,
/// then a failed scenario's panic goes on.
fn in_browser<F, Fut>(served: &Served, scenario: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let driver = ChromeDriver::start();
    served.rt.block_on(async {
        let client = driver.connect().await;
        let outcome = tokio::spawn(scenario(client.clone(), served.url("/"))).await;
        let _ = client.close().await;
        if let Err(e) = outcome {
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("the browser scenario did not finish: {e}"),
            }
        }
    });
}

/// What the page shows, read from its DOM.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Page {
    messages: Vec<(String, String)>,
    cards: Vec<Card>,
    liked: Vec<String>,
    disliked: Vec<String>,
    seen: Vec<String>,
    wanted: Vec<String>,
    rejected: Vec<String>,
    busy: bool,
    session: Option<String>,
}

/// One recommendation card as shown.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Card {
    title: String,
    meta: Option<String>,
    reason: String,
    liked: String,
}

const READ_PAGE: &str = r#"
const texts = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
return {
  messages: [...document.querySelectorAll('#messages > li')].map((li) => [li.className, li.querySelector('.text').textContent]),
  cards: [...document.querySelectorAll('#cards .card')].map((c) => ({
    title: c.querySelector('h3').textContent,
    meta: c.querySelector('.meta') ? c.querySelector('.meta').textContent : null,
    reason: c.querySelector('.reason').textContent,
    liked: c.querySelector('button.like').getAttribute('aria-pressed'),
  })),
  liked: texts('#known-liked li'), disliked: texts('#known-disliked li'), seen: texts('#known-seen li'),
  wanted: texts('#known-wanted li'), rejected: texts('#known-rejected li'),
  busy: document.getElementById('send').disabled,
  session: localStorage.getItem('curator.session'),
};"#;

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

async fn read_page(c: &Client) -> Page {
    serde_json::from_value(js(c, READ_PAGE).await).unwrap()
}

/// Reads the page until `ready` holds (checked every 100 ms, for at most a minute: the page has
/// to react to the server, whose replies without a model take milliseconds); panics with the
/// last page read and `what` otherwise.
async fn until(c: &Client, what: &str, ready: impl Fn(&Page) -> bool) -> Page {
    let mut page = read_page(c).await;
    for _ in 0..600 {
        if ready(&page) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        page = read_page(c).await;
    }
    panic!("the page never showed {what}; it shows {page:#?}");
}

async fn type_into(c: &Client, css: &str, keys: &str) {
    c.find(Locator::Css(css)).await.unwrap().send_keys(keys).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}")).click().await.unwrap();
}

/// WebDriver key codes.
const ENTER: &str = "\u{E007}";
const SHIFT: &str = "\u{E008}";
const RELEASE_MODIFIERS: &str = "\u{E000}";

/// A PNG of the current window under `CARGO_TARGET_TMPDIR/web_page/`; returns its path.
async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_page");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, c.screenshot().await.unwrap()).unwrap();
    println!("screenshot: {}", path.display());
    path
}

/// The year at the end of "Title (Year)".
fn year_of(title: &str) -> &str {
    title.rsplit_once(" (").map(|(_, y)| y.trim_end_matches(')')).unwrap_or("")
}

#[test]
fn a_conversation_in_chromium_streams_takes_feedback_and_survives_a_reload() {
    let served = Served::start(None);
    in_browser(&served, |c, url| async move {
        c.goto(&url).await.unwrap();
        let start = until(&c, "an empty conversation", |p| p.messages.is_empty()).await;
        assert_eq!((start.session, start.cards.len(), start.liked.len()), (None, 0, 0));

        // Shift+Enter adds a line and sends nothing.
        type_into(&c, "#input", &format!("one{SHIFT}{ENTER}{RELEASE_MODIFIERS}two")).await;
        assert_eq!(js(&c, "return document.getElementById('input').value").await, json!("one\ntwo"));
        assert!(read_page(&c).await.messages.is_empty());
        c.find(Locator::Css("#input")).await.unwrap().clear().await.unwrap();

        // Enter sends; the reply streams in pieces; the cards come with it.
        type_into(&c, "#input", &format!("I loved Heat and Collateral{ENTER}")).await;
        let first =
            until(&c, "the first reply and its cards", |p| p.messages.len() == 2 && !p.busy && p.cards.len() == 3)
                .await;
        assert_eq!(first.messages[0], ("user".to_string(), "I loved Heat and Collateral".to_string()));
        assert_eq!(first.messages[1].0, "assistant");
        let pieces = js(&c, "return document.querySelector('#messages li.assistant .text').childNodes.length").await;
        assert!(pieces.as_u64().unwrap() >= 3, "the reply arrived in {pieces} piece(s), not streamed");
        let reply = &first.messages[1].1;
        for (i, card) in first.cards.iter().enumerate() {
            // Each card is the reply's list line, with the catalog's year and genres.
            assert!(reply.contains(&format!("{}. {} — {}", i + 1, card.title, card.reason)), "{card:?} not in {reply}");
            let meta = card.meta.as_deref().unwrap();
            assert!(meta.starts_with(&format!("{} · ", year_of(&card.title))), "{meta}");
            assert_eq!(card.liked, "false");
        }
        assert_eq!(first.liked, ["Heat (1995)", "Collateral (2004)"]);
        assert!(first.session.as_deref().is_some_and(|s| s.len() == 32), "{:?}", first.session);
        let titles: Vec<String> = first.cards.iter().map(|c| c.title.clone()).collect();

        // Like the first card, dislike the second: the state panel follows, the disliked card goes.
        click(&c, "#cards .card:nth-child(1) button.like").await;
        let liked = until(&c, "the like", |p| p.liked.len() == 3).await;
        assert_eq!(liked.liked, ["Heat (1995)", "Collateral (2004)", titles[0].as_str()]);
        assert_eq!(liked.cards[0].liked, "true");
        click(&c, "#cards .card:nth-child(2) button.dislike").await;
        let disliked = until(&c, "the dislike", |p| p.disliked.len() == 1).await;
        assert_eq!(disliked.disliked, [titles[1].as_str()]);
        let left: Vec<&str> = disliked.cards.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(left, [titles[0].as_str(), titles[2].as_str()]);
        // "Seen it" on the third: listed as seen, never recommended again.
        click(&c, "#cards .card:nth-child(2) button.seen").await;
        let seen = until(&c, "the seen", |p| p.seen.len() == 1).await;
        assert_eq!(seen.seen, [titles[2].as_str()]);

        // A second message: new cards, the disliked item gone, the requests in the state panel.
        type_into(&c, "#input", &format!("something from the 90s, no horror{ENTER}")).await;
        let second = until(&c, "the second reply", |p| p.messages.len() == 4 && !p.busy).await;
        assert_eq!(second.cards.len(), 3, "{second:#?}");
        for card in &second.cards {
            assert!(!titles.contains(&card.title), "{} was already recommended", card.title);
            assert_ne!(card.title, titles[1]);
        }
        assert_eq!(second.liked, liked.liked);
        assert_eq!(second.disliked, [titles[1].as_str()]);
        assert_eq!(second.seen, [titles[2].as_str()]);
        assert!(second.wanted.contains(&"the 1990s".to_string()), "{:?}", second.wanted);
        assert_eq!(second.rejected, ["no horror"]);
        assert_eq!(second.session, first.session);
        screenshot(&c, "desktop-1280.png").await;

        // A reload restores the conversation, the cards and the state panel from the server.
        c.refresh().await.unwrap();
        let restored = until(&c, "the restored conversation", |p| p.messages.len() == 4 && p.cards.len() == 3).await;
        assert_eq!(restored, second);

        // A phone: 375 px wide, nothing wider than the screen.
        c.set_window_size(375, 812).await.unwrap();
        let width =
            js(&c, "const d = document.documentElement; return [window.innerWidth, d.scrollWidth - d.clientWidth]")
                .await;
        assert_eq!(width, json!([375, 0]), "[window width, page overflow]");
        screenshot(&c, "phone-375.png").await;
        js(&c, "document.getElementById('known-title').scrollIntoView(); return null").await;
        screenshot(&c, "phone-375-known.png").await;

        // New conversation: everything cleared, the stored id forgotten.
        click(&c, "#new-conversation").await;
        let fresh = until(&c, "a new conversation", |p| p.messages.is_empty()).await;
        assert_eq!((fresh.session, fresh.cards.len(), fresh.liked.len(), fresh.rejected.len()), (None, 0, 0, 0));
    });
}

#[test]
fn html_in_replies_titles_and_reasons_is_shown_as_text() {
    let served = Served::start(None);
    // A stored session whose reply, card title and reason carry markup, as a model or a catalog
    // could write them.
    let reply = r#"<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> Try this:"#;
    let title = "<script>window.__xss = 3</script>Heat (1995)";
    let reason = r#"<b>bold</b> <img src=x onerror="window.__xss = 4">"#;
    let recs = json!([{"id": 176314, "title": title, "reason": reason, "score": 1.0}]).to_string();
    SessionStore::open(&served.db)
        .unwrap()
        .save_turn("xss-session", &DialogueState::new(), &[], "<i>hello</i>", reply, &recs)
        .unwrap();
    in_browser(&served, |c, url| async move {
        c.goto(&url).await.unwrap();
        js(&c, "localStorage.setItem('curator.session', 'xss-session'); return null").await;
        c.refresh().await.unwrap();
        let page = until(&c, "the stored session", |p| p.messages.len() == 2 && p.cards.len() == 1).await;
        assert_eq!(page.messages[0], ("user".to_string(), "<i>hello</i>".to_string()));
        assert_eq!(page.messages[1], ("assistant".to_string(), reply.to_string()));
        assert_eq!((page.cards[0].title.as_str(), page.cards[0].reason.as_str()), (title, reason));
        // What the person types is shown as typed, too.
        let typed = r#"<img src=x onerror="window.__xss = 5">I loved Heat"#;
        type_into(&c, "#input", &format!("{typed}{ENTER}")).await;
        let page = until(&c, "the reply", |p| p.messages.len() == 4 && !p.busy).await;
        assert_eq!(page.messages[2], ("user".to_string(), typed.to_string()));
        let injected = js(
            &c,
            "return [document.querySelectorAll('#messages script, #messages img, #messages b, #messages i, \
             #cards script, #cards img, #cards b').length, window.__xss === undefined]",
        )
        .await;
        assert_eq!(injected, json!([0, true]), "[elements created from server strings, no script ran]");
    });
}

#[test]
fn with_an_api_key_the_page_asks_for_it_and_sends_it() {
    let served = Served::start(Some("s3cret"));
    in_browser(&served, |c, url| async move {
        c.goto(&url).await.unwrap();
        c.wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css("#key-dialog[open]"))
            .await
            .unwrap_or_else(|e| panic!("the page did not ask for the key: {e}"));
        type_into(&c, "#key-input", &format!("s3cret{ENTER}")).await;
        type_into(&c, "#input", &format!("I loved Heat and Collateral{ENTER}")).await;
        let page = until(&c, "the reply", |p| p.messages.len() == 2 && !p.busy).await;
        assert_eq!(page.cards.len(), 3, "{page:#?}");
        assert_eq!(page.liked, ["Heat (1995)", "Collateral (2004)"]);
        let state =
            js(&c, "return [document.getElementById('key-dialog').open, sessionStorage.getItem('curator.apiKey')]")
                .await;
        assert_eq!(state, json!([false, "s3cret"]));
    });
}

/// A model whose opening line never ends: it writes "more " until its turn is cancelled, so only
/// Stop (the page dropping the request) can end a reply.
struct Endless;

impl LanguageModel for Endless {
    fn name(&self) -> &str {
        "endless"
    }

    fn apply_chat_template(&self, messages: &[ChatMessage]) -> curator::Result<String> {
        Ok(messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n"))
    }

    fn generate(
        &mut self,
        _: &[ChatMessage],
        _: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> curator::Result<GenerationStats> {
        let mut generated_tokens = 0;
        while on_text("more ") {
            generated_tokens += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(GenerationStats {
            prompt_tokens: 0,
            cached_prompt_tokens: 0,
            generated_tokens,
            prompt_ms: 0.0,
            generation_ms: 0.0,
            time_to_first_token_ms: 0.0,
            stop_reason: StopReason::Cancelled,
        })
    }
}

#[test]
fn stop_cancels_the_generation() {
    // No deadline within the test: only Stop can end the turn. The model may write openings, so
    // the endless one is asked for one.
    let options =
        ServerOptions { request_timeout: Duration::from_secs(3600), model_opening: true, ..ServerOptions::default() };
    let served = Served::with(options, Some(Box::new(Endless)));
    let health = served.url("/healthz");
    in_browser(&served, |c, url| async move {
        c.goto(&url).await.unwrap();
        // The first turn changes the state, so its opening is Curator's own and the reply ends;
        // the second changes nothing, so the model writes the opening, endlessly.
        type_into(&c, "#input", &format!("I loved Heat and Collateral{ENTER}")).await;
        until(&c, "the first reply", |p| p.messages.len() == 2 && !p.busy).await;
        type_into(&c, "#input", &format!("more please{ENTER}")).await;
        let writing = until(&c, "a reply being written", |p| p.busy).await;
        assert_eq!(writing.messages.len(), 4);
        let status = c.find(Locator::Css("#status")).await.unwrap().text().await.unwrap();
        assert_eq!(status, "Curator is writing…");
        let generating = move || {
            let url = health.clone();
            async move {
                tokio::task::spawn_blocking(move || reqwest::blocking::get(url).unwrap().json_value()).await.unwrap()
                    ["generating"]
                    .as_bool()
                    .unwrap()
            }
        };
        assert!(generating().await, "the worker is generating the endless reply");
        click(&c, "#stop").await;
        let stopped = until(&c, "the stopped reply", |p| !p.busy).await;
        assert_eq!(stopped.messages[3], ("assistant".to_string(), "[stopped]".to_string()));
        assert_eq!(stopped.messages.len(), 4, "no error shown: {stopped:#?}");
        assert!(js(&c, "return document.getElementById('stop').hidden").await.as_bool().unwrap());
        // The server noticed the dropped request and cancelled the generation.
        for _ in 0..600 {
            if !generating().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the worker still generates after Stop");
    });
}
