//! `reader::read_all` on every input shape it claims to handle, checking the
//! line and column of each item and of each error.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use tuwhera_ocds::reader::{read_all, Event, ItemKind, Limits, ReadErrorKind};

/// What one event says, reduced to what the tests compare.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// kind, line, column, ocid
    Item(ItemKind, u64, u64, Option<String>),
    /// code, line, column
    Error(&'static str, u64, u64),
}

/// Items and errors (package metadata events are checked on their own).
fn seen(events: &[Event]) -> Vec<Seen> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Item(i) => Some(Seen::Item(i.kind, i.line, i.column, i.ocid.clone())),
            Event::Error(e) => Some(Seen::Error(e.kind.code(), e.line, e.column)),
            Event::Package(_) => None,
        })
        .collect()
}

fn read(input: &[u8]) -> Vec<Event> {
    read_all("in.json", input, Limits::default())
}

fn release(ocid: &str, line: u64, column: u64) -> Seen {
    Seen::Item(ItemKind::Release, line, column, Some(ocid.to_owned()))
}

/// The item for `{"ocid": "<ocid>"…` where that text first appears in `input`.
fn item_at(input: &str, ocid: &str) -> Seen {
    let (line, column) = position_of(input, &format!("{{\"ocid\": \"{ocid}\""));
    release(ocid, line, column)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let column = (at - before.rfind('\n').map_or(0, |n| n + 1)) as u64 + 1;
    (line, column)
}

/// Every item parses, and each parses to an object with the expected ocid.
fn assert_items_parse(events: &[Event]) {
    for e in events {
        if let Event::Item(i) = e {
            let v = i.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                v.get("ocid").and_then(|o| o.as_str()),
                i.ocid.as_deref(),
                "{}",
                i.location()
            );
        }
    }
}

#[test]
fn release_package_streams_its_releases() {
    let input = r#"{
  "uri": "https://example.com/p.json",
  "version": "1.1",
  "releases": [
    {"ocid": "ocds-a", "id": "1", "date": "2020-01-01T00:00:00Z"},
    {
      "ocid": "ocds-b", "id": "2", "date": "2020-01-02T00:00:00Z"
    }
  ],
  "publisher": {"name": "P"}
}
"#;
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 5, 5), release("ocds-b", 6, 5)]
    );
    assert_items_parse(&events);
    let Event::Item(first) = &events[0] else {
        unreachable!()
    };
    let package = first.package.as_ref().expect("package info");
    assert_eq!(package.version.as_deref(), Some("1.1"));
    assert_eq!(package.uri.as_deref(), Some("https://example.com/p.json"));
    assert_eq!(first.index, 0);
}

#[test]
fn record_package_yields_records() {
    let input = concat!(
        r#"{"version": "1.1", "records": ["#,
        "\n",
        r#"  {"ocid": "ocds-a", "releases": [{"ocid": "ocds-a", "id": "1", "date": "2020-01-01T00:00:00Z"}]},"#,
        "\n",
        r#"  {"ocid": "ocds-b", "releases": []}"#,
        "\n]}\n"
    );
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            Seen::Item(ItemKind::Record, 2, 3, Some("ocds-a".into())),
            Seen::Item(ItemKind::Record, 3, 3, Some("ocds-b".into())),
        ]
    );
    assert_items_parse(&events);
}

#[test]
fn bare_release() {
    let input = br#"{"ocid": "ocds-a", "id": "1", "date": "2020-01-01T00:00:00Z"}"#;
    let events = read(input);
    assert_eq!(seen(&events), vec![release("ocds-a", 1, 1)]);
    assert_items_parse(&events);
    let Event::Item(item) = &events[0] else {
        unreachable!()
    };
    assert!(item.package.is_none());
}

#[test]
fn json_array_of_releases() {
    let input = "[\n  {\"ocid\": \"ocds-a\", \"date\": \"d\"},\n  {\"ocid\": \"ocds-b\"}\n]\n";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 2, 3), release("ocds-b", 3, 3)]
    );
    assert_items_parse(&events);
}

