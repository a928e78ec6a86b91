//! `curator chat`'s terminal UI (ratatui + crossterm).
//!
//! The shape follows the action → update → draw pattern: terminal events and agent events become
//! [`app::Action`]s ([`action`]); [`app::update`] changes the [`app::App`] state and returns
//! [`app::Effect`]s; [`draw::draw`] renders the state with no I/O. The agent lives on its own
//! thread ([`worker`]) and reports over a channel, so typing and scrolling stay responsive while a
//! reply is written, and Esc stops a reply promptly. [`run::run`] owns the terminal and restores
//! it on exit, on error and on panic.
//!
//! Invariants: `draw` never panics, whatever the terminal size (down to 1×1) or the text (wide
//! characters, emoji, combining marks); `update` does no I/O.

pub mod action;
pub mod app;
pub mod draw;
pub mod input;
pub mod run;
pub mod worker;
pub mod wrap;

pub use app::{update, Action, App, Effect};
pub use run::{event_loop, run, Incoming};
