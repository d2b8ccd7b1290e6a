//! `target/bench-history.csv` and `target/bench-history/GROUP.svg`: every
//! bench run's ratio per group, kept across runs, and a plot per group of
//! the ratio over the last runs, so a regression shows as a drop.

use std::fmt::Write as _;
use std::path::Path;

/// How many of the latest runs a plot shows.
const PLOTTED_RUNS: usize = 30;

/// Appends one line per group (`unix seconds,group,ratio`) to the history
/// in `target` and redraws every group's plot.
///
/// # Errors
///
/// A file that cannot be read or written.
pub(crate) fn record(target: &Path, ratios: &[(String, f64)]) -> Result<(), String> {
    let csv = target.join("bench-history.csv");
    let mut history = std::fs::read_to_string(&csv).unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for (group, ratio) in ratios {
        let _ = writeln!(history, "{now},{group},{ratio:.4}");
    }
    std::fs::write(&csv, &history).map_err(|e| format!("write {}: {e}", csv.display()))?;
    let plots = target.join("bench-history");
    std::fs::create_dir_all(&plots).map_err(|e| format!("create {}: {e}", plots.display()))?;
    for (group, points) in by_group(&history) {
        let file = plots.join(format!("{group}.svg"));
        std::fs::write(&file, plot(&group, &points))
            .map_err(|e| format!("write {}: {e}", file.display()))?;
    }
    Ok(())
}

/// Each group's ratios in the order recorded, the last [`PLOTTED_RUNS`].
fn by_group(history: &str) -> Vec<(String, Vec<f64>)> {
    let mut groups: Vec<(String, Vec<f64>)> = Vec::new();
    for line in history.lines() {
        let mut fields = line.split(',');
        let (Some(_), Some(group), Some(ratio)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(ratio) = ratio.parse::<f64>() else {
            continue;
        };
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, points)) => points.push(ratio),
            None => groups.push((group.to_owned(), vec![ratio])),
        }
    }
    for (_, points) in &mut groups {
        let skip = points.len().saturating_sub(PLOTTED_RUNS);
        points.drain(..skip);
    }
    groups
}

/// An SVG line plot of `points` (ratio per run), with the 1.0 line marked.
fn plot(group: &str, points: &[f64]) -> String {
    let (w, h, pad) = (480.0, 200.0, 30.0);
    let top = points.iter().copied().fold(1.0_f64, f64::max) * 1.1;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |r: f64| h - pad - (h - 2.0 * pad) * r / top;
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(*r)))
        .collect();
    let last = points.last().copied().unwrap_or(0.0);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">\
         <text x=\"{pad}\" y=\"18\" font-family=\"sans-serif\" font-size=\"13\">{group}: ours ÷ peer over the last {n} runs (last {last:.2})</text>\
         <line x1=\"{pad}\" x2=\"{x2}\" y1=\"{one:.1}\" y2=\"{one:.1}\" stroke=\"#999\" stroke-dasharray=\"4\"/>\
         <text x=\"2\" y=\"{one:.1}\" font-family=\"sans-serif\" font-size=\"10\">1.0</text>\
         <polyline fill=\"none\" stroke=\"#2a6\" stroke-width=\"2\" points=\"{points}\"/></svg>\n",
        n = points.len(),
        x2 = w - pad,
        one = y(1.0),
        points = line.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_their_order_and_only_the_last_runs() {
        let mut history = String::new();
        for i in 0..40 {
            let _ = writeln!(history, "{i},a,{}", f64::from(i));
            let _ = writeln!(history, "{i},b,1.0");
        }
        history.push_str("garbage line\n");
        let groups = by_group(&history);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, "a");
        assert_eq!(groups[0].1.len(), PLOTTED_RUNS);
        assert_eq!(groups[0].1[0], 10.0);
        assert!(plot("a", &groups[0].1).contains("last 39.00"));
    }
}
