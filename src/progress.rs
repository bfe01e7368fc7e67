//! Readable progress for long loops, in a terminal and in a notebook.
//!
//! In a terminal an indicatif bar is drawn on stderr. Inside evcxr (which streams stdout while a cell
//! runs but cannot redraw a bar) and when output is not a terminal, a plain line is printed every few
//! percent instead. Solvers take a [`Progress`] so a caller can silence or redirect it.

use std::io::IsTerminal;
use std::time::Instant;

/// How a long loop reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar in a terminal, periodic lines elsewhere (the default).
    #[default]
    Auto,
    /// Periodic lines on stdout, whatever the output is.
    Lines,
    /// Nothing at all (tests, benchmarks).
    Silent,
}

/// A progress reporter for a loop of known length; see the module docs.
pub struct Progress {
    total: u64,
    label: String,
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    next_line_at: u64,
    line_every: u64,
    started: Instant,
}

impl Progress {
    /// Starts reporting a loop of `total` steps named `label`.
    pub fn new(label: &str, total: u64, mode: ProgressMode) -> Self {
        let in_notebook = std::env::var_os("EVCXR_IS_RUNTIME").is_some();
        let (bar, lines) = match mode {
            ProgressMode::Silent => (None, false),
            ProgressMode::Lines => (None, true),
            ProgressMode::Auto if !in_notebook && std::io::stderr().is_terminal() => {
                let bar = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(label.to_string());
                (Some(bar), false)
            }
            ProgressMode::Auto => (None, true),
        };
        let line_every = (total / 10).max(1);
        Progress {
            total,
            label: label.to_string(),
            bar,
            lines,
            next_line_at: line_every,
            line_every,
            started: Instant::now(),
        }
    }

    /// Records that `step` steps are done; `message` (a loss, say) is shown beside the count.
    pub fn update(&mut self, step: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            bar.set_message(message());
        } else if self.lines && (step >= self.next_line_at || step == self.total) {
            println!(
                "{}: {}/{} ({:.0}%, {:.1} s) {}",
                self.label,
                step,
                self.total,
                100.0 * step as f64 / self.total.max(1) as f64,
                self.started.elapsed().as_secs_f64(),
                message()
            );
            while self.next_line_at <= step {
                self.next_line_at += self.line_every;
            }
        }
    }

    /// Ends the report (clears the bar) and returns the elapsed seconds.
    pub fn finish(self) -> f64 {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed().as_secs_f64()
    }
}
