//! `--exec COMMAND`: a process per connection (`sh -c COMMAND`), its stdout
//! read into messages for the peer and the peer's messages written to its
//! stdin, as `ncat --exec` does; its stderr is sockcat's.

use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::exit::Failure;
use crate::format::InputFormat;
use crate::local::{spawn_reader, Local, LocalOut};

/// Starts `command` for one connection, as the session's local end.
pub(crate) fn spawn(command: &str, input: InputFormat, max_line: usize) -> Result<Local, Failure> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Failure::local(format!("starting {command:?}"), e))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(Failure::local(
            format!("starting {command:?}"),
            std::io::Error::other("its stdin and stdout are not pipes"),
        ));
    };
    Ok(Local {
        input: spawn_reader(stdout, input, max_line, "the command's output"),
        output: LocalOut::Child(Some(stdin)),
        child: Some(child),
    })
}

/// Ends the command of a finished session: it has had its input closed and
/// its output read to the end, or the session failed; either way it goes.
pub(crate) async fn reap(mut child: Child) {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.start_kill();
    }
    let _ = child.wait().await;
}