#[test]
fn json_array_of_packages() {
    let input = concat!(
        "[{\"releases\": [{\"ocid\": \"ocds-a\"}, {\"ocid\": \"ocds-b\"}]},\n",
        " {\"version\": \"1.0\", \"releases\": [{\"ocid\": \"ocds-c\"}]}]\n"
    );
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            item_at(input, "ocds-a"),
            item_at(input, "ocds-b"),
            item_at(input, "ocds-c"),
        ]
    );
    assert_eq!(item_at(input, "ocds-c"), release("ocds-c", 2, 34));
    assert_items_parse(&events);
    let versions: Vec<Option<&str>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Item(i) => Some(i.package.as_ref().and_then(|p| p.version.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(versions, vec![None, None, Some("1.0")]);
    // One metadata event per package, each a JSON object without the array.
    let metas: Vec<serde_json::Value> = events
        .iter()
        .filter_map(|e| match e {
            Event::Package(m) => Some(serde_json::from_slice(&m.raw).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(
        metas,
        vec![serde_json::json!({}), serde_json::json!({"version": "1.0"})]
    );
}

#[test]
fn json_lines_of_packages() {
    let input = concat!(
        "{\"releases\": [{\"ocid\": \"ocds-a\"}]}\n",
        "{\"releases\": [{\"ocid\": \"ocds-b\"}, {\"ocid\": \"ocds-c\"}]}\r\n",
        "\n",
        "{\"releases\": []}\n",
        "{\"releases\": [{\"ocid\": \"ocds-d\"}]}"
    );
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            release("ocds-a", 1, 15),
            release("ocds-b", 2, 15),
            release("ocds-c", 2, 35),
            release("ocds-d", 5, 15),
        ]
    );
    assert_items_parse(&events);
    // Items are numbered across packages.
    let indexes: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Item(i) => Some(i.index),
            _ => None,
        })
        .collect();
    assert_eq!(indexes, vec![0, 1, 2, 3]);
}

#[test]
fn concatenated_pretty_printed_json() {
    let input = "{\n  \"ocid\": \"ocds-a\",\n  \"tender\": {\n    \"title\": \"T\"\n  }\n}{\n  \"ocid\": \"ocds-b\"\n}\n  {\"ocid\": \"ocds-c\"}";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            release("ocds-a", 1, 1),
            release("ocds-b", 6, 2),
            release("ocds-c", 9, 3)
        ]
    );
    assert_items_parse(&events);
}

#[test]
fn gzip_of_a_package() {
    let input = "{\"version\": \"1.1\",\n \"releases\": [\n  {\"ocid\": \"ocds-a\"},\n  {\"ocid\": \"ocds-b\"}\n ]\n}\n";
    let events = read(&gzip(input.as_bytes()));
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 3, 3), release("ocds-b", 4, 3)]
    );
    assert_items_parse(&events);
}

#[test]
fn gzip_of_json_lines_with_a_bom() {
    let input = "\u{feff}{\"ocid\": \"ocds-a\"}\n{\"ocid\": \"ocds-b\"}\n";
    let events = read(&gzip(input.as_bytes()));
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 1, 1), release("ocds-b", 2, 1)]
    );
}

#[test]
fn utf8_bom_is_not_a_column() {
    let input = "\u{feff}{\"releases\": [{\"ocid\": \"ocds-a\"}]}";
    let events = read(input.as_bytes());
    assert_eq!(seen(&events), vec![release("ocds-a", 1, 15)]);
    assert_items_parse(&events);
}

