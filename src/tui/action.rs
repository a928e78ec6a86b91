//! Terminal events → [`Action`]s. Which action a key means depends on where the focus is (the
//! editor, the recommendations, the details view) and whether a reply is being generated; the
//! mapping reads the [`App`] and changes nothing.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::app::{Action, App, Focus};

/// Rows scrolled per wheel notch.
pub const WHEEL_ROWS: usize = 3;

/// The action for a terminal event, if any.
pub fn action_for(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) => key_action(app, key),
        Event::Paste(text) => Some(Action::Paste(text.clone())),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp(WHEEL_ROWS)),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown(WHEEL_ROWS)),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        Event::FocusGained | Event::FocusLost => None,
    }
}

/// The action for a key press (releases are ignored).
pub fn key_action(app: &App, key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // Keys that mean the same everywhere.
    match key.code {
        KeyCode::Char('c') if ctrl => return Some(Action::Quit),
        KeyCode::Char('d') if ctrl && app.input.is_empty() => return Some(Action::Quit),
        KeyCode::Esc if app.generating => return Some(Action::Cancel),
        KeyCode::Esc => return Some(Action::Back),
        KeyCode::PageUp => return Some(Action::ScrollUp(page(app))),
        KeyCode::PageDown => return Some(Action::ScrollDown(page(app))),
        KeyCode::Tab | KeyCode::BackTab if !app.details => return Some(Action::ToggleFocus),
        _ => {}
    }
    if app.details || app.focus == Focus::Recommendations {
        return match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::SelectPrev),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::SelectNext),
            KeyCode::Char('l' | '+') => Some(Action::Like),
            KeyCode::Char('d' | '-') => Some(Action::Dislike),
            KeyCode::Enter | KeyCode::Char('i') | KeyCode::Right if !app.details => Some(Action::OpenDetails),
            KeyCode::Enter | KeyCode::Char('q') | KeyCode::Left if app.details => Some(Action::Back),
            KeyCode::Char(c @ '1'..='9') => Some(Action::Select(usize::from(c as u8 - b'1'))),
            // Any other character goes back to the editor and is typed there.
            KeyCode::Char(c) if !ctrl && !alt => Some(Action::Insert(c)),
            _ => None,
        };
    }
    let action = match key.code {
        KeyCode::Enter if shift || alt || ctrl => Action::Newline,
        KeyCode::Enter => Action::Submit,
        KeyCode::Char('j') if ctrl => Action::Newline,
        KeyCode::Char('a') if ctrl => Action::Home,
        KeyCode::Char('e') if ctrl => Action::End,
        KeyCode::Char(_) if ctrl || alt => return None,
        KeyCode::Char(c) => Action::Insert(c),
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Delete => Action::Delete,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::Home => Action::Home,
        KeyCode::End => Action::End,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        _ => return None,
    };
    Some(action)
}

fn page(app: &App) -> usize {
    usize::from(app.size.1 / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventState, MouseEvent};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent { code, modifiers, kind: KeyEventKind::Press, state: KeyEventState::NONE })
    }

    #[test]
    fn keys_depend_on_focus_and_generation() {
        let mut app = App::new("none", 1, (80, 24));
        let none = KeyModifiers::NONE;
        assert_eq!(action_for(&app, &key(KeyCode::Enter, none)), Some(Action::Submit));
        assert_eq!(action_for(&app, &key(KeyCode::Enter, KeyModifiers::ALT)), Some(Action::Newline));
        assert_eq!(action_for(&app, &key(KeyCode::Enter, KeyModifiers::SHIFT)), Some(Action::Newline));
        assert_eq!(action_for(&app, &key(KeyCode::Char('j'), KeyModifiers::CONTROL)), Some(Action::Newline));
        assert_eq!(action_for(&app, &key(KeyCode::Char('l'), none)), Some(Action::Insert('l')));
        assert_eq!(action_for(&app, &key(KeyCode::Char('é'), KeyModifiers::SHIFT)), Some(Action::Insert('é')));
        assert_eq!(action_for(&app, &key(KeyCode::Esc, none)), Some(Action::Back));
        assert_eq!(action_for(&app, &key(KeyCode::Char('d'), KeyModifiers::CONTROL)), Some(Action::Quit));
        app.generating = true;
        assert_eq!(action_for(&app, &key(KeyCode::Esc, none)), Some(Action::Cancel));
        app.focus = Focus::Recommendations;
        assert_eq!(action_for(&app, &key(KeyCode::Char('l'), none)), Some(Action::Like));
        assert_eq!(action_for(&app, &key(KeyCode::Char('d'), none)), Some(Action::Dislike));
        assert_eq!(action_for(&app, &key(KeyCode::Char('2'), none)), Some(Action::Select(1)));
        assert_eq!(action_for(&app, &key(KeyCode::Enter, none)), Some(Action::OpenDetails));
        assert_eq!(action_for(&app, &key(KeyCode::Char('s'), none)), Some(Action::Insert('s')));
        app.details = true;
        assert_eq!(action_for(&app, &key(KeyCode::Enter, none)), Some(Action::Back));
        assert_eq!(action_for(&app, &key(KeyCode::Tab, none)), None);
        assert_eq!(action_for(&app, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('x'),
            modifiers: none,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        assert_eq!(action_for(&app, &release), None);
        let wheel = Event::Mouse(MouseEvent { kind: MouseEventKind::ScrollUp, column: 0, row: 0, modifiers: none });
        assert_eq!(action_for(&app, &wheel), Some(Action::ScrollUp(WHEEL_ROWS)));
        assert_eq!(action_for(&app, &Event::Resize(40, 12)), Some(Action::Resize(40, 12)));
    }
}
