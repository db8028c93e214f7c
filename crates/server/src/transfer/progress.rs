//! Progress of an import or export on stderr: an `indicatif` bar (customers/s, ETA when the
//! size is known) when stderr is a terminal, nothing but the final summary line otherwise, so
//! logs of scripted runs stay one line long. Must not write to stdout (exports may go there).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// A running count of processed customers.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// Starts counting; `total` (bytes or customers, whatever `advance` counts) gives an ETA.
    pub fn start(total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "{bar:30} {percent:>3}% {msg} (ETA {eta})"
            } else {
                "{spinner} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    /// Moves the bar by `amount` and shows `done` customers and the rate so far.
    pub fn advance(&self, amount: u64, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(amount);
            bar.set_message(format!("{done} customers, {:.0}/s", self.rate(done)));
        }
    }

    /// Prints a line above the bar (or plainly when there is none).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn rate(&self, done: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            done as f64 / secs
        } else {
            0.0
        }
    }

    /// Clears the bar and prints `summary` with the elapsed time and rate, as one line.
    pub fn finish(self, summary: &str, done: u64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "{summary} in {:.1}s ({:.0} customers/s)",
            self.started.elapsed().as_secs_f64(),
            self.rate(done)
        );
    }
}