#[test]
fn syntax_error_in_a_package_item_names_its_place() {
    let input = "{\"releases\": [\n  {\"ocid\": \"ocds-a\"},\n  {\"ocid\": \"ocds-b\", \"tag\": tru},\n  {\"ocid\": \"ocds-c\"}\n]}\n";
    let events = read(input.as_bytes());
    // The scanner does not judge values: the broken item is handed over, and parsing it fails.
    assert_eq!(
        seen(&events),
        vec![
            release("ocds-a", 2, 3),
            release("ocds-b", 3, 3),
            release("ocds-c", 4, 3)
        ]
    );
    let Event::Item(bad) = &events[1] else {
        unreachable!()
    };
    let err = bad.parse().unwrap_err();
    assert!(matches!(err.kind, ReadErrorKind::Syntax(_)), "{err}");
    // serde_json points at the byte where `true` stopped making sense.
    assert_eq!(
        (err.line, err.column),
        position_of(input, "},\n  {\"ocid\": \"ocds-c")
    );
}

#[test]
fn syntax_error_in_a_json_lines_release_names_its_column() {
    // Spaces after `:` and `,` (Python's json.dumps default) must not shift the column.
    let input = "{\"ocid\": \"ocds-a\"}\n{\"ocid\": \"ocds-b\", \"id\": \"1\", \"tender\": {\"title\": \"x\",}}\n";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 1, 1), release("ocds-b", 2, 1)]
    );
    let Event::Item(bad) = &events[1] else {
        unreachable!()
    };
    let err = bad.parse().unwrap_err();
    assert_eq!((err.line, err.column), position_of(input, "}}"));
    assert!(err.to_string().starts_with("in.json:2:"), "{err}");
}

#[test]
fn syntax_error_in_a_pretty_printed_release_names_its_line() {
    let input = "{\n  \"ocid\": \"ocds-a\",\n  \"tender\": {\n    \"title\": \"T\"\n    \"status\": \"active\"\n  }\n}\n";
    let events = read(input.as_bytes());
    assert_eq!(seen(&events), vec![release("ocds-a", 1, 1)]);
    let Event::Item(bad) = &events[0] else {
        unreachable!()
    };
    let err = bad.parse().unwrap_err();
    assert_eq!((err.line, err.column), position_of(input, "\"status\""));
}

#[test]
fn missing_comma_between_top_level_keys_is_an_error() {
    let input = "{\"ocid\": \"ocds-a\" \"id\": \"1\"}\n";
    let events = read(input.as_bytes());
    let Event::Item(bad) = &events[0] else {
        panic!("{events:?}")
    };
    let err = bad.parse().unwrap_err();
    assert_eq!((err.line, err.column), position_of(input, "\"id\""));
}

#[test]
fn malformed_separators_in_arrays_are_reported_and_items_kept() {
    let input = "{\"releases\": [{\"ocid\": \"ocds-a\"} {\"ocid\": \"ocds-b\"},, {\"ocid\": \"ocds-c\"},]}\n[,{\"ocid\": \"ocds-d\"}]\n";
    let events = read(input.as_bytes());
    let (_, second_comma) = position_of(input, ",, ");
    let (_, bracket) = position_of(input, "]}");
    assert_eq!(
        seen(&events),
        vec![
            item_at(input, "ocds-a"),
            // missing ',' between items: reported where the next item starts
            Seen::Error("json-syntax", 1, 34),
            item_at(input, "ocds-b"),
            // ',,': the second comma
            Seen::Error("json-syntax", 1, second_comma + 1),
            item_at(input, "ocds-c"),
            // trailing comma: reported at the closing bracket, as serde_json does
            Seen::Error("json-syntax", 1, bracket),
            // a leading comma
            Seen::Error("json-syntax", 2, 2),
            item_at(input, "ocds-d"),
        ]
    );
    assert_eq!(item_at(input, "ocds-b"), release("ocds-b", 1, 34));
}

