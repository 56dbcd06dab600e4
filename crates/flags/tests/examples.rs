//! The examples in the indicator pages run.
//!
//! Each `docs/indicators/R0NN.md` has an `## Example` section with an optional
//! ```` ```toml ```` block (settings), a ```` ```jsonl ```` block (compiled
//! releases, one a line) and a ```` ```json ```` block: what
//! `Outcome::cardinal_json()` gives for those releases with only that page's
//! indicator enabled. This test runs every example and compares, checks that
//! each page has its title and sections in order, and that the reason of each
//! flag the example raises is quoted in the page's `## Output` section.

use std::path::PathBuf;

use serde_json::Value;
use tuwhera_flags::{Engine, Settings, INDICATORS};

fn docs() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/indicators"
    ))
}

/// The sections every page has, in order; the last is optional.
const SECTIONS: &[&str] = &[
    "Definition",
    "Why it matters",
    "Fields used",
    "Settings",
    "Example",
    "Output",
    "Agreement with Cardinal",
    "What we add to Cardinal",
];

/// The text under `## {heading}`, up to the next `## ` heading.
fn section<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("\n## {heading}\n");
    let start = text.find(&marker)? + marker.len();
    let rest = &text[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
}

/// The fenced code blocks in `text`: (info string, body).
fn fenced(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    blocks
}

/// `R003` for `R003.md`: an R and three digits.
fn indicator_page(file_name: &str) -> Option<&str> {
    let code = file_name.strip_suffix(".md")?;
    let digits = code.strip_prefix('R')?;
    (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Every indicator off except `code`.
fn only(settings: &mut Settings, code: &str) {
    let s = settings;
    for (c, enabled) in [
        ("R003", &mut s.r003.enabled),
        ("R018", &mut s.r018.enabled),
        ("R024", &mut s.r024.enabled),
        ("R025", &mut s.r025.enabled),
        ("R028", &mut s.r028.enabled),
        ("R030", &mut s.r030.enabled),
        ("R035", &mut s.r035.enabled),
        ("R036", &mut s.r036.enabled),
        ("R038", &mut s.r038.enabled),
        ("R048", &mut s.r048.enabled),
        ("R058", &mut s.r058.enabled),
    ] {
        *enabled = c == code;
    }
}

/// Equal JSON, numbers compared as f64 within 1e-9.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn check(code: &str, title: &str, text: &str) -> Result<(), String> {
    let first = text.lines().next().unwrap_or_default();
    let wanted = format!("# {code} — {title}");
    if first != wanted {
        return Err(format!("first line is {first:?}, not {wanted:?}"));
    }
    let headings: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    let required = &SECTIONS[..SECTIONS.len() - 1];
    if headings.as_slice() != required && headings.as_slice() != SECTIONS {
        return Err(format!(
            "sections are {headings:?}, not {required:?} (+ optional {:?})",
            SECTIONS[SECTIONS.len() - 1]
        ));
    }

    let example = section(text, "Example").ok_or("no ## Example section")?;
    let blocks = fenced(example);
    let block = |info: &str| -> Vec<&String> {
        blocks
            .iter()
            .filter(|(i, _)| i == info)
            .map(|(_, body)| body)
            .collect()
    };
    let (tomls, jsonls, jsons) = (block("toml"), block("jsonl"), block("json"));
    if tomls.len() > 1 || jsonls.len() != 1 || jsons.len() != 1 {
        return Err(format!(
            "the example needs at most one toml block and exactly one jsonl and one json block; found {}, {}, {}",
            tomls.len(),
            jsonls.len(),
            jsons.len()
        ));
    }
    let infos: Vec<&str> = blocks.iter().map(|(i, _)| i.as_str()).collect();
    if !tomls.is_empty() && infos.first() != Some(&"toml") {
        return Err("the toml block must come before the jsonl block".into());
    }

    let mut settings = match tomls.first() {
        Some(t) => Settings::from_toml(t).map_err(|e| format!("toml block: {e}"))?,
        None => Settings::default(),
    };
    only(&mut settings, code);
    let releases: Vec<Value> = jsonls[0]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("jsonl line {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    let expected: Value = serde_json::from_str(jsons[0]).map_err(|e| format!("json block: {e}"))?;

    let outcome = Engine::new(settings).run(&releases);
    let actual = outcome.cardinal_json();
    let reasons: Vec<&str> = outcome.flags.iter().map(|f| f.reason.as_str()).collect();
    if !same(&actual, &expected) {
        return Err(format!(
            "expected\n{}\nbut the example gives\n{}\nreasons: {reasons:#?}\nnotes: {:?}",
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            serde_json::to_string_pretty(&actual).unwrap_or_default(),
            outcome.notes
        ));
    }
    if outcome.flags.is_empty() {
        return Err("the example flags nothing".into());
    }
    let output = section(text, "Output").ok_or("no ## Output section")?;
    for reason in reasons {
        if !output.contains(reason) {
            return Err(format!("## Output does not quote the reason {reason:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_page_example_runs() {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(docs()).expect("docs/indicators") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(code) = indicator_page(name) {
            pages.push((code.to_string(), path));
        }
    }
    pages.sort();
    let codes: Vec<&str> = pages.iter().map(|(c, _)| c.as_str()).collect();
    let all: Vec<&str> = INDICATORS.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, all, "one page per indicator");

    let mut failures = Vec::new();
    for ((code, path), (_, title)) in pages.iter().zip(INDICATORS) {
        let text = std::fs::read_to_string(path).expect("page");
        if let Err(e) = check(code, title, &text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn page(name: &str) -> String {
    let path = docs().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn settings_page_lists_the_defaults() {
    let text = page("settings.md");
    let defaults = section(&text, "Every setting, with its default").expect("section");
    let blocks = fenced(defaults);
    let [(info, toml)] = blocks.as_slice() else {
        panic!("one code block expected, found {}", blocks.len());
    };
    assert_eq!(info, "toml");
    let settings = Settings::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(settings, Settings::default());
}

#[test]
fn settings_page_ini_example_matches_its_toml() {
    let text = page("settings.md");
    let ini = section(&text, "Cardinal's INI file").expect("section");
    let blocks = fenced(ini);
    let [(a, ini), (b, toml)] = blocks.as_slice() else {
        panic!("an ini and a toml block expected, found {}", blocks.len());
    };
    assert_eq!((a.as_str(), b.as_str()), ("ini", "toml"));
    let from_ini = Settings::from_cardinal_ini(ini).unwrap_or_else(|e| panic!("{e}"));
    let from_toml = Settings::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_ini, from_toml);
    assert_ne!(from_toml, Settings::default());
}

#[test]
fn every_toml_snippet_parses() {
    for entry in std::fs::read_dir(docs()).expect("docs/indicators") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if indicator_page(name).is_none() && name != "settings.md" {
            continue;
        }
        for (info, body) in fenced(&page(name)) {
            if info == "toml" {
                if let Err(e) = Settings::from_toml(&body) {
                    panic!("{name}: {e}\n{body}");
                }
            }
        }
    }
}
