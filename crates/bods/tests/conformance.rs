//! The BODS 0.4 conformance suite (copied from the standard's repository into
//! `tests/conformance/`): every valid file must give no error, every invalid
//! file must give the error its `expected_errors.csv` lists (JSON Schema
//! keyword and JSONPath). Also: real UK PSC + GLEIF data gives no schema error.

use std::fs::File;
use std::path::{Path, PathBuf};

use tuwhera_bods::read::{self, Limits};
use tuwhera_bods::validate::{shape_finding, validate_all, Finding, Severity, Validator};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(name)
}

/// Read a file as the platform does, then validate it, its layout included.
fn check(path: &Path) -> Vec<Finding> {
    let source = path.display().to_string();
    let mut reader = read::read(&source, File::open(path).unwrap(), Limits::default());
    let mut statements = Vec::new();
    for item in reader.by_ref() {
        statements.push(item.statement.unwrap_or_else(|e| panic!("{source}: {e}")));
    }
    let mut findings = validate_all(&Validator::new().unwrap(), &statements);
    findings.extend(shape_finding(reader.shape(), &source));
    findings
}

fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// Cases of the suite this validator does not meet, with the reason (none today).
const KNOWN_MISSES: &[(&str, &str)] = &[];

#[test]
fn conformance_suite() {
    let mut valid_files: Vec<PathBuf> = std::fs::read_dir(dir("valid-statements"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    valid_files.sort();
    let mut misses = Vec::new();
    let mut valid_pass = 0;
    let mut warnings = 0;
    for path in &valid_files {
        let findings = check(path);
        warnings += findings.len() - errors(&findings).len();
        let errors = errors(&findings);
        if errors.is_empty() {
            valid_pass += 1;
        } else {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let list: Vec<String> = errors.iter().map(|f| f.to_string()).collect();
            misses.push((name, format!("valid, but: {}", list.join("; "))));
        }
    }

    let csv = std::fs::read_to_string(dir("invalid-statements/expected_errors.csv")).unwrap();
    let mut invalid_total = 0;
    let mut invalid_pass = 0;
    for line in csv.lines().filter(|l| !l.trim().is_empty()) {
        // file, JSON Schema keyword ("error type"), JSONPath, property name.
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 4, "unexpected CSV line {line:?}");
        let (file, keyword, path) = (fields[0], fields[1], fields[2]);
        invalid_total += 1;
        let findings = check(&dir("invalid-statements").join(file));
        let errors = errors(&findings);
        let hit = errors
            .iter()
            .any(|f| f.rule.schema_keyword() == Some(keyword) && f.path == path);
        if hit {
            invalid_pass += 1;
        } else {
            let got: Vec<String> = errors
                .iter()
                .map(|f| format!("{} at {}", f.rule.code(), f.path))
                .collect();
            misses.push((
                file.to_owned(),
                format!("expected {keyword} at {path}; got [{}]", got.join(", ")),
            ));
        }
    }
    let files_in_dir = std::fs::read_dir(dir("invalid-statements"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(
        files_in_dir, invalid_total,
        "every invalid file has its line in expected_errors.csv"
    );

    println!(
        "valid: {valid_pass}/{}, invalid: {invalid_pass}/{invalid_total}",
        valid_files.len()
    );
    println!("(warnings from additional checks on the valid fragments: {warnings})");
    for (file, reason) in &misses {
        println!("miss: {file}: {reason}");
    }
    let unexpected: Vec<_> = misses
        .iter()
        .filter(|(file, _)| !KNOWN_MISSES.iter().any(|(k, _)| k == file))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected misses (listed above)",
        unexpected.len()
    );
    assert_eq!(valid_files.len(), 111);
    assert_eq!(invalid_total, 192);
    assert_eq!(valid_pass + invalid_pass, 111 + 192 - KNOWN_MISSES.len());
}

#[test]
fn real_uk_psc_and_gleif_data_has_no_schema_errors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/bods/uk-psc-gleif-bods04/all_demo.jsonl");
    let items = read::read_all(
        "all_demo.jsonl",
        File::open(&path).unwrap(),
        Limits::default(),
    );
    assert_eq!(items.len(), 1204);
    let statements: Vec<_> = items.into_iter().map(|i| i.statement.unwrap()).collect();
    let findings = validate_all(&Validator::new().unwrap(), &statements);
    let errors = errors(&findings);
    for f in errors.iter().take(20) {
        println!("{f}");
    }
    assert!(errors.is_empty(), "{} schema errors", errors.len());
    let mut codes = std::collections::BTreeMap::new();
    for f in &findings {
        *codes.entry(f.rule.code()).or_insert(0) += 1;
    }
    println!("warnings by rule: {codes:?}");
}
