//! `draw(frame, &app)`: the screen as a function of the [`App`] state, with no I/O. The layout
//! adapts to the terminal: a side panel from 80 columns up (below that, Tab shows it in place of
//! the conversation), borders from 8 rows up. Below [`MIN_WIDTH`]×[`MIN_HEIGHT`] the screen says
//! "terminal too small" instead; any size, down to 1×1, draws without panicking.

use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::dialogue::state::Polarity;

use super::app::{App, Focus, Speaker};
use super::wrap::{truncate, width, wrap};

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    /// The conversation pane, border included (empty when the side panel replaces it).
    pub conversation: Rect,
    /// The rows the conversation text occupies.
    pub conversation_inner: Rect,
    /// The message editor, border included.
    pub input: Rect,
    /// The side panel (recommendations and taste), when shown.
    pub side: Option<Rect>,
    /// The one-row footer (key hints, status).
    pub footer: Rect,
    /// No borders (a very small terminal).
    pub compact: bool,
}

/// Narrowest terminal the chat is drawn in, in columns; below it the screen says "terminal too
/// small".
pub const MIN_WIDTH: u16 = 20;
/// Lowest terminal the chat is drawn in, in rows (conversation, editor and footer); below it
/// the screen says "terminal too small".
pub const MIN_HEIGHT: u16 = 5;

/// Side panel shown beside the conversation from this width up.
pub const SIDE_PANEL_MIN_WIDTH: u16 = 80;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The layout of a `w`×`h` screen for `app`.
pub fn screen_layout(app: &App, w: u16, h: u16) -> ScreenLayout {
    let compact = h < 8 || w < 20;
    let border = if compact { 0 } else { 2 };
    let footer_h = u16::from(h >= 2);
    let footer = Rect::new(0, h.saturating_sub(footer_h), w, footer_h);
    let body_h = h - footer_h;
    let wide = w >= SIDE_PANEL_MIN_WIDTH;
    let side_w = if wide { (w * 36 / 100).clamp(30, 56) } else { 0 };
    let main_w = w - side_w;
    let mut side = if wide { Some(Rect::new(main_w, 0, side_w, body_h)) } else { None };
    let inner_w = main_w.saturating_sub(border);
    let (rows, _) = app.input.layout(usize::from(inner_w));
    let cap = (body_h / 3).clamp(1, 6);
    let input_rows = u16::try_from(rows.len()).unwrap_or(u16::MAX).clamp(1, cap);
    let input_h = (input_rows + border).min(body_h);
    let conv_h = body_h - input_h;
    let input = Rect::new(0, conv_h, main_w, input_h);
    let mut conversation = Rect::new(0, 0, main_w, conv_h);
    if !wide && app.focus == Focus::Recommendations {
        side = Some(conversation);
        conversation = Rect::new(0, 0, 0, 0);
    }
    let conversation_inner =
        if compact { conversation } else { Block::default().borders(Borders::ALL).inner(conversation) };
    ScreenLayout { conversation, conversation_inner, input, side, footer, compact }
}

fn speaker_style(s: Speaker) -> Style {
    match s {
        Speaker::You => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        Speaker::Curator => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Speaker::Notice => Style::new().fg(Color::DarkGray),
    }
}

/// The conversation as rows of at most `width` columns: each message is a speaker line and its
/// wrapped, indented text, with a blank row between messages.
pub fn conversation_rows(app: &App, width: u16) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    for i in 0..app.messages.len() {
        rows.extend(message_rows(app, i, usize::from(width)));
    }
    rows
}

/// The last `needed` rows of [`conversation_rows`] (fewer when the conversation is shorter),
/// wrapping only the newest messages: a frame costs what is visible, not the whole history.
pub fn conversation_tail(app: &App, width: u16, needed: usize) -> Vec<Line<'static>> {
    let mut chunks: Vec<Vec<Line<'static>>> = Vec::new();
    let mut count = 0;
    for i in (0..app.messages.len()).rev() {
        if count >= needed {
            break;
        }
        let rows = message_rows(app, i, usize::from(width));
        count += rows.len();
        chunks.push(rows);
    }
    let mut rows: Vec<Line<'static>> = chunks.into_iter().rev().flatten().collect();
    if rows.len() > needed {
        rows.drain(..rows.len() - needed);
    }
    rows
}

