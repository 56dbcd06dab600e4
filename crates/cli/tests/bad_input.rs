//! `tuwhera ocds compile` on broken, hostile and unusual input: each test checks
//! the exit status (0 clean, 1 data errors, 2 usage or I/O failure), the message
//! on stderr (with file:line:column) and that the rest of the input was still
//! compiled.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tempfile::TempDir;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The compiled releases on stdout, one per line.
    fn compiled(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:.200}")))
            .collect()
    }

    fn ocids(&self) -> Vec<String> {
        ocids(&self.compiled())
    }

    /// Panic with everything the command printed, to explain a failed assertion.
    fn explain(&self) -> String {
        format!(
            "exit {}\n--- stderr ---\n{}\n--- stdout ({} bytes) ---\n{:.2000}",
            self.code,
            self.stderr,
            self.stdout.len(),
            self.stdout
        )
    }
}

fn ocids(compiled: &[Value]) -> Vec<String> {
    compiled
        .iter()
        .map(|v| v["ocid"].as_str().expect("ocid").to_owned())
        .collect()
}

/// Run `tuwhera ocds compile ARGS`, feeding `stdin` if given.
fn compile<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tuwhera"))
        .args(["ocds", "compile"])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tuwhera");
    let feeder = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let data = data.to_vec();
        std::thread::spawn(move || pipe.write_all(&data))
    });
    let out = child.wait_with_output().expect("wait for tuwhera");
    if let Some(f) = feeder {
        f.join().expect("stdin feeder").expect("write stdin");
    }
    Run {
        code: out
            .status
            .code()
            .expect("exit code (not killed by a signal)"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

fn release(ocid: &str, id: &str, date: &str) -> Value {
    json!({
        "ocid": ocid,
        "id": id,
        "date": date,
        "tag": ["tender"],
        "initiationType": "tender",
        "tender": {"id": format!("{ocid}-tender"), "title": format!("Tender of {ocid}")},
    })
}

fn jsonl(releases: &[Value]) -> String {
    releases.iter().map(|r| format!("{r}\n")).collect()
}

const D1: &str = "2020-01-01T00:00:00Z";
const D2: &str = "2020-02-01T00:00:00Z";

/// 1-based (line, column) of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// `path:line:column`, as the messages write it.
fn at(path: &Path, line: usize, column: usize) -> String {
    format!("{}:{line}:{column}", path.display())
}

#[test]
fn malformed_json_in_one_file_among_good_files() {
    let dir = TempDir::new().unwrap();
    let a = write(
        &dir,
        "a.jsonl",
        jsonl(&[release("ocds-a-1", "1", D1), release("ocds-a-2", "1", D1)]),
    );
    // A pretty-printed release package whose second release misses a comma.
    let broken = format!(
        r#"{{
  "uri": "https://example.com/b.json",
  "version": "1.1",
  "releases": [
    {},
    {{
      "ocid": "ocds-b-2",
      "id": "1",
      "date": "{D1}",
      "tender": {{
        "title": "Broken"
        "status": "active"
      }}
    }}
  ]
}}
"#,
        release("ocds-b-1", "1", D1)
    );
    let b = write(&dir, "b.json", &broken);
    let c = write(&dir, "c.jsonl", jsonl(&[release("ocds-c-1", "1", D1)]));
    let run = compile(&[&a, &b, &c], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    let (line, column) = position_of(&broken, "\"status\"");
    assert_eq!((line, column), (12, 9));
    let expected = format!(
        "{}: invalid JSON: expected `,` or `}}`",
        at(&b, line, column)
    );
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(
        run.ocids(),
        ["ocds-a-1", "ocds-a-2", "ocds-b-1", "ocds-c-1"],
        "{}",
        run.explain()
    );
}

#[test]
fn malformed_line_in_json_lines() {
    let dir = TempDir::new().unwrap();
    let text = format!(
        "{}{{\"ocid\": \"ocds-2\", \"id\": \"1\", \"date\": \"{D1}\", \"tender\": {{\"title\": \"x\",}}}}\n{}",
        jsonl(&[release("ocds-1", "1", D1)]),
        jsonl(&[release("ocds-3", "1", D1)])
    );
    let f = write(&dir, "releases.jsonl", &text);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    let (line, column) = position_of(&text, ",}}");
    let column = column + 1;
    assert_eq!(line, 2);
    let expected = format!("{}: invalid JSON: trailing comma", at(&f, line, column));
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-1", "ocds-3"], "{}", run.explain());
}

/// CRC-32 (IEEE), as gzip's trailer wants it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip file whose deflate stream is made of stored (uncompressed) blocks.
/// The CLI crate has no compression dependency; the reader's tests cover
/// compressed streams (crates/ocds/tests/reader_shapes.rs).
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len())); // BFINAL; BTYPE 00 (stored)
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[test]
fn truncated_gzip() {
    let dir = TempDir::new().unwrap();
    let releases: Vec<Value> = (0..3000)
        .map(|i| release(&format!("ocds-{i:05}"), "1", D1))
        .collect();
    let text = jsonl(&releases);
    let gz = gzip_stored(text.as_bytes());
    // The whole stream is fine (this checks the test's gzip writer).
    let whole = write(&dir, "whole.jsonl.gz", &gz);
    let run = compile(&[&whole], None);
    assert_eq!(run.code, 0, "{}", run.explain());
    assert_eq!(run.ocids().len(), 3000);

    // Cut the gzip file in the middle of line 1801 (release ocds-01800).
    let (line_1801, _) = text.match_indices('\n').nth(1799).unwrap();
    let data_cut = line_1801 + 1 + 80;
    // Stored blocks: a 10-byte header, then 5 bytes before each block of 65,535.
    let gz_cut = 10 + 5 * (data_cut / 65_535 + 1) + data_cut;
    let cut = write(&dir, "cut.jsonl.gz", &gz[..gz_cut]);
    let run = compile(&[&cut], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.stderr.contains(&format!("{}:", cut.display()))
            && run.stderr.contains("gzip stream is damaged or truncated"),
        "{}",
        run.explain()
    );
    // Everything before the cut was compiled, in order; nothing after it.
    let got = run.ocids();
    assert_eq!(got.len(), 1800);
    for (i, ocid) in got.iter().enumerate() {
        assert_eq!(ocid, &format!("ocds-{i:05}"));
    }
    // The error names the line and column where the stream broke off.
    let expected = format!(
        "{}: could not read: gzip stream is damaged or truncated",
        at(&cut, 1801, 81)
    );
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
}

