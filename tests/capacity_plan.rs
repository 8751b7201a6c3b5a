//! `docs/capacity.md` cites measured figures as [Bn], each listed in its
//! table "Where the measured figures come from" with a section of
//! `docs/benchmarks.md` and a quote: the quote must be in that section, word
//! for word, and every [Bn] the plan uses must be listed (and every listed
//! one used), so a figure in the plan cannot drift from its measurement.

use std::collections::BTreeSet;
use std::path::Path;

fn read(doc: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs of whitespace (line breaks too) made one space.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text under `### {heading}` (or `## `), up to the next heading of
/// that level or above.
fn section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let mut start = None;
    let mut offset = 0;
    for line in doc.split_inclusive('\n') {
        let title = line.trim_end();
        let is_heading = title.starts_with("## ") || title.starts_with("### ");
        match start {
            None if is_heading && title.trim_start_matches('#').trim() == heading => {
                start = Some(offset + line.len());
            }
            Some(from) if is_heading => return Some(&doc[from..offset]),
            _ => {}
        }
        offset += line.len();
    }
    start.map(|from| &doc[from..])
}

/// The rows of the sources table: (id, section, quote).
fn sources(plan: &str) -> Vec<(String, String, String)> {
    let table = section(plan, "Where the measured figures come from")
        .expect("capacity.md has \"## Where the measured figures come from\"");
    let mut rows = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("| B")) {
        // Cells split at unescaped pipes; `\|` inside a quote is a pipe.
        let cells: Vec<String> = line
            .replace("\\|", "\u{0}")
            .split('|')
            .map(|cell| cell.trim().replace('\u{0}', "|"))
            .collect();
        let [_, id, heading, quote, ..] = &cells[..] else {
            panic!("a row of three cells: {line}");
        };
        let quote = quote
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{id}: the quote is in double quotes: {quote}"));
        rows.push((id.clone(), heading.clone(), quote.to_owned()));
    }
    rows
}

#[test]
fn every_measured_figure_in_the_capacity_plan_is_quoted_from_the_benchmarks() {
    let (plan, benchmarks) = (read("capacity.md"), read("benchmarks.md"));
    let rows = sources(&plan);
    assert!(rows.len() >= 10, "the plan lists its sources: {rows:?}");
    for (id, heading, quote) in &rows {
        let text = section(&benchmarks, heading)
            .unwrap_or_else(|| panic!("{id}: benchmarks.md has no section \"{heading}\""));
        assert!(
            words(text).contains(&words(quote)),
            "{id}: \"{quote}\" is not in benchmarks.md, section \"{heading}\""
        );
    }
    let listed: BTreeSet<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(listed.len(), rows.len(), "an id listed twice");
    let body = &plan[..plan
        .find("## Where the measured figures come from")
        .expect("table")];
    let cited: BTreeSet<&str> = body
        .match_indices("[B")
        .filter_map(|(at, _)| {
            let rest = &body[at + 1..];
            rest.find(']').map(|end| &rest[..end])
        })
        .filter(|id| id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(cited, listed, "ids cited in the plan and ids listed differ");
}

#[test]
fn a_quote_that_is_not_in_its_section_is_found_out() {
    let benchmarks = read("benchmarks.md");
    let text = section(
        &benchmarks,
        "Issue 26 (capacity plan): the write path on PostgreSQL, one core",
    )
    .expect("the section");
    assert!(words(text).contains("233 bytes per message besides its text"));
    assert!(!words(text).contains("232 bytes per message besides its text"));
    // A quote from another section is not found in this one.
    assert!(!words(text).contains("about 3.5 KiB per socket"));
}