#[test]
fn truncated_json_reports_the_end_and_keeps_what_came_before() {
    let input =
        "{\"releases\": [\n{\"ocid\": \"ocds-a\"},\n{\"ocid\": \"ocds-b\", \"tender\": {\"ti";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 2, 1), Seen::Error("truncated", 3, 34)]
    );
    let Event::Error(e) = &events[1] else {
        unreachable!()
    };
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn truncated_gzip_reports_damage_and_keeps_what_came_before() {
    let mut lines = String::new();
    for i in 0..5000 {
        lines.push_str(&format!(
            "{{\"ocid\": \"ocds-{i:05}\", \"id\": \"{i}\", \"date\": \"2020-01-01T00:00:00Z\", \"tender\": {{\"title\": \"Tender number {i} of many\"}}}}\n"
        ));
    }
    let gz = gzip(lines.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let events = read(cut);
    let items = events
        .iter()
        .filter(|e| matches!(e, Event::Item(_)))
        .count();
    assert!(items > 100 && items < 5000, "{items} items");
    // Every item before the cut is whole and in order.
    for (n, e) in events.iter().take(items).enumerate() {
        let Event::Item(i) = e else {
            panic!("error before the end: {e:?}")
        };
        assert_eq!(i.line, n as u64 + 1);
        assert_eq!(i.ocid.as_deref(), Some(format!("ocds-{n:05}").as_str()));
        i.parse().unwrap();
    }
    assert_eq!(events.len(), items + 1, "one error at the end");
    let Event::Error(e) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(e.kind.code(), "io");
    let message = e.to_string();
    assert!(message.contains("damaged or truncated"), "{message}");
}

#[test]
fn nesting_too_deep_is_refused_without_recursion() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let input = format!(
        "{{\"ocid\": \"ocds-a\", \"deep\": {deep}}}\n{{\"ocid\": \"ocds-b\"}}\n{deep}\n{{\"releases\": [{{\"ocid\": \"ocds-c\", \"x\": {deep}}}, {{\"ocid\": \"ocds-d\"}}]}}\n"
    );
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            Seen::Error("too-deep", 1, 1),
            release("ocds-b", 2, 1),
            Seen::Error("too-deep", 3, 2),
            Seen::Error("too-deep", 4, 15),
            item_at(&input, "ocds-d"),
        ]
    );
    let Event::Error(e) = &events[2] else {
        unreachable!()
    };
    assert!(e.to_string().contains("nested deeper than 128"), "{e}");
}

#[test]
fn nesting_at_the_limit_is_kept() {
    // A release object plus 127 arrays: 128 levels, the limit.
    let input = format!(
        "{{\"ocid\": \"ocds-a\", \"x\": {}{}}}",
        "[".repeat(127),
        "]".repeat(127)
    );
    let events = read(input.as_bytes());
    assert_eq!(seen(&events), vec![release("ocds-a", 1, 1)]);
}

#[test]
fn item_larger_than_the_limit_is_skipped() {
    let limits = Limits {
        max_item_bytes: 1000,
        ..Limits::default()
    };
    let big = "x".repeat(5000);
    let input = format!(
        "{{\"ocid\": \"ocds-a\", \"description\": \"{big}\"}}\n{{\"ocid\": \"ocds-b\"}}\n{{\"releases\": [{{\"ocid\": \"ocds-c\", \"d\": \"{big}\"}}, {{\"ocid\": \"ocds-d\"}}]}}\n{{\"ocid\": \"ocds-e\", \"{big}\": 1}}\n{{\"ocid\": \"ocds-f\"{}}}\n",
        " ".repeat(5000)
    );
    let events = read_all("in.json", input.as_bytes(), limits);
    assert_eq!(
        seen(&events),
        vec![
            Seen::Error("too-large", 1, 1),
            release("ocds-b", 2, 1),
            Seen::Error("too-large", 3, 15),
            item_at(&input, "ocds-d"),
            Seen::Error("too-large", 4, 1),
            Seen::Error("too-large", 5, 1),
        ]
    );
    let Event::Error(e) = &events[0] else {
        unreachable!()
    };
    assert!(e.to_string().contains("larger than"), "{e}");
}