#[test]
fn utf8_bom_at_the_start() {
    let dir = TempDir::new().unwrap();
    let package = json!({"version": "1.1", "releases": [release("ocds-1", "1", D1), release("ocds-2", "1", D1)]});
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(serde_json::to_string_pretty(&package).unwrap().as_bytes());
    let f = write(&dir, "bom.json", &bytes);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 0, "{}", run.explain());
    assert_eq!(run.ocids(), ["ocds-1", "ocds-2"]);
    assert!(run.stderr.contains("0 problems"), "{}", run.explain());
}

#[test]
fn invalid_utf8_inside_a_string() {
    let dir = TempDir::new().unwrap();
    let mut bytes = jsonl(&[release("ocds-1", "1", D1)]).into_bytes();
    bytes.extend_from_slice(
        format!("{{\"ocid\": \"ocds-2\", \"id\": \"1\", \"date\": \"{D1}\", \"tender\": {{\"title\": \"caf")
            .as_bytes(),
    );
    bytes.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    bytes.extend_from_slice(b"\"}}\n");
    bytes.extend_from_slice(jsonl(&[release("ocds-3", "1", D1)]).as_bytes());
    let f = write(&dir, "latin.jsonl", &bytes);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(!run.stderr.contains("panicked"), "{}", run.explain());
    assert!(
        run.stderr.contains(&format!("{}:2:", f.display()))
            && run
                .stderr
                .contains("invalid JSON: invalid unicode code point"),
        "{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-1", "ocds-3"], "{}", run.explain());
}

