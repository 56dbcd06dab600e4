//! Flattening compiled releases into CSV tables and an XLSX workbook.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tuwhera_ocds::flatten::{
    table_columns, CsvFlattener, FlattenError, Summary, Table, XlsxFlattener,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One table read back: header and rows keyed by column name.
struct Csv {
    header: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

impl Csv {
    fn col(&self, name: &str) -> Vec<&str> {
        assert!(
            self.header.iter().any(|h| h == name),
            "no column {name} in {:?}",
            self.header
        );
        self.rows.iter().map(|r| r[name].as_str()).collect()
    }
}

fn read_csv(dir: &Path, table: &str) -> Csv {
    let bytes = fs::read(dir.join(format!("{table}.csv"))).unwrap();
    assert!(bytes.starts_with(BOM), "{table}.csv has no BOM");
    let mut rdr = csv::ReaderBuilder::new().from_reader(&bytes[BOM.len()..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), header.len(), "{table}: ragged row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    Csv { header, rows }
}

fn flatten_csv(releases: &[Value]) -> (tempfile::TempDir, Summary) {
    let dir = tempfile::tempdir().unwrap();
    let mut f = CsvFlattener::create(dir.path()).unwrap();
    for r in releases {
        f.add(r).unwrap();
    }
    let summary = f.finish().unwrap();
    (dir, summary)
}

fn sample() -> Value {
    json!({
        "ocid": "ocds-x-1",
        "id": "r1",
        "date": "2021-10-28T18:04:36Z",
        "tag": ["planning", "tender"],
        "initiationType": "tender",
        "buyer": {"id": "B1", "name": "Ministerio de Educación"},
        "planning": {
            "budget": {"amount": {"amount": 390000, "currency": "DOP"}},
            "documents": [{"id": "1", "title": "budget.pdf"}]
        },
        "tender": {
            "id": "T-1",
            "title": "Línea 1\nLínea 2, \"gasoil\"",
            "submissionMethod": ["electronicSubmission", "written"],
            "hasEnquiries": true,
            "value": {"amount": 1000.5, "currency": "DOP"},
            "numberOfTenderers": 2,
            "milestones": [{"id": "m1", "title": "visit"}],
            "myExtension": {"a": 1, "b": {"c": "deep"}},
            "items": [{"id": "ti1", "quantity": 3}, {"description": "no id"}],
            "tenderers": [{"id": "S1", "name": "Uno"}, {"id": "S2", "name": "Dos"}],
            "documents": [{"id": "1", "url": "https://example.org/1"}]
        },
        "parties": [
            {
                "id": "S1",
                "name": "Uno, SRL",
                "roles": ["tenderer", "supplier"],
                "details": {"scale": "small", "gender": "male"},
                "additionalIdentifiers": [{"scheme": "X", "id": "9"}]
            },
            {"name": "no id", "roles": ["tenderer"]}
        ],
        "bids": {
            "statistics": [{"id": "st1", "value": 2}],
            "details": [
                {
                    "id": "bid1",
                    "date": "2021-10-29 13:35:00.3011698",
                    "status": "valid",
                    "value": {"amount": 383800, "currency": "DOP"},
                    "tenderers": [{"id": "S1", "name": "Uno"}, {"id": "S2", "name": "Dos"}]
                },
                {
                    "id": "bid2",
                    "status": "disqualified",
                    "tenderers": [{"id": "S3", "identifier": {"id": "77"}}]
                }
            ]
        },
        "awards": [
            {
                "id": "A1",
                "status": "active",
                "items": [{"id": "i1"}, {"id": "i2"}],
                "suppliers": [{"id": "S1", "name": "Uno"}, {"name": "Sin id"}],
                "documents": [{"id": "d1"}]
            },
            {"status": "pending", "items": [{"id": "i3"}]},
            {"id": "A1", "items": [{"id": "i4"}]}
        ],
        "contracts": [
            {
                "id": "C1",
                "awardID": "A1",
                "items": [{"id": "ci1"}],
                "documents": [{"id": "cd1"}],
                "milestones": [{"id": "cm1", "dueDate": "2022-01-01"}],
                "implementation": {
                    "transactions": [
                        {"id": "tx1", "value": {"amount": 10, "currency": "DOP"}, "payee": {"id": "S1"}},
                        {"id": "tx2"}
                    ],
                    "documents": [{"id": "id1"}],
                    "milestones": [{"id": "im1"}],
                    "purchaseOrders": [{"id": "po1"}]
                }
            }
        ]
    })
}

#[test]
fn award_children_carry_the_right_keys() {
    let mut second = sample();
    second["ocid"] = json!("ocds-x-2");
    second["awards"] = json!([{"id": "Z9", "items": [{"id": "z1"}]}]);
    let (dir, summary) = flatten_csv(&[sample(), second]);

    let items = read_csv(dir.path(), "award_items");
    assert_eq!(
        items.col("ocid"),
        ["ocds-x-1", "ocds-x-1", "ocds-x-1", "ocds-x-1", "ocds-x-2"]
    );
    assert_eq!(items.col("award_index"), ["0", "0", "1", "2", "0"]);
    assert_eq!(items.col("award_id"), ["A1", "A1", "", "A1", "Z9"]);
    assert_eq!(items.col("item_index"), ["0", "1", "0", "0", "0"]);
    assert_eq!(items.col("id"), ["i1", "i2", "i3", "i4", "z1"]);
    assert_eq!(summary.rows(Table::AwardItems), 5);

    let sup = read_csv(dir.path(), "award_suppliers");
    assert_eq!(sup.col("ocid"), ["ocds-x-1", "ocds-x-1"]);
    assert_eq!(sup.col("award_id"), ["A1", "A1"]);
    assert_eq!(sup.col("supplier_index"), ["0", "1"]);
    assert_eq!(sup.col("id"), ["S1", ""]);
    assert_eq!(sup.col("name"), ["Uno", "Sin id"]);

    let docs = read_csv(dir.path(), "award_documents");
    assert_eq!(docs.col("award_id"), ["A1"]);
    assert_eq!(docs.col("ocid"), ["ocds-x-1"]);
    assert_eq!(docs.col("document_index"), ["0"]);
}

#[test]
fn missing_and_duplicate_ids_still_join_by_position() {
    let (dir, _) = flatten_csv(&[sample()]);
    let awards = read_csv(dir.path(), "awards");
    assert_eq!(awards.col("award_index"), ["0", "1", "2"]);
    assert_eq!(awards.col("id"), ["A1", "", "A1"]);
    assert_eq!(awards.col("status"), ["active", "pending", ""]);
    // Joined supplier columns keep positions: the second supplier has no id.
    assert_eq!(awards.col("suppliers/id"), ["S1;", "", ""]);
    assert_eq!(awards.col("suppliers/name"), ["Uno;Sin id", "", ""]);

    let items = read_csv(dir.path(), "tender_items");
    assert_eq!(items.col("tender_id"), ["T-1", "T-1"]);
    assert_eq!(items.col("item_index"), ["0", "1"]);
    assert_eq!(items.col("id"), ["ti1", ""]);
    assert_eq!(items.col("description"), ["", "no id"]);
    assert_eq!(items.col("quantity"), ["3", ""]);

    let parties = read_csv(dir.path(), "parties");
    assert_eq!(parties.col("party_index"), ["0", "1"]);
    assert_eq!(parties.col("id"), ["S1", ""]);
}

#[test]
fn release_row_values() {
    let (dir, summary) = flatten_csv(&[sample()]);
    let rel = read_csv(dir.path(), "releases");
    assert_eq!(rel.rows.len(), 1);
    let r = &rel.rows[0];
    assert_eq!(r["ocid"], "ocds-x-1");
    assert_eq!(r["id"], "r1");
    assert_eq!(r["date"], "2021-10-28T18:04:36Z");
    assert_eq!(r["initiationType"], "tender");
    assert_eq!(r["tag"], "planning;tender");
    assert_eq!(r["buyer/name"], "Ministerio de Educación");
    assert_eq!(r["planning/budget/amount/amount"], "390000");
    assert_eq!(r["planning/budget/amount/currency"], "DOP");
    assert_eq!(r["tender/title"], "Línea 1\nLínea 2, \"gasoil\"");
    assert_eq!(r["tender/submissionMethod"], "electronicSubmission;written");
    assert_eq!(r["tender/hasEnquiries"], "true");
    assert_eq!(r["tender/value/amount"], "1000.5");
    assert_eq!(r["tender/numberOfTenderers"], "2");
    assert_eq!(r["tender/procuringEntity/id"], "");
    assert_eq!(summary.releases, 1);
    assert_eq!(summary.rows(Table::Releases), 1);

    let parties = read_csv(dir.path(), "parties");
    assert_eq!(parties.col("roles"), ["tenderer;supplier", "tenderer"]);
    assert_eq!(parties.col("name"), ["Uno, SRL", "no id"]);
    assert_eq!(parties.col("details/scale"), ["small", ""]);
}

#[test]
fn unknown_fields_land_in_extra() {
    let (dir, _) = flatten_csv(&[sample()]);
    let rel = read_csv(dir.path(), "releases");
    let extra: Value = serde_json::from_str(&rel.rows[0]["extra"]).unwrap();
    assert_eq!(
        extra,
        json!({
            "tender/milestones": [{"id": "m1", "title": "visit"}],
            "tender/myExtension/a": 1,
            "tender/myExtension/b/c": "deep",
            "bids/statistics": [{"id": "st1", "value": 2}]
        })
    );

    let parties = read_csv(dir.path(), "parties");
    let extra: Value = serde_json::from_str(parties.col("extra")[0]).unwrap();
    assert_eq!(
        extra,
        json!({
            "details/gender": "male",
            "additionalIdentifiers": [{"scheme": "X", "id": "9"}]
        })
    );
    // Nothing unknown: the cell stays empty rather than "{}".
    assert_eq!(parties.col("extra")[1], "");

    let contracts = read_csv(dir.path(), "contracts");
    let extra: Value = serde_json::from_str(contracts.col("extra")[0]).unwrap();
    assert_eq!(
        extra,
        json!({"implementation/purchaseOrders": [{"id": "po1"}]})
    );
}

#[test]
fn wrong_types_are_kept_not_dropped() {
    let release = json!({
        "ocid": "ocds-x-9",
        "tender": {
            "title": {"es": "hola"},
            "value": "1000 DOP",
            "items": "not an array",
            "tenderers": [["nested"], {"id": "ok"}]
        },
        "awards": ["oops", {"id": "A"}]
    });
    let (dir, summary) = flatten_csv(&[release]);
    let rel = read_csv(dir.path(), "releases");
    assert_eq!(rel.rows[0]["tender/title"], r#"{"es":"hola"}"#);
    let extra: Value = serde_json::from_str(&rel.rows[0]["extra"]).unwrap();
    assert_eq!(
        extra,
        json!({"tender/value": "1000 DOP", "tender/items": "not an array"})
    );
    assert_eq!(summary.rows(Table::TenderItems), 0);

    let tenderers = read_csv(dir.path(), "tender_tenderers");
    assert_eq!(tenderers.col("tenderer_index"), ["0", "1"]);
    assert_eq!(tenderers.col("extra"), [r#"{"(value)":["nested"]}"#, ""]);
    assert_eq!(tenderers.col("id"), ["", "ok"]);

    let awards = read_csv(dir.path(), "awards");
    assert_eq!(awards.col("award_index"), ["0", "1"]);
    assert_eq!(awards.col("extra"), [r#"{"(value)":"oops"}"#, ""]);
}

#[test]
fn bids_table() {
    let (dir, summary) = flatten_csv(&[sample()]);
    let bids = read_csv(dir.path(), "bids");
    assert_eq!(summary.rows(Table::Bids), 2);
    assert_eq!(bids.col("ocid"), ["ocds-x-1", "ocds-x-1"]);
    assert_eq!(bids.col("bid_index"), ["0", "1"]);
    assert_eq!(bids.col("id"), ["bid1", "bid2"]);
    assert_eq!(bids.col("date"), ["2021-10-29 13:35:00.3011698", ""]);
    assert_eq!(bids.col("status"), ["valid", "disqualified"]);
    assert_eq!(bids.col("value/amount"), ["383800", ""]);
    assert_eq!(bids.col("value/currency"), ["DOP", ""]);
    assert_eq!(bids.col("tenderers/id"), ["S1;S2", "S3"]);
    assert_eq!(bids.col("tenderers/name"), ["Uno;Dos", ""]);
    // Tenderers with more than id and name are kept whole.
    assert_eq!(bids.col("extra")[0], "");
    let extra: Value = serde_json::from_str(bids.col("extra")[1]).unwrap();
    assert_eq!(
        extra,
        json!({"tenderers": [{"id": "S3", "identifier": {"id": "77"}}]})
    );
}

#[test]
fn contract_children() {
    let (dir, summary) = flatten_csv(&[sample()]);
    let docs = read_csv(dir.path(), "contract_documents");
    assert_eq!(docs.col("contract_id"), ["C1", "C1"]);
    assert_eq!(docs.col("origin"), ["contract", "implementation"]);
    assert_eq!(docs.col("document_index"), ["0", "0"]);
    assert_eq!(docs.col("id"), ["cd1", "id1"]);

    let ms = read_csv(dir.path(), "contract_milestones");
    assert_eq!(ms.col("origin"), ["contract", "implementation"]);
    assert_eq!(ms.col("id"), ["cm1", "im1"]);
    assert_eq!(ms.col("dueDate"), ["2022-01-01", ""]);

    let tx = read_csv(dir.path(), "contract_transactions");
    assert_eq!(tx.col("contract_index"), ["0", "0"]);
    assert_eq!(tx.col("transaction_index"), ["0", "1"]);
    assert_eq!(tx.col("value/amount"), ["10", ""]);
    assert_eq!(tx.col("payee/id"), ["S1", ""]);

    let items = read_csv(dir.path(), "contract_items");
    assert_eq!(items.col("contract_id"), ["C1"]);
    assert_eq!(summary.rows(Table::ContractItems), 1);
    assert_eq!(summary.rows(Table::PlanningDocuments), 1);
    assert_eq!(summary.rows(Table::TenderDocuments), 1);
    assert_eq!(summary.rows(Table::TenderTenderers), 2);
}

#[test]
fn csv_header_bom_and_every_table() {
    // No release at all: every file still exists, with BOM and header.
    let (dir, summary) = flatten_csv(&[]);
    let tables = table_columns();
    assert_eq!(tables.len(), 16);
    assert_eq!(summary.tables.len(), 16);
    for ((name, cols), t) in tables.iter().zip(&summary.tables) {
        assert_eq!(*name, t.name);
        assert_eq!(t.rows, 0);
        assert_eq!(cols.last(), Some(&"extra"), "{name}");
        assert_eq!(cols[0], "ocid", "{name}");
        let mut uniq = cols.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), cols.len(), "{name}: duplicate column");

        let bytes = fs::read(dir.path().join(format!("{name}.csv"))).unwrap();
        let mut expected = BOM.to_vec();
        expected.extend_from_slice(cols.join(",").as_bytes());
        expected.extend_from_slice(b"\r\n");
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(&expected)
        );
    }
    let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "releases",
            "parties",
            "planning_documents",
            "tender_items",
            "tender_tenderers",
            "tender_documents",
            "bids",
            "awards",
            "award_items",
            "award_suppliers",
            "award_documents",
            "contracts",
            "contract_items",
            "contract_documents",
            "contract_transactions",
            "contract_milestones",
        ]
    );
    assert_eq!(
        Table::AwardItems.columns()[..5],
        ["ocid", "award_index", "award_id", "item_index", "id"]
    );
}

#[test]
fn csv_quotes_only_when_needed() {
    let (dir, _) = flatten_csv(&[sample()]);
    let raw = fs::read_to_string(dir.path().join("releases.csv")).unwrap();
    let line = raw.split("\r\n").nth(1).unwrap();
    assert!(
        line.starts_with("ocds-x-1,r1,2021-10-28T18:04:36Z,tender,planning;tender,,B1,"),
        "{line}"
    );
    assert!(raw.contains("\"Línea 1\nLínea 2, \"\"gasoil\"\"\""));
}

#[test]
fn not_an_object_is_refused_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = CsvFlattener::create(dir.path()).unwrap();
    f.add(&sample()).unwrap();
    let err = f.add(&json!(["not", "a", "release"])).unwrap_err();
    assert!(
        matches!(err, FlattenError::NotAnObject { index: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("#1"), "{err}");
    f.add(&sample()).unwrap();
    let summary = f.finish().unwrap();
    assert_eq!(summary.releases, 2);
    assert_eq!(summary.rows(Table::Awards), 6);
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "x").unwrap();
    let err = CsvFlattener::create(&blocker.join("sub")).err().unwrap();
    assert!(matches!(err, FlattenError::Io { .. }));
    assert!(err.to_string().contains("a-file"), "{err}");

    let err = XlsxFlattener::create(&blocker.join("out.xlsx"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("out.xlsx"), "{err}");
}

#[test]
fn xlsx_workbook_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    let mut x = XlsxFlattener::create(&path).unwrap();
    x.add(&sample()).unwrap();
    let summary = x.finish().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert!(bytes.len() > 1000, "{} bytes", bytes.len());
    assert!(bytes.starts_with(b"PK\x03\x04"), "not a zip");

    let (_csv_dir, csv_summary) = flatten_csv(&[sample()]);
    for (a, b) in summary.tables.iter().zip(&csv_summary.tables) {
        assert_eq!((a.name, a.rows), (b.name, b.rows));
        assert_eq!(a.outputs, [a.name]);
    }
}

#[test]
fn xlsx_sheets_overflow_into_numbered_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.xlsx");
    // 3 rows per sheet: a header and 2 data rows.
    let mut x = XlsxFlattener::create(&path)
        .unwrap()
        .with_max_rows_per_sheet(3);
    x.add(&sample()).unwrap();
    x.add(&sample()).unwrap();
    let summary = x.finish().unwrap();
    let awards = summary
        .tables
        .iter()
        .find(|t| t.table == Table::Awards)
        .unwrap();
    assert_eq!(awards.rows, 6);
    assert_eq!(awards.outputs, ["awards", "awards_2", "awards_3"]);
    let releases = &summary.tables[0];
    assert_eq!(releases.outputs, ["releases"]);
    let items = summary
        .tables
        .iter()
        .find(|t| t.table == Table::AwardItems)
        .unwrap();
    assert_eq!(items.rows, 8);
    assert_eq!(
        items.outputs,
        [
            "award_items",
            "award_items_2",
            "award_items_3",
            "award_items_4"
        ]
    );
    assert!(fs::metadata(&path).unwrap().len() > 1000);
}

#[test]
fn xlsx_long_text_is_cut_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.xlsx");
    let mut x = XlsxFlattener::create(&path).unwrap();
    let long = "á".repeat(40_000);
    x.add(&json!({"ocid": "o", "tender": {"description": long, "value": {"amount": 1u64 << 60}}}))
        .unwrap();
    let summary = x.finish().unwrap();
    assert_eq!(summary.truncated_cells, 1);
}

