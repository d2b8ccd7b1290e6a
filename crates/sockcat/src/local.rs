//! The local end of a session: where its outgoing messages come from (stdin,
//! or an --exec command's stdout, read into messages by the input format)
//! and where received ones go (stdout through one writer task, or the
//! command's stdin).

use std::io;

use futures::StreamExt;
use sock::codec::BytesLineCodec;
use sock::{Bytes, FramedRead};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};

use crate::exit::{self, Failure};
use crate::format::InputFormat;

/// How many messages may wait between a reader and its session.
pub(crate) const CHANNEL_DEPTH: usize = 64;

/// The size of one read of unframed input.
const CHUNK: usize = 64 * 1024;

/// The messages a session sends: `Err` ends it with that failure, the end
/// of the channel is the end of input.
pub(crate) type InputRx = mpsc::Receiver<Result<Bytes, Failure>>;
/// The sending end of an [`InputRx`].
pub(crate) type InputTx = mpsc::Sender<Result<Bytes, Failure>>;

/// Where a session's received messages go, already rendered.
#[derive(Debug)]
pub(crate) enum LocalOut {
    /// Stdout's writer task.
    Stdout(Stdout),
    /// An --exec command's stdin; `None` once it stopped taking input.
    Child(Option<ChildStdin>),
    /// Nowhere (the broker relays instead).
    Discard,
}

impl LocalOut {
    /// Writes one rendered message.
    pub(crate) async fn write(&mut self, bytes: Vec<u8>) -> Result<(), Failure> {
        match self {
            Self::Stdout(stdout) => stdout.write(bytes).await,
            Self::Child(stdin) => {
                if let Some(pipe) = stdin {
                    // A command that stopped reading (or exited) gets no more
                    // input; the session goes on until the peer is done.
                    if pipe.write_all(&bytes).await.is_err() || pipe.flush().await.is_err() {
                        *stdin = None;
                    }
                }
                Ok(())
            }
            Self::Discard => Ok(()),
        }
    }
}

/// The local end of one session.
#[derive(Debug)]
pub(crate) struct Local {
    /// Messages to send.
    pub(crate) input: InputRx,
    /// Where received messages go.
    pub(crate) output: LocalOut,
    /// The --exec command, ended when the session ends.
    pub(crate) child: Option<Child>,
}

/// What the stdout task is sent.
#[derive(Debug)]
enum ToStdout {
    /// Bytes to write.
    Data(Vec<u8>),
    /// Answer once everything before is written.
    Flush(oneshot::Sender<()>),
}

/// A handle on the task that owns stdout.
#[derive(Debug, Clone)]
pub(crate) struct Stdout {
    tx: mpsc::Sender<ToStdout>,
}

impl Stdout {
    /// Queues `bytes` for stdout.
    pub(crate) async fn write(&self, bytes: Vec<u8>) -> Result<(), Failure> {
        self.tx
            .send(ToStdout::Data(bytes))
            .await
            .map_err(|_| Failure::StdoutClosed)
    }

    /// Waits until everything queued so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(ToStdout::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Starts the task that owns stdout: it writes what it is sent, flushing
/// after each message. When stdout is closed (`EPIPE`) the process exits at
/// once with [`exit::STDOUT_CLOSED`], printing nothing, as a process killed
/// by `SIGPIPE` would.
pub(crate) fn start_stdout<W: AsyncWrite + Unpin + Send + 'static>(mut out: W) -> Stdout {
    let (tx, mut rx) = mpsc::channel::<ToStdout>(CHANNEL_DEPTH);
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let bytes = match message {
                ToStdout::Data(bytes) => bytes,
                ToStdout::Flush(done) => {
                    let _ = done.send(());
                    continue;
                }
            };
            let written = match out.write_all(&bytes).await {
                Ok(()) => out.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    std::process::exit(i32::from(exit::STDOUT_CLOSED));
                }
                Failure::local("writing stdout", e).print();
                std::process::exit(i32::from(exit::OTHER));
            }
        }
    });
    Stdout { tx }
}

/// Reads `reader` into messages as `format` says, on a task of its own:
/// lines of at most `max_line` bytes, or chunks as they come.
pub(crate) fn spawn_reader<R>(
    reader: R,
    format: InputFormat,
    max_line: usize,
    what: &'static str,
) -> InputRx
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    tokio::spawn(async move {
        if format.by_line() {
            let mut lines = FramedRead::new(reader, BytesLineCodec::with_max_length(max_line));
            let mut number = 0u64;
            while let Some(line) = lines.next().await {
                number += 1;
                let message = match line {
                    Ok(line) => match format.parse_line(line, number) {
                        Ok(Some(message)) => Ok(message),
                        Ok(None) => continue,
                        Err(e) => Err(e),
                    },
                    Err(e) if is_closed(&e) => break,
                    Err(e) => Err(Failure::input(
                        format!("{what} line {number}"),
                        sock::Report(&e),
                    )),
                };
                let failed = message.is_err();
                if tx.send(message).await.is_err() || failed {
                    break;
                }
            }
        } else {
            read_chunks(reader, &tx, what).await;
        }
    });
    rx
}

/// Sends what `reader` gives, a read at a time.
async fn read_chunks<R: AsyncRead + Unpin>(
    mut reader: R,
    tx: &mpsc::Sender<Result<Bytes, Failure>>,
    what: &str,
) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0; CHUNK];
    loop {
        let message = match reader.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.raw_os_error() == Some(EBADF) => return,
            Err(e) => Err(Failure::local(format!("reading {what}"), e)),
        };
        let failed = message.is_err();
        if tx.send(message).await.is_err() || failed {
            return;
        }
    }
}

/// `EBADF`: stdin was closed before sockcat started (`<&-`), which is read
/// as an empty stdin.
const EBADF: i32 = 9;

/// Whether a read error means the input was never open.
fn is_closed(error: &sock::Error) -> bool {
    matches!(error, sock::Error::Io(e) if e.raw_os_error() == Some(EBADF))
}