fn deep_array() -> String {
    format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))
}

#[test]
fn nesting_10000_deep_in_a_release_field() {
    let dir = TempDir::new().unwrap();
    let text = format!(
        "{{\"ocid\": \"ocds-1\", \"id\": \"1\", \"date\": \"{D1}\", \"deep\": {}}}\n{}",
        deep_array(),
        jsonl(&[release("ocds-2", "1", D1)])
    );
    let f = write(&dir, "deep.jsonl", &text);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(!run.stderr.contains("overflow"), "{}", run.explain());
    let expected = format!("{}: JSON nested deeper than 128 levels", at(&f, 1, 1));
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-2"], "{}", run.explain());
}

#[test]
fn nesting_10000_deep_at_top_level() {
    let dir = TempDir::new().unwrap();
    let text = format!("{}\n{}", deep_array(), jsonl(&[release("ocds-2", "1", D1)]));
    let f = write(&dir, "deep.json", &text);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(!run.stderr.contains("overflow"), "{}", run.explain());
    // The outer array is read as an array of items; its first element is the deep one.
    let expected = format!("{}: JSON nested deeper than 128 levels", at(&f, 1, 2));
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-2"], "{}", run.explain());
}

/// A file whose first release has a 100 MB description, followed by a small release.
fn huge_string_file(dir: &TempDir) -> PathBuf {
    let head =
        format!("{{\"ocid\": \"ocds-big\", \"id\": \"1\", \"date\": \"{D1}\", \"description\": \"");
    let mut bytes = Vec::with_capacity(100_000_200);
    bytes.extend_from_slice(head.as_bytes());
    bytes.resize(bytes.len() + 100_000_000, b'a');
    bytes.extend_from_slice(b"\"}\n");
    bytes.extend_from_slice(jsonl(&[release("ocds-small", "1", D1)]).as_bytes());
    write(dir, "big.jsonl", &bytes)
}

#[test]
fn string_of_100_mb_is_refused_at_the_default_limit() {
    let dir = TempDir::new().unwrap();
    let f = huge_string_file(&dir);
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    let expected = format!("{}: item larger than 64 MiB", at(&f, 1, 1));
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-small"], "{}", run.explain());
}

