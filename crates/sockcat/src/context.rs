//! What a run decided from its command line and shares with every part:
//! the session settings, the framing, the input format, verbosity, stdout;
//! and the local end each new connection gets.

use std::fmt;

use crate::exec;
use crate::exit::Failure;
use crate::format::InputFormat;
use crate::frame::{FrameSpec, WireCodec};
use crate::local::{InputRx, Local, LocalOut, Stdout};
use crate::session::Settings;

/// The run's shared decisions.
#[derive(Debug)]
pub(crate) struct Context {
    /// What sessions share.
    pub(crate) settings: Settings,
    /// `--frame`, with UDP's default applied.
    pub(crate) frame: FrameSpec,
    /// `--max-frame`, with the framing's default applied.
    pub(crate) max_frame: usize,
    /// How local input becomes messages.
    pub(crate) input: InputFormat,
    /// `--exec`.
    pub(crate) exec: Option<String>,
    /// `-v` count.
    pub(crate) verbose: u8,
    /// Stdout's writer.
    pub(crate) stdout: Stdout,
}

impl Context {
    /// The socket's codec.
    pub(crate) fn codec(&self) -> WireCodec {
        self.frame.codec(self.max_frame)
    }

    /// The longest local input line taken.
    pub(crate) fn max_input_line(&self) -> usize {
        // A hex line is two digits a byte, a JSON line up to 4/3 in base64
        // plus its fields: leave room for either.
        self.max_frame.saturating_mul(3).saturating_add(1024)
    }

    /// Prints `line` on stderr with `-v`.
    pub(crate) fn say(&self, line: impl fmt::Display) {
        if self.verbose > 0 {
            eprintln!("sockcat: {line}");
        }
    }

    /// The local end of a new connection: its own --exec command, or
    /// `stdin` (the whole of stdin, or the connection's share of it) and
    /// stdout.
    pub(crate) fn local(&self, stdin: InputRx) -> Result<Local, Failure> {
        match &self.exec {
            Some(command) => {
                self.say(format_args!("running {command:?} for the connection"));
                exec::spawn(command, self.input, self.max_input_line())
            }
            None => Ok(Local {
                input: stdin,
                output: LocalOut::Stdout(self.stdout.clone()),
                child: None,
            }),
        }
    }
}