/// Rows of message `i`: a blank separator (except for the first), the speaker line, the text.
fn message_rows(app: &App, i: usize, width: usize) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let Some(m) = app.messages.get(i) else {
        return rows;
    };
    if i > 0 {
        rows.push(Line::default());
    }
    let (indent, body_style) = match m.speaker {
        Speaker::You | Speaker::Curator => ("  ", Style::new()),
        Speaker::Notice => ("", Style::new().fg(Color::DarkGray)),
    };
    match m.speaker {
        Speaker::You => rows.push(Line::styled("you", speaker_style(m.speaker))),
        Speaker::Curator => {
            let mut header = vec![Span::styled("curator", speaker_style(m.speaker))];
            if app.generating && i + 1 == app.messages.len() {
                header.push(Span::raw(format!(" {}", SPINNER[app.spinner % SPINNER.len()])));
            }
            rows.push(Line::from(header));
        }
        Speaker::Notice => {}
    }
    if m.speaker == Speaker::Curator && m.text.is_empty() {
        return rows;
    }
    for r in wrap(&m.text, width.saturating_sub(indent.len())) {
        rows.push(Line::styled(format!("{indent}{r}"), body_style));
    }
    rows
}

fn block(title: &str, focused: bool) -> Block<'static> {
    let style = if focused { Style::new().fg(Color::Yellow) } else { Style::new().fg(Color::Gray) };
    Block::default().borders(Borders::ALL).border_style(style).title(Span::styled(format!(" {title} "), style))
}

/// Draws the whole screen. Reads `app` only.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return;
    }
    let layout = screen_layout(app, area.width, area.height);
    draw_conversation(frame, app, &layout);
    draw_input(frame, app, &layout);
    if let Some(side) = layout.side {
        draw_side(frame, app, side, layout.compact);
    }
    draw_footer(frame, app, layout.footer);
    if app.details {
        draw_details(frame, app, area);
    }
}

/// "Terminal too small", the size and the minimum, wrapped to whatever fits (no cursor).
fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::styled("Terminal too small", Style::new().add_modifier(Modifier::BOLD)),
        Line::raw(format!("{}×{}: need {MIN_WIDTH}×{MIN_HEIGHT}", area.width, area.height)),
    ];
    frame.render_widget(Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }), area);
}

fn draw_conversation(frame: &mut Frame, app: &App, layout: &ScreenLayout) {
    if layout.conversation.is_empty() {
        return;
    }
    let inner = layout.conversation_inner;
    let height = usize::from(inner.height);
    // Only the rows up to the scroll position are wrapped (update keeps `scroll` within range).
    let rows = conversation_tail(app, inner.width, height + app.scroll);
    let scroll = app.scroll.min(rows.len().saturating_sub(height));
    let end = rows.len() - scroll;
    let start = end.saturating_sub(height);
    let visible: Vec<Line<'static>> = rows[start..end].to_vec();
    if !layout.compact {
        let title = if scroll > 0 {
            format!("Curator — {scroll} rows up (PgDn or wheel to follow)")
        } else {
            "Curator".to_string()
        };
        frame.render_widget(block(&title, false), layout.conversation);
    }
    frame.render_widget(Paragraph::new(visible), inner);
}