#[test]
fn a_value_that_is_not_an_object_is_reported_and_skipped() {
    let input = "42\n{\"ocid\": \"ocds-a\"}\n[\"x\", {\"ocid\": \"ocds-b\"}]\n";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            Seen::Error("not-an-object", 1, 1),
            release("ocds-a", 2, 1),
            Seen::Error("not-an-object", 3, 2),
            release("ocds-b", 3, 7),
        ]
    );
}

#[test]
fn invalid_utf8_in_a_string_is_a_parse_error_not_a_panic() {
    let mut input = b"{\"ocid\": \"ocds-a\", \"title\": \"caf".to_vec();
    input.extend_from_slice(&[0xC3, 0x28]);
    input.extend_from_slice(b"\"}\n{\"ocid\": \"ocds-b\"}\n");
    let events = read(&input);
    assert_eq!(
        seen(&events),
        vec![release("ocds-a", 1, 1), release("ocds-b", 2, 1)]
    );
    let Event::Item(bad) = &events[0] else {
        unreachable!()
    };
    let err = bad.parse().unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.to_string().contains("invalid unicode"), "{err}");
}

#[test]
fn empty_and_whitespace_inputs_yield_nothing() {
    assert!(read(b"").is_empty());
    assert!(read(b" \n\t\r\n").is_empty());
    assert!(read(&gzip(b"")).is_empty());
}

#[test]
fn package_metadata_is_valid_json_wherever_the_array_sits() {
    let cases = [
        (
            "{\"releases\": [{\"ocid\": \"a\"}], \"uri\": \"u\", \"version\": \"1.1\"}",
            r#"{"uri":"u","version":"1.1"}"#,
        ),
        (
            "{\"uri\": \"u\", \"releases\": [{\"ocid\": \"a\"}], \"version\": \"1.1\"}",
            r#"{"uri":"u","version":"1.1"}"#,
        ),
        (
            "{\"uri\": \"u\",\n \"version\": \"1.1\",\n \"releases\": [{\"ocid\": \"a\"}]\n}",
            r#"{"uri":"u","version":"1.1"}"#,
        ),
        ("{\"records\": []}", "{}"),
    ];
    for (input, expected) in cases {
        let events = read(input.as_bytes());
        let metas: Vec<serde_json::Value> = events
            .iter()
            .filter_map(|e| match e {
                Event::Package(m) => Some(serde_json::from_slice(&m.raw).unwrap_or_else(|e| {
                    panic!("{input}: {e}: {}", String::from_utf8_lossy(&m.raw))
                })),
                Event::Error(e) => panic!("{input}: {e}"),
                Event::Item(_) => None,
            })
            .collect();
        let expected: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert_eq!(metas, vec![expected], "{input}");
    }
}

#[test]
fn malformed_separators_in_package_metadata_are_reported() {
    let input = "{\"uri\": \"u\" \"releases\": [{\"ocid\": \"a\"}],, \"version\": \"1.1\",}";
    let events = read(input.as_bytes());
    let (_, missing) = position_of(input, "\"releases\"");
    let (_, double) = position_of(input, ",, ");
    let (_, close) = position_of(input, ",}");
    assert_eq!(
        seen(&events),
        vec![
            Seen::Error("json-syntax", 1, missing),
            item_at(input, "a"),
            Seen::Error("json-syntax", 1, double + 1),
            Seen::Error("json-syntax", 1, close + 1),
        ]
    );
}

#[test]
fn a_closing_brace_inside_an_array_does_not_stall_the_reader() {
    let input = "[}, {\"ocid\": \"a\"}]\n{\"releases\": [}, {\"ocid\": \"b\"}]}\n";
    let events = read(input.as_bytes());
    assert_eq!(
        seen(&events),
        vec![
            Seen::Error("json-syntax", 1, 2),
            Seen::Error("json-syntax", 1, 3),
            item_at(input, "a"),
            Seen::Error("json-syntax", 2, 15),
            Seen::Error("json-syntax", 2, 16),
            item_at(input, "b"),
        ]
    );
}