#[test]
fn string_of_100_mb_is_accepted_with_a_raised_limit() {
    let dir = TempDir::new().unwrap();
    let f = huge_string_file(&dir);
    let out = dir.path().join("compiled.jsonl");
    let run = compile(
        &[
            f.as_os_str(),
            OsStr::new("--max-item-size"),
            OsStr::new("200"),
            OsStr::new("-o"),
            out.as_os_str(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let text = std::fs::read_to_string(&out).unwrap();
    let compiled: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ocids(&compiled), ["ocds-big", "ocds-small"]);
    let description = compiled[0]["description"].as_str().unwrap();
    assert_eq!(description.len(), 100_000_000);
    assert!(description.bytes().all(|b| b == b'a'));
}

#[test]
fn release_without_ocid() {
    let dir = TempDir::new().unwrap();
    let mut orphan = release("x", "1", D1);
    orphan.as_object_mut().unwrap().remove("ocid");
    let f = write(
        &dir,
        "releases.jsonl",
        jsonl(&[
            release("ocds-1", "1", D1),
            orphan,
            release("ocds-3", "1", D1),
        ]),
    );
    let run = compile(&[&f], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    let expected = format!("{}: release has no `ocid`", at(&f, 2, 1));
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-1", "ocds-3"], "{}", run.explain());
}

#[test]
fn same_ocid_and_id_with_different_content() {
    let dir = TempDir::new().unwrap();
    let first = json!({
        "ocid": "ocds-x", "id": "r1", "date": D1, "tag": ["tender"],
        "tender": {"id": "t1", "title": "From the first"},
    });
    let second = json!({
        "ocid": "ocds-x", "id": "r1", "date": D2, "tag": ["tenderUpdate"],
        "tender": {"id": "t1", "status": "active"},
        "buyer": {"id": "b1", "name": "From the second"},
    });
    let a = write(
        &dir,
        "a.jsonl",
        jsonl(&[release("ocds-other", "1", D1), first]),
    );
    let b = write(&dir, "b.jsonl", jsonl(&[second]));
    let run = compile(&[&a, &b], None);
    assert_eq!(run.code, 1, "{}", run.explain());
    let expected = format!(
        "{}: release \"r1\" of ocds-x differs from the release with the same id at {}",
        at(&b, 1, 1),
        at(&a, 2, 1)
    );
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    let compiled = run.compiled();
    assert_eq!(ocids(&compiled), ["ocds-other", "ocds-x"]);
    let x = &compiled[1];
    // Both were merged, in date order.
    assert_eq!(x["tender"]["title"], "From the first");
    assert_eq!(x["tender"]["status"], "active");
    assert_eq!(x["buyer"]["name"], "From the second");
    assert_eq!(x["date"], D2);
}

/// Tuwhera identifies objects in arrays by `str(id)`, so `438` and `"438"` are one
/// party (see `merge::id_key`). Note: the Python reference does NOT do this across
/// releases: ocdskit 1.7.0 (ocdsmerge 0.8.0) and ocdsmerge_rs 0.1.6 both give two
/// parties here, `[{"id": 438, "name": "Acme"}, {"id": "438", "roles": ["buyer"]}]`,
/// because ocdsmerge's unflatten keys new array objects by the original id value.
#[test]
fn number_and_string_ids_are_one_party() {
    let dir = TempDir::new().unwrap();
    let first = json!({
        "ocid": "ocds-p", "id": "1", "date": D1, "tag": ["planning"],
        "parties": [{"id": 438, "name": "Acme"}],
    });
    let second = json!({
        "ocid": "ocds-p", "id": "2", "date": D2, "tag": ["tender"],
        "parties": [{"id": "438", "roles": ["buyer"]}],
    });
    let f = write(&dir, "parties.jsonl", jsonl(&[second, first]));
    let run = compile(&[&f], None);
    assert_eq!(run.code, 0, "{}", run.explain());
    let compiled = run.compiled();
    assert_eq!(ocids(&compiled), ["ocds-p"]);
    assert_eq!(
        compiled[0]["parties"],
        json!([{"id": 438, "name": "Acme", "roles": ["buyer"]}]),
        "{}",
        run.explain()
    );
}

#[test]
fn standard_input_via_dash() {
    let input = jsonl(&[release("ocds-2", "1", D1), release("ocds-1", "1", D1)]);
    let run = compile(&["-"], Some(input.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.explain());
    assert_eq!(run.ocids(), ["ocds-1", "ocds-2"]);

    // Problems in standard input are named `-`.
    let input = format!("{input}{{\"ocid\": \"ocds-3\", \"id\": tru}}\n");
    let run = compile(&["-"], Some(input.as_bytes()));
    assert_eq!(run.code, 1, "{}", run.explain());
    assert!(
        run.stderr.contains("-:3:29: invalid JSON: expected ident"),
        "{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-1", "ocds-2"]);
}

#[test]
fn missing_file_among_good_files() {
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.jsonl", jsonl(&[release("ocds-a", "1", D1)]));
    let missing = dir.path().join("missing.json");
    let b = write(&dir, "b.jsonl", jsonl(&[release("ocds-b", "1", D1)]));
    let run = compile(&[&a, &missing, &b], None);
    assert_eq!(run.code, 2, "{}", run.explain());
    let expected = format!("{}: could not open:", missing.display());
    assert!(
        run.stderr.contains(&expected),
        "{expected}\n{}",
        run.explain()
    );
    assert_eq!(run.ocids(), ["ocds-a", "ocds-b"], "{}", run.explain());
}