// ---------------------------------------------------------------------------
// Real data

fn real_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/ocds/dr-dgcp-10000-compiled.jsonl.gz")
}

fn real_releases(n: usize) -> Vec<Value> {
    let file = fs::File::open(real_path()).unwrap();
    let gz = flate2::read::MultiGzDecoder::new(file);
    BufReader::new(gz)
        .lines()
        .take(n)
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

fn len_at(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return 0,
        }
    }
    cur.as_array().map_or(0, |a| a.len() as u64)
}

fn each<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A scalar as the tables show it.
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[test]
fn real_data_row_counts_and_keys() {
    let releases = real_releases(50);
    assert_eq!(releases.len(), 50);

    // Expected counts, computed from the JSON independently of the flattener.
    let mut expected: HashMap<&str, u64> = HashMap::new();
    for r in &releases {
        let mut add = |t, n| *expected.entry(t).or_default() += n;
        add("releases", 1);
        add("parties", len_at(r, &["parties"]));
        add("planning_documents", len_at(r, &["planning", "documents"]));
        add("tender_items", len_at(r, &["tender", "items"]));
        add("tender_tenderers", len_at(r, &["tender", "tenderers"]));
        add("tender_documents", len_at(r, &["tender", "documents"]));
        add("bids", len_at(r, &["bids", "details"]));
        add("awards", len_at(r, &["awards"]));
        add("contracts", len_at(r, &["contracts"]));
        for a in each(r, "awards") {
            add("award_items", len_at(a, &["items"]));
            add("award_suppliers", len_at(a, &["suppliers"]));
            add("award_documents", len_at(a, &["documents"]));
        }
        for c in each(r, "contracts") {
            add("contract_items", len_at(c, &["items"]));
            add(
                "contract_documents",
                len_at(c, &["documents"]) + len_at(c, &["implementation", "documents"]),
            );
            add(
                "contract_transactions",
                len_at(c, &["implementation", "transactions"]),
            );
            add(
                "contract_milestones",
                len_at(c, &["milestones"]) + len_at(c, &["implementation", "milestones"]),
            );
        }
    }
    // The sample must exercise the tables that matter, or the test proves little.
    for t in [
        "bids",
        "award_items",
        "award_suppliers",
        "tender_items",
        "parties",
    ] {
        assert!(expected[t] > 0, "{t} has no rows in the sample");
    }

    let (dir, summary) = flatten_csv(&releases);
    assert_eq!(summary.releases, 50);
    for t in &summary.tables {
        let want = expected.get(t.name).copied().unwrap_or(0);
        assert_eq!(t.rows, want, "{}: summary", t.name);
        let csv = read_csv(dir.path(), t.name);
        assert_eq!(csv.rows.len() as u64, want, "{}: CSV records", t.name);
    }

    // Every award item row points at the award it came from.
    let items = read_csv(dir.path(), "award_items");
    let by_ocid: HashMap<String, &Value> =
        releases.iter().map(|r| (text(r.get("ocid")), r)).collect();
    for row in &items.rows {
        let release = by_ocid[&row["ocid"]];
        let ai: usize = row["award_index"].parse().unwrap();
        let ii: usize = row["item_index"].parse().unwrap();
        let award = &release["awards"][ai];
        assert_eq!(row["award_id"], text(award.get("id")));
        let item = &award["items"][ii];
        assert_eq!(row["id"], text(item.get("id")));
        assert_eq!(
            row["unit/value/amount"],
            text(item.pointer("/unit/value/amount"))
        );
    }

    // Bids: tenderer ids joined in order.
    let bids = read_csv(dir.path(), "bids");
    let mut i = 0;
    for r in &releases {
        for bid in r
            .pointer("/bids/details")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let ids: Vec<String> = each(bid, "tenderers").map(|t| text(t.get("id"))).collect();
            assert_eq!(bids.rows[i]["tenderers/id"], ids.join(";"));
            assert_eq!(bids.rows[i]["ocid"], text(r.get("ocid")));
            i += 1;
        }
    }
    assert_eq!(i, bids.rows.len());

    // Party extension fields survive in `extra`.
    let parties = read_csv(dir.path(), "parties");
    let genders = parties
        .col("extra")
        .iter()
        .filter(|e| e.contains("\"details/gender\""))
        .count();
    let expected_genders = releases
        .iter()
        .flat_map(|r| each(r, "parties"))
        .filter(|p| p.pointer("/details/gender").is_some())
        .count();
    assert_eq!(genders, expected_genders);
}

#[test]
fn batch_output_is_identical_to_one_by_one() {
    let releases = real_releases(50);
    let (one, _) = flatten_csv(&releases);
    let batched = tempfile::tempdir().unwrap();
    let mut f = CsvFlattener::create(batched.path()).unwrap();
    for chunk in releases.chunks(17) {
        f.add_batch(chunk).unwrap();
    }
    let summary = f.finish().unwrap();
    assert_eq!(summary.releases, 50);
    for t in Table::ALL {
        let file = format!("{}.csv", t.name());
        assert_eq!(
            fs::read(one.path().join(&file)).unwrap(),
            fs::read(batched.path().join(&file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn xlsx_real_data() {
    let releases = real_releases(50);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.xlsx");
    let mut x = XlsxFlattener::create(&path).unwrap();
    for r in &releases {
        x.add(r).unwrap();
    }
    let summary = x.finish().unwrap();
    let (_d, csv) = flatten_csv(&releases);
    assert_eq!(summary.tables, {
        let mut t = csv.tables.clone();
        for s in &mut t {
            s.outputs = vec![s.name.to_string()];
        }
        t
    });
    assert!(fs::metadata(&path).unwrap().len() > 10_000);
}
