//! Agreement with Cardinal 0.0.8 on real data.
//!
//! Runs every indicator over the 10,000 compiled releases of the Dominican
//! Republic's DGCP (after `prepare`, as Cardinal's reference run was), with
//! Cardinal's own settings file, and compares flagged subjects per indicator
//! with Cardinal's output (`tests/cardinal/`, copied from its run). Each
//! indicator's page in `docs/indicators/` must state the differences found
//! here, exactly, and explain them; an undocumented difference fails.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::Value;
use tuwhera_flags::{prepare, Engine, Settings};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_gz_lines(path: &PathBuf) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// (indicator, group) → flagged ids.
fn flagged(result: &Value) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (group, ids) in result.as_object().unwrap() {
        if group == "Meta" || group == "Maps" {
            continue;
        }
        for (id, codes) in ids.as_object().unwrap() {
            for code in codes.as_object().unwrap().keys() {
                out.entry((code.clone(), group.clone()))
                    .or_default()
                    .insert(id.clone());
            }
        }
    }
    out
}

#[test]
fn agrees_with_cardinal_on_dgcp() {
    let settings_text =
        std::fs::read_to_string(root().join("crates/flags/tests/cardinal/settings.ini")).unwrap();
    let settings = Settings::from_cardinal_ini(&settings_text).unwrap();
    let mut releases = read_gz_lines(&root().join("data/ocds/dr-dgcp-10000-compiled.jsonl.gz"));
    let mut changes = 0;
    for (i, release) in releases.iter_mut().enumerate() {
        changes += prepare::prepare(release, &settings.prepare, i as u64 + 1)
            .changes
            .len();
    }
    let engine = Engine::new(settings);
    let outcome = engine.run(&releases);
    let ours = flagged(&outcome.cardinal_json());

    let cardinal_file = std::fs::File::open(
        root().join("crates/flags/tests/cardinal/dr-dgcp-10000.indicators.json.gz"),
    )
    .unwrap();
    let cardinal: Value =
        serde_json::from_reader(flate2::read::GzDecoder::new(cardinal_file)).unwrap();
    let theirs = flagged(&cardinal);

    let their_meta = &cardinal["Meta"];
    for (code, meta) in &outcome.meta {
        let rounded: BTreeMap<_, _> = meta
            .iter()
            .map(|(k, v)| (k.clone(), tuwhera_flags::stats::round4(*v)))
            .collect();
        eprintln!("meta {code}: ours {rounded:?}");
        eprintln!("meta {code}: Cardinal's {}", their_meta[*code]);
    }
    for note in &outcome.notes {
        eprintln!(
            "note {}: {} ({} processes)",
            note.code, note.reason, note.processes
        );
    }
    let keys: BTreeSet<_> = ours.keys().chain(theirs.keys()).cloned().collect();
    let empty = BTreeSet::new();
    let mut report = String::new();
    let mut undocumented = Vec::new();
    eprintln!("prepare made {changes} changes");
    eprintln!(
        "{:<6} {:<16} {:>6} {:>9} {:>15}",
        "code", "group", "both", "only ours", "only Cardinal's"
    );
    for (code, group) in &keys {
        let a = ours.get(&(code.clone(), group.clone())).unwrap_or(&empty);
        let b = theirs.get(&(code.clone(), group.clone())).unwrap_or(&empty);
        let both = a.intersection(b).count();
        let only_ours: Vec<_> = a.difference(b).collect();
        let only_theirs: Vec<_> = b.difference(a).collect();
        let line = format!(
            "{code:<6} {group:<16} {both:>6} {:>9} {:>15}",
            only_ours.len(),
            only_theirs.len()
        );
        eprintln!("{line}");
        for id in only_ours.iter().take(3) {
            eprintln!("        only ours: {id}");
        }
        for id in only_theirs.iter().take(3) {
            eprintln!("        only Cardinal's: {id}");
        }
        report.push_str(&line);
        report.push('\n');
        if !only_ours.is_empty() || !only_theirs.is_empty() {
            // The page must state this exact line in its agreement table.
            let page = root().join(format!("docs/indicators/{code}.md"));
            let text = std::fs::read_to_string(&page).unwrap_or_default();
            let needle = format!(
                "| {group} | {both} | {} | {} |",
                only_ours.len(),
                only_theirs.len()
            );
            if !text.contains(&needle) {
                undocumented.push(format!("{}: missing `{needle}`", page.display()));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "differences from Cardinal not documented:\n{}",
        undocumented.join("\n")
    );
}