fn draw_input(frame: &mut Frame, app: &App, layout: &ScreenLayout) {
    let area = layout.input;
    if area.is_empty() {
        return;
    }
    let inner = if layout.compact {
        area
    } else {
        let focused = app.focus == Focus::Input && !app.details;
        let b = block("Message", focused);
        let inner = b.inner(area);
        frame.render_widget(b, area);
        inner
    };
    if inner.is_empty() {
        return;
    }
    let (rows, (crow, ccol)) = app.input.layout(usize::from(inner.width));
    let height = usize::from(inner.height);
    let top = crow.saturating_sub(height.saturating_sub(1));
    if app.input.is_empty() {
        let hint =
            if app.generating { "Esc stops the reply" } else { "Type a message — Enter sends, /help for keys" };
        frame.render_widget(Paragraph::new(Line::styled(hint, Style::new().fg(Color::DarkGray))), inner);
    } else {
        let lines: Vec<Line<'static>> = rows.into_iter().skip(top).take(height).map(Line::from).collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
    if app.focus == Focus::Input && !app.details {
        let x = inner.x + u16::try_from(ccol).unwrap_or(u16::MAX).min(inner.width.saturating_sub(1));
        let y = inner.y + u16::try_from(crow - top).unwrap_or(0).min(inner.height.saturating_sub(1));
        frame.set_cursor_position(Position::new(x, y));
    }
}

/// The recommendation rows of the side panel for `width` columns, and the first row of each item.
fn recommendation_rows(app: &App, width: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    let mut rows = Vec::new();
    let mut starts = Vec::new();
    if app.recommendations.is_empty() {
        let noun = if app.nouns.0.is_empty() { "movie" } else { app.nouns.0.as_str() };
        for r in wrap(&format!("Recommendations appear here. Tell me a {noun} you liked."), width) {
            rows.push(Line::styled(r, Style::new().fg(Color::DarkGray)));
        }
        return (rows, starts);
    }
    let panel_focused = app.focus == Focus::Recommendations;
    for (i, card) in app.recommendations.iter().enumerate() {
        if i > 0 {
            rows.push(Line::default());
        }
        starts.push(rows.len());
        let selected = i == app.selected && panel_focused;
        let marker = if selected { "▶ " } else { "  " };
        let (tag, tag_style) = match card.feedback {
            Some(Polarity::Liked) => (" ✓ liked", Style::new().fg(Color::Green)),
            Some(Polarity::Disliked) => (" ✗ disliked", Style::new().fg(Color::Red)),
            _ => ("", Style::new()),
        };
        let title_style = if selected {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let head = format!("{}. {}", i + 1, card.title);
        let mut first = true;
        for r in wrap(&head, width.saturating_sub(2)) {
            let mut spans = vec![Span::raw(if first { marker } else { "  " }), Span::styled(r, title_style)];
            if first && !tag.is_empty() && width >= 2 {
                spans.push(Span::styled(tag, tag_style));
            }
            first = false;
            rows.push(Line::from(spans));
        }
        if !card.item.genres.is_empty() {
            for r in wrap(&card.item.genres.join(", "), width.saturating_sub(3)) {
                rows.push(Line::styled(format!("   {r}"), Style::new().fg(Color::Blue)));
            }
        }
        for (j, r) in wrap(&card.reason, width.saturating_sub(5)).into_iter().enumerate() {
            let lead = if j == 0 { "   ↳ " } else { "     " };
            rows.push(Line::styled(format!("{lead}{r}"), Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC)));
        }
    }
    (rows, starts)
}

fn taste_rows(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.taste;
    let mut rows = Vec::new();
    let mut field = |label: &str, values: &[String], style: Style| {
        let text = if values.is_empty() { "-".to_string() } else { values.join(", ") };
        let label_w = width.min(10);
        for (j, r) in wrap(&text, width.saturating_sub(label_w)).into_iter().enumerate() {
            let lead = if j == 0 { format!("{label:<label_w$}") } else { " ".repeat(label_w) };
            rows.push(Line::from(vec![Span::styled(lead, Style::new().fg(Color::Gray)), Span::styled(r, style)]));
        }
    };
    field("Liked", &t.liked, Style::new().fg(Color::Green));
    field("Disliked", &t.disliked, Style::new().fg(Color::Red));
    let mut constraints: Vec<String> = t.wanted.clone();
    constraints.extend(t.rejected.iter().map(|g| format!("no {g}")));
    field("Wants", &constraints, Style::new().fg(Color::Blue));
    if !t.seen.is_empty() {
        field("Seen", &t.seen, Style::new().fg(Color::Gray));
    }
    rows
}

fn draw_side(frame: &mut Frame, app: &App, area: Rect, compact: bool) {
    if area.is_empty() {
        return;
    }
    let border = if compact { 0 } else { 2 };
    let inner_w = usize::from(area.width.saturating_sub(border));
    let taste = taste_rows(app, inner_w);
    // Below 12 rows the recommendations get the whole panel.
    let taste_h = if area.height < 12 {
        0
    } else {
        (u16::try_from(taste.len()).unwrap_or(u16::MAX) + border).min(area.height / 2)
    };
    let recs_area = Rect::new(area.x, area.y, area.width, area.height - taste_h);
    let taste_area = Rect::new(area.x, area.y + recs_area.height, area.width, taste_h);

    let focused = app.focus == Focus::Recommendations && !app.details;
    let recs_inner = if compact {
        recs_area
    } else {
        let title =
            if focused { "Recommendations — l like · d dislike · Enter details" } else { "Recommendations (Tab)" };
        let b = block(title, focused);
        let inner = b.inner(recs_area);
        frame.render_widget(b, recs_area);
        inner
    };
    let (rows, starts) = recommendation_rows(app, usize::from(recs_inner.width));
    // Keep the selected item in view.
    let height = usize::from(recs_inner.height);
    let sel_start = starts.get(app.selected).copied().unwrap_or(0);
    let sel_end = starts.get(app.selected + 1).map_or(rows.len(), |s| s.saturating_sub(1));
    let top = if sel_end > height { (sel_end - height).min(sel_start) } else { 0 };
    let visible: Vec<Line<'static>> = rows.into_iter().skip(top).take(height).collect();
    frame.render_widget(Paragraph::new(visible), recs_inner);

    if taste_area.is_empty() {
        return;
    }
    let taste_inner = if compact {
        taste_area
    } else {
        let b = block("What I know about you", false);
        let inner = b.inner(taste_area);
        frame.render_widget(b, taste_area);
        inner
    };
    frame.render_widget(Paragraph::new(taste), taste_inner);
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    if area.is_empty() {
        return;
    }
    let right = if app.generating {
        format!("{} thinking… Esc stops ", SPINNER[app.spinner % SPINNER.len()])
    } else {
        let mut s = format!("model {}", app.model);
        if let Some(l) = &app.latency {
            s.push_str(&format!(" · last reply {:.0} ms", l.total_ms));
            if let Some(ft) = l.first_token_ms {
                s.push_str(&format!(" (first token {ft:.0} ms, {} tokens)", l.tokens));
            }
        }
        s.push(' ');
        s
    };
    let left = if let Some(status) = &app.status {
        Span::styled(format!(" {status}"), Style::new().fg(Color::Yellow))
    } else {
        let hints = if app.details {
            " Esc close · l like · d dislike · ↑/↓ other item"
        } else if app.focus == Focus::Recommendations {
            " ↑/↓ select · l like · d dislike · Enter details · Esc/Tab back · Ctrl+C quit"
        } else {
            " Enter send · Alt+Enter newline · Tab recommendations · /help · Ctrl+C quit"
        };
        Span::styled(hints, Style::new().fg(Color::Gray))
    };
    let total = usize::from(area.width);
    let right_w = width(&right).min(total / 2);
    let right = truncate(&right, right_w);
    let left_w = total - width(&right);
    let left = Span::styled(truncate(&left.content, left_w), left.style);
    let pad = " ".repeat(total.saturating_sub(width(&left.content) + width(&right)));
    let line = Line::from(vec![left, Span::raw(pad), Span::styled(right, Style::new().fg(Color::DarkGray))]);
    frame.render_widget(Paragraph::new(line).style(Style::new().bg(Color::Black)), area);
}

fn draw_details(frame: &mut Frame, app: &App, area: Rect) {
    let Some(card) = app.selected_card() else {
        return;
    };
    let w = area.width.min(78);
    let width = usize::from(w.saturating_sub(2));
    let mut rows: Vec<Line<'static>> = Vec::new();
    let label = Style::new().fg(Color::Gray);
    let mut field = |name: &str, value: String| {
        if value.is_empty() {
            return;
        }
        let label_w = width.min(10);
        for (j, r) in wrap(&value, width.saturating_sub(label_w)).into_iter().enumerate() {
            let lead = if j == 0 { format!("{name:<label_w$}") } else { " ".repeat(label_w) };
            rows.push(Line::from(vec![Span::styled(lead, label), Span::raw(r)]));
        }
    };
    field("Year", card.item.year.map(|y| y.to_string()).unwrap_or_default());
    field("Genres", card.item.genres.join(", "));
    field("Director", card.item.directors.join(", "));
    field("Writers", card.item.writers.join(", "));
    field("Starring", card.item.stars.join(", "));
    for (rel, names) in &card.facts {
        let label = match rel.as_str() {
            "keyword" => "Keywords",
            "company" => "Studio",
            "language" => "Language",
            "sequel" => "Sequels",
            "prequel" => "Prequels",
            other => other,
        };
        field(label, names.join(", "));
    }
    field("Why", card.reason.clone());
    match card.feedback {
        Some(Polarity::Liked) => field("You", "liked it".into()),
        Some(Polarity::Disliked) => field("You", "disliked it".into()),
        _ => {}
    }
    rows.push(Line::default());
    let plot = if card.item.plot.is_empty() { "(no plot summary in the catalog)" } else { card.item.plot.as_str() };
    for r in wrap(plot, width) {
        rows.push(Line::from(r));
    }
    let wanted = u16::try_from(rows.len()).unwrap_or(u16::MAX).saturating_add(2);
    let h = wanted.min(area.height.saturating_sub(2)).max(area.height.min(3));
    let popup = Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h);
    frame.render_widget(Clear, popup);
    let b = block(&truncate(&card.title, usize::from(w.saturating_sub(4))), true);
    let inner = b.inner(popup);
    frame.render_widget(b, popup);
    frame.render_widget(Paragraph::new(rows), inner);
}
