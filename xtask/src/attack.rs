//! `cargo xtask attack [--short] [--only NAME-PART]`: the attack suite
//! (`attack/`), built in release mode, its table also written to
//! `target/attack-report.md`. `cargo xtask test` runs the short form.

use crate::{cargo, check_options, project_root, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--short", "--only"])?;
    let mut forwarded: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--short" => forwarded.push("--short"),
            "--only" => {
                let part = rest.next().ok_or_else(|| {
                    format!("--only needs a part of an attack's name\n{}", crate::USAGE)
                })?;
                forwarded.extend(["--only", part.as_str()]);
            }
            other => return Err(format!("unexpected argument {other:?}\n{}", crate::USAGE)),
        }
    }
    let report = project_root().join("target").join("attack-report.md");
    let report = report.to_string_lossy().into_owned();
    let mut cmd = cargo(&[
        "run",
        "--quiet",
        "--release",
        "--package",
        "sock-attack",
        "--",
        "--report",
        &report,
    ]);
    cmd.args(&forwarded);
    let title = if forwarded.contains(&"--short") {
        "attack suite (short)"
    } else {
        "attack suite"
    };
    run_step(title, cmd)
}
