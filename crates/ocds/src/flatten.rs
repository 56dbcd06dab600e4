//! Flatten compiled releases into tables: CSV files or one XLSX workbook.
//!
//! Written for journalists and analysts who open the result in a spreadsheet,
//! R or pandas, and who need the same files, with the same columns, every
//! time they export.
//!
//! # Tables
//!
//! The layout is fixed: it never depends on the data. Every table is always
//! written, even with no rows (a header-only `bids.csv` says "this data has no
//! bids"; scripts can rely on every file existing). Tables, in output order:
//!
//! | table | one row per | key columns |
//! |---|---|---|
//! | `releases` | compiled release (release fields, `buyer`, `planning`, `tender`) | `ocid` |
//! | `parties` | `parties[]` | `ocid`, `party_index` |
//! | `planning_documents` | `planning.documents[]` | `ocid`, `document_index` |
//! | `tender_items` | `tender.items[]` | `ocid`, `tender_id`, `item_index` |
//! | `tender_tenderers` | `tender.tenderers[]` | `ocid`, `tender_id`, `tenderer_index` |
//! | `tender_documents` | `tender.documents[]` | `ocid`, `tender_id`, `document_index` |
//! | `bids` | `bids.details[]` (bids extension) | `ocid`, `bid_index` |
//! | `awards` | `awards[]` | `ocid`, `award_index` |
//! | `award_items` | `awards[].items[]` | `ocid`, `award_index`, `award_id`, `item_index` |
//! | `award_suppliers` | `awards[].suppliers[]` | `ocid`, `award_index`, `award_id`, `supplier_index` |
//! | `award_documents` | `awards[].documents[]` | `ocid`, `award_index`, `award_id`, `document_index` |
//! | `contracts` | `contracts[]` | `ocid`, `contract_index` |
//! | `contract_items` | `contracts[].items[]` | `ocid`, `contract_index`, `contract_id`, `item_index` |
//! | `contract_documents` | `contracts[].documents[]` and `contracts[].implementation.documents[]` | `ocid`, `contract_index`, `contract_id`, `origin`, `document_index` |
//! | `contract_transactions` | `contracts[].implementation.transactions[]` | `ocid`, `contract_index`, `contract_id`, `transaction_index` |
//! | `contract_milestones` | `contracts[].milestones[]` and `contracts[].implementation.milestones[]` | `ocid`, `contract_index`, `contract_id`, `origin`, `milestone_index` |
//!
//! [`table_columns`] lists every column of every table.
//!
//! # Join keys
//!
//! Every row carries `ocid`. Child rows also carry their parent's position
//! (`award_index`, `contract_index`) and its business id (`award_id`,
//! `contract_id`, `tender_id`), then their own position in their array
//! (`item_index`, …). Positions are 0-based, as in JSON pointers
//! (`/awards/0/items/3`), and rows keep the order of the source arrays.
//! Why both: ids are what people know and search for, but in real data they
//! are missing or repeated; `(ocid, award_index)` always identifies one award,
//! so joins stay correct whatever the ids hold. `origin` is `contract` or
//! `implementation`: it tells which of a contract's two arrays a document or
//! milestone came from (their positions are counted separately).
//! Business joins across tables: `contracts.awardID = awards.id`, and
//! `award_suppliers.id` / `tender_tenderers.id` / `bids.tenderers/id` =
//! `parties.id`, each within one `ocid`.
//!
//! # Columns
//!
//! Each table has a fixed list of well-known fields, named by their path
//! inside the row's object with `/` (`value/amount`, `tenderPeriod/startDate`),
//! then one last column, `extra`: a compact JSON object holding every other
//! field of the object, keyed by its `/` path (`{"details/gender":"male"}`),
//! or empty when there is none. Why not one column per field found in the
//! data: such columns depend on what was read, so two exports (or this month
//! and next month) would not line up, and finding them needs a first pass or a
//! memory of every row. A fixed list plus `extra` is deterministic, streams,
//! and loses nothing. Arrays that have their own table (`awards[].items`) are
//! not repeated in `extra`; other arrays of objects (`additionalIdentifiers`,
//! `amendments`, `tender.milestones`) are kept whole in `extra`. Nulls are
//! left out of `extra`: in a compiled release null means "absent". An array
//! member that is not an object (`"awards": ["x"]`) still gets its row, so
//! positions stay aligned, with `{"(value)": "x"}` in `extra`.
//!
//! Two convenience columns repeat an array's members joined with `;`:
//! `awards.suppliers/id` and `suppliers/name` (the full rows are in
//! `award_suppliers`), and `bids.tenderers/id` and `tenderers/name` (bids have
//! no child table: when a bid's tenderers hold more than `id` and `name`, the
//! whole array is also kept in `extra`). Positions match between the two
//! columns: a missing member field gives an empty slot (`A;;C`).
//!
//! # Values
//!
//! Strings are written as they are (trailing spaces, newlines and mixed date
//! formats included: cleaning is an analyst's decision). Numbers are written as
//! serde_json prints them: integers as they were, decimals in their shortest
//! exact form (`2.50` gives `2.5`, `1E+3` gives `1000.0`). Booleans are
//! `true` / `false`; arrays of scalars are joined with `;` (`tag`, `roles`,
//! `submissionMethod`), with no escaping of a `;` inside a member. An object
//! or array found where a fixed column expects a scalar is written as compact
//! JSON, so a wrong type is visible instead of lost.
//!
//! # CSV
//!
//! One `<table>.csv` per table in the output directory; UTF-8 with a byte
//! order mark, because without it Excel on Windows reads UTF-8 as a legacy code
//! page and mangles accents; RFC 4180 (comma, `"` quoting only when needed,
//! CRLF row ends; newlines inside values are quoted). One header row of column
//! names. Values are not altered against spreadsheet formula injection.
//!
//! # XLSX
//!
//! One sheet per table, same names and order, with a bold frozen header row
//! and an autofilter. JSON numbers become numeric cells (integers beyond 2^53,
//! which Excel would round, stay text), booleans become Excel booleans, dates
//! stay text (their formats are mixed in real data, and converting would
//! guess time zones). Excel's limits are respected: a sheet holds at most
//! 1,048,576 rows including its header, after which the table continues in
//! `<table>_2`, `<table>_3`…; a cell holds at most 32,767 characters, longer
//! text is cut and counted in [`Summary::truncated_cells`].
//! rust_xlsxwriter is used in its standard mode, because its constant-memory
//! mode sits behind a cargo feature this crate does not enable: the workbook
//! is held in memory until [`XlsxFlattener::finish`] (roughly ten times the
//! JSON's size: about 650 MB for 67 MB of compiled releases), then zipped at
//! the fastest deflate level (a third less total time than the default level,
//! for a file about 1.6 times bigger).
//!
//! # Streaming
//!
//! Both writers take one compiled release at a time and keep no reference to
//! it. CSV rows go to a per-table buffer that is written out whenever it
//! passes 128 KiB, so CSV memory stays bounded whatever the input size.
//! [`CsvFlattener::add_batch`] renders a batch on every core, then writes the
//! rows in input order (same bytes as [`CsvFlattener::add`]). The XLSX
//! writer holds the workbook's cells until it saves (see above).

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Number, Value};

/// Why flattening stopped. Every message names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum FlattenError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write workbook {}: {source}", path.display())]
    Xlsx {
        path: PathBuf,
        #[source]
        source: XlsxError,
    },
    /// The `index`-th value given (0-based, counting every call) is not a JSON
    /// object, so it cannot be a compiled release. Nothing of it was written.
    #[error("value #{index} is not a JSON object, so not a compiled release (output {})", path.display())]
    NotAnObject { index: u64, path: PathBuf },
}

/// The tables, in output order. See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Releases,
    Parties,
    PlanningDocuments,
    TenderItems,
    TenderTenderers,
    TenderDocuments,
    Bids,
    Awards,
    AwardItems,
    AwardSuppliers,
    AwardDocuments,
    Contracts,
    ContractItems,
    ContractDocuments,
    ContractTransactions,
    ContractMilestones,
}

const TABLE_COUNT: usize = 16;

impl Table {
    /// Every table, in output order.
    pub const ALL: [Table; TABLE_COUNT] = [
        Table::Releases,
        Table::Parties,
        Table::PlanningDocuments,
        Table::TenderItems,
        Table::TenderTenderers,
        Table::TenderDocuments,
        Table::Bids,
        Table::Awards,
        Table::AwardItems,
        Table::AwardSuppliers,
        Table::AwardDocuments,
        Table::Contracts,
        Table::ContractItems,
        Table::ContractDocuments,
        Table::ContractTransactions,
        Table::ContractMilestones,
    ];

    /// The file stem (`<name>.csv`) and sheet name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The header: key columns, fixed fields, joined columns, then `extra`.
    pub fn columns(self) -> Vec<&'static str> {
        let s = self.spec();
        let mut cols = Vec::with_capacity(s.width() + 1);
        cols.extend_from_slice(s.keys);
        cols.extend_from_slice(s.fields);
        for a in s.arrays {
            cols.extend(a.joins.iter().map(|(col, _)| *col));
        }
        cols.push(EXTRA);
        cols
    }

    fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }
}

/// Every table's name and columns, in output order (for documentation and
/// help texts).
pub fn table_columns() -> Vec<(&'static str, Vec<&'static str>)> {
    Table::ALL.iter().map(|t| (t.name(), t.columns())).collect()
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Compiled releases read.
    pub releases: u64,
    /// Every table, in output order, including those with no rows.
    pub tables: Vec<TableSummary>,
    /// XLSX only: cells cut to Excel's 32,767-character limit.
    pub truncated_cells: u64,
}

/// One table's share of a [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: Table,
    pub name: &'static str,
    /// Data rows (headers not counted).
    pub rows: u64,
    /// CSV: the file written. XLSX: the sheets written (`awards`, `awards_2`…).
    pub outputs: Vec<String>,
}

impl Summary {
    /// Data rows written for `table`.
    pub fn rows(&self, table: Table) -> u64 {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.rows)
    }
}

// ---------------------------------------------------------------------------
// Table specifications

const EXTRA: &str = "extra";

/// An array inside a row's object that the row does not hold itself.
struct ArraySpec {
    path: &'static str,
    /// Another table has one row per member, so `extra` need not repeat it.
    own_table: bool,
    /// `(column, member field)`: columns that join one field of every member.
    joins: &'static [(&'static str, &'static str)],
}

struct Spec {
    name: &'static str,
    keys: &'static [&'static str],
    fields: &'static [&'static str],
    arrays: &'static [ArraySpec],
}

impl Spec {
    /// Cells before `extra`.
    fn width(&self) -> usize {
        self.keys.len()
            + self.fields.len()
            + self.arrays.iter().map(|a| a.joins.len()).sum::<usize>()
    }
}

const fn table(path: &'static str) -> ArraySpec {
    ArraySpec {
        path,
        own_table: true,
        joins: &[],
    }
}

const ITEM: &[&str] = &[
    "id",
    "description",
    "classification/scheme",
    "classification/id",
    "classification/description",
    "classification/uri",
    "quantity",
    "unit/scheme",
    "unit/id",
    "unit/name",
    "unit/uri",
    "unit/value/amount",
    "unit/value/currency",
];

const DOCUMENT: &[&str] = &[
    "id",
    "documentType",
    "title",
    "description",
    "url",
    "datePublished",
    "dateModified",
    "format",
    "language",
];

const ORGANIZATION_REFERENCE: &[&str] = &["id", "name"];

const MILESTONE: &[&str] = &[
    "id",
    "title",
    "type",
    "description",
    "code",
    "dueDate",
    "dateMet",
    "dateModified",
    "status",
];

static SPECS: [Spec; TABLE_COUNT] = [
    Spec {
        name: "releases",
        keys: &[],
        fields: &[
            "ocid",
            "id",
            "date",
            "initiationType",
            "tag",
            "language",
            "buyer/id",
            "buyer/name",
            "planning/rationale",
            "planning/budget/id",
            "planning/budget/description",
            "planning/budget/amount/amount",
            "planning/budget/amount/currency",
            "planning/budget/project",
            "planning/budget/projectID",
            "planning/budget/uri",
            "tender/id",
            "tender/title",
            "tender/description",
            "tender/status",
            "tender/procurementMethod",
            "tender/procurementMethodDetails",
            "tender/procurementMethodRationale",
            "tender/mainProcurementCategory",
            "tender/additionalProcurementCategories",
            "tender/awardCriteria",
            "tender/awardCriteriaDetails",
            "tender/submissionMethod",
            "tender/submissionMethodDetails",
            "tender/value/amount",
            "tender/value/currency",
            "tender/minValue/amount",
            "tender/minValue/currency",
            "tender/tenderPeriod/startDate",
            "tender/tenderPeriod/endDate",
            "tender/enquiryPeriod/startDate",
            "tender/enquiryPeriod/endDate",
            "tender/hasEnquiries",
            "tender/eligibilityCriteria",
            "tender/awardPeriod/startDate",
            "tender/awardPeriod/endDate",
            "tender/contractPeriod/startDate",
            "tender/contractPeriod/endDate",
            "tender/contractPeriod/durationInDays",
            "tender/numberOfTenderers",
            "tender/procuringEntity/id",
            "tender/procuringEntity/name",
        ],
        arrays: &[
            table("parties"),
            table("planning/documents"),
            table("tender/items"),
            table("tender/tenderers"),
            table("tender/documents"),
            table("bids/details"),
            table("awards"),
            table("contracts"),
        ],
    },
    Spec {
        name: "parties",
        keys: &["ocid", "party_index"],
        fields: &[
            "id",
            "name",
            "roles",
            "identifier/scheme",
            "identifier/id",
            "identifier/legalName",
            "identifier/uri",
            "address/streetAddress",
            "address/locality",
            "address/region",
            "address/postalCode",
            "address/countryName",
            "contactPoint/name",
            "contactPoint/email",
            "contactPoint/telephone",
            "contactPoint/faxNumber",
            "contactPoint/url",
            "details/scale",
        ],
        arrays: &[],
    },
    Spec {
        name: "planning_documents",
        keys: &["ocid", "document_index"],
        fields: DOCUMENT,
        arrays: &[],
    },
    Spec {
        name: "tender_items",
        keys: &["ocid", "tender_id", "item_index"],
        fields: ITEM,
        arrays: &[],
    },
    Spec {
        name: "tender_tenderers",
        keys: &["ocid", "tender_id", "tenderer_index"],
        fields: ORGANIZATION_REFERENCE,
        arrays: &[],
    },
    Spec {
        name: "tender_documents",
        keys: &["ocid", "tender_id", "document_index"],
        fields: DOCUMENT,
        arrays: &[],
    },
    Spec {
        name: "bids",
        keys: &["ocid", "bid_index"],
        fields: &["id", "date", "status", "value/amount", "value/currency"],
        arrays: &[ArraySpec {
            path: "tenderers",
            own_table: false,
            joins: &[("tenderers/id", "id"), ("tenderers/name", "name")],
        }],
    },
    Spec {
        name: "awards",
        keys: &["ocid", "award_index"],
        fields: &[
            "id",
            "title",
            "description",
            "status",
            "date",
            "value/amount",
            "value/currency",
            "contractPeriod/startDate",
            "contractPeriod/endDate",
        ],
        arrays: &[
            table("items"),
            ArraySpec {
                path: "suppliers",
                own_table: true,
                joins: &[("suppliers/id", "id"), ("suppliers/name", "name")],
            },
            table("documents"),
        ],
    },
    Spec {
        name: "award_items",
        keys: &["ocid", "award_index", "award_id", "item_index"],
        fields: ITEM,
        arrays: &[],
    },
    Spec {
        name: "award_suppliers",
        keys: &["ocid", "award_index", "award_id", "supplier_index"],
        fields: ORGANIZATION_REFERENCE,
        arrays: &[],
    },
    Spec {
        name: "award_documents",
        keys: &["ocid", "award_index", "award_id", "document_index"],
        fields: DOCUMENT,
        arrays: &[],
    },
    Spec {
        name: "contracts",
        keys: &["ocid", "contract_index"],
        fields: &[
            "id",
            "awardID",
            "title",
            "description",
            "status",
            "dateSigned",
            "value/amount",
            "value/currency",
            "period/startDate",
            "period/endDate",
        ],
        arrays: &[
            table("items"),
            table("documents"),
            table("milestones"),
            table("implementation/transactions"),
            table("implementation/documents"),
            table("implementation/milestones"),
        ],
    },
    Spec {
        name: "contract_items",
        keys: &["ocid", "contract_index", "contract_id", "item_index"],
        fields: ITEM,
        arrays: &[],
    },
    Spec {
        name: "contract_documents",
        keys: &[
            "ocid",
            "contract_index",
            "contract_id",
            "origin",
            "document_index",
        ],
        fields: DOCUMENT,
        arrays: &[],
    },
    Spec {
        name: "contract_transactions",
        keys: &["ocid", "contract_index", "contract_id", "transaction_index"],
        fields: &[
            "id",
            "source",
            "date",
            "value/amount",
            "value/currency",
            "payer/id",
            "payer/name",
            "payee/id",
            "payee/name",
            "uri",
        ],
        arrays: &[],
    },
    Spec {
        name: "contract_milestones",
        keys: &[
            "ocid",
            "contract_index",
            "contract_id",
            "origin",
            "milestone_index",
        ],
        fields: MILESTONE,
        arrays: &[],
    },
];

/// A spec's paths as a tree, so one pass over an object both fills the fixed
/// cells and finds what is left for `extra`.
struct Node {
    kids: Vec<(&'static str, Node)>,
    what: What,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum What {
    Inner,
    Column(usize),
    /// Index into [`Spec::arrays`].
    Array(usize),
}

impl Node {
    fn kid(&self, key: &str) -> Option<&Node> {
        self.kids.iter().find(|(k, _)| *k == key).map(|(_, n)| n)
    }

    fn insert(&mut self, path: &'static str, what: What) {
        let mut node = self;
        for seg in path.split('/') {
            let at = match node.kids.iter().position(|(k, _)| *k == seg) {
                Some(at) => at,
                None => {
                    node.kids.push((
                        seg,
                        Node {
                            kids: Vec::new(),
                            what: What::Inner,
                        },
                    ));
                    node.kids.len() - 1
                }
            };
            node = &mut node.kids[at].1;
        }
        node.what = what;
    }
}

fn trees() -> &'static [Node] {
    static TREES: OnceLock<Vec<Node>> = OnceLock::new();
    TREES.get_or_init(|| {
        SPECS
            .iter()
            .map(|s| {
                let mut root = Node {
                    kids: Vec::new(),
                    what: What::Inner,
                };
                for (i, f) in s.fields.iter().enumerate() {
                    root.insert(f, What::Column(s.keys.len() + i));
                }
                for (i, a) in s.arrays.iter().enumerate() {
                    root.insert(a.path, What::Array(i));
                }
                root
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------
// Rows

/// One cell, borrowed from the compiled release: text is made only by the
/// writer that needs it, so most cells cost no allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Empty,
    Str(&'a str),
    Num(&'a Number),
    Bool(bool),
    Index(usize),
    /// A fixed label (`origin`).
    Label(&'static str),
    /// An array of scalars, joined with `;`.
    Scalars(&'a [Value]),
    /// One field of every member of an array of objects, joined with `;`.
    Joined(&'a [Value], &'static str),
    /// An object or mixed array where a scalar was expected.
    Json(&'a Value),
}

impl<'a> Cell<'a> {
    fn of(v: &'a Value) -> Cell<'a> {
        match v {
            Value::Null => Cell::Empty,
            Value::String(s) => Cell::Str(s),
            Value::Number(n) => Cell::Num(n),
            Value::Bool(b) => Cell::Bool(*b),
            Value::Array(a) if a.iter().all(is_scalar) => Cell::Scalars(a),
            _ => Cell::Json(v),
        }
    }

    fn of_opt(v: Option<&'a Value>) -> Cell<'a> {
        v.map_or(Cell::Empty, Cell::of)
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// A row as handed to a writer: `cells` are the columns before `extra`.
pub(crate) struct Row<'r, 'a> {
    pub cells: &'r [Cell<'a>],
    /// Compact JSON object, or empty.
    pub extra: &'r str,
}

/// Arrays whose members a row can join into columns: the first
/// `JOIN_SLOTS` of a spec's `arrays` (checked by a unit test).
const JOIN_SLOTS: usize = 4;

/// Buffers reused across the rows of one release.
struct Builder<'a> {
    cells: Vec<Cell<'a>>,
    extra: Vec<u8>,
    path: Vec<&'a str>,
    key: String,
}

impl<'a> Builder<'a> {
    fn new() -> Self {
        Builder {
            cells: Vec::with_capacity(64),
            extra: Vec::with_capacity(256),
            path: Vec::with_capacity(8),
            key: String::with_capacity(64),
        }
    }

    /// Fills the cells and `extra` of one row from `value` (normally an object).
    fn fill(&mut self, spec: &'static Spec, tree: &Node, keys: &[Cell<'a>], value: &'a Value) {
        self.cells.clear();
        self.cells.resize(spec.width(), Cell::Empty);
        self.cells[..keys.len()].copy_from_slice(keys);
        self.extra.clear();
        self.path.clear();
        match value {
            Value::Object(obj) => {
                let mut joined: [Option<&'a [Value]>; JOIN_SLOTS] = [None; JOIN_SLOTS];
                self.walk(spec, tree, obj, &mut joined);
                let mut col = spec.keys.len() + spec.fields.len();
                for (a, found) in spec.arrays.iter().zip(joined) {
                    for (_, field) in a.joins {
                        if let Some(members) = found {
                            self.cells[col] = Cell::Joined(members, field);
                        }
                        col += 1;
                    }
                }
            }
            // An array member that is not an object still gets its row (so
            // positions stay aligned) and its value is kept.
            other => self.put_extra("(value)", other),
        }
        if !self.extra.is_empty() {
            self.extra.push(b'}');
        }
    }

    fn walk(
        &mut self,
        spec: &'static Spec,
        node: &Node,
        obj: &'a Map<String, Value>,
        joined: &mut [Option<&'a [Value]>; JOIN_SLOTS],
    ) {
        for (k, v) in obj {
            let Some(kid) = node.kid(k) else {
                self.put_extra(k, v);
                continue;
            };
            match (kid.what, v) {
                (What::Column(i), _) => self.cells[i] = Cell::of(v),
                (What::Inner, Value::Object(m)) => {
                    self.path.push(k);
                    self.walk(spec, kid, m, joined);
                    self.path.pop();
                }
                (What::Array(i), Value::Array(members)) => {
                    let a = &spec.arrays[i];
                    if let Some(slot) = joined.get_mut(i) {
                        *slot = Some(members);
                    }
                    if !a.own_table && !covered(members, a.joins) {
                        self.put_extra(k, v);
                    }
                }
                // A wrong type where an object or array was expected: no
                // column or table takes it, so `extra` must.
                _ => self.put_extra(k, v),
            }
        }
    }

    fn put_extra(&mut self, k: &'a str, v: &'a Value) {
        match v {
            Value::Null => {}
            Value::Object(m) if !m.is_empty() => {
                self.path.push(k);
                for (k2, v2) in m {
                    self.put_extra(k2, v2);
                }
                self.path.pop();
            }
            _ => {
                self.extra
                    .push(if self.extra.is_empty() { b'{' } else { b',' });
                self.key.clear();
                for seg in &self.path {
                    self.key.push_str(seg);
                    self.key.push('/');
                }
                self.key.push_str(k);
                // Writing JSON into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut self.extra, &self.key);
                self.extra.push(b':');
                let _ = serde_json::to_writer(&mut self.extra, v);
            }
        }
    }
}

/// Whether the join columns show all of every member.
fn covered(members: &[Value], joins: &[(&str, &str)]) -> bool {
    members.iter().all(|m| {
        m.as_object()
            .is_some_and(|o| o.keys().all(|k| joins.iter().any(|(_, f)| f == k)))
    })
}

fn array_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut cur = v;
    for seg in path {
        match cur.get(seg) {
            Some(next) => cur = next,
            None => return &[],
        }
    }
    cur.as_array().map_or(&[], Vec::as_slice)
}

/// Every row of one compiled release, table by table, parents before their
/// children, arrays in source order. Both writers use this, so CSV and XLSX
/// always hold the same rows.
pub(crate) fn rows<'a, E>(
    compiled: &'a Value,
    sink: &mut impl FnMut(Table, &Row<'_, 'a>) -> Result<(), E>,
) -> Result<(), E> {
    let trees = trees();
    let mut b = Builder::new();
    let mut emit = |b: &mut Builder<'a>, table: Table, keys: &[Cell<'a>], v: &'a Value| {
        b.fill(table.spec(), &trees[table as usize], keys, v);
        let extra = String::from_utf8_lossy(&b.extra);
        sink(
            table,
            &Row {
                cells: &b.cells,
                extra: &extra,
            },
        )
    };

    let ocid = Cell::of_opt(compiled.get("ocid"));
    emit(&mut b, Table::Releases, &[], compiled)?;

    for (i, p) in array_at(compiled, &["parties"]).iter().enumerate() {
        emit(&mut b, Table::Parties, &[ocid, Cell::Index(i)], p)?;
    }
    for (i, d) in array_at(compiled, &["planning", "documents"])
        .iter()
        .enumerate()
    {
        emit(&mut b, Table::PlanningDocuments, &[ocid, Cell::Index(i)], d)?;
    }

    let tender_id = Cell::of_opt(compiled.get("tender").and_then(|t| t.get("id")));
    for (table, key) in [
        (Table::TenderItems, "items"),
        (Table::TenderTenderers, "tenderers"),
        (Table::TenderDocuments, "documents"),
    ] {
        for (i, v) in array_at(compiled, &["tender", key]).iter().enumerate() {
            emit(&mut b, table, &[ocid, tender_id, Cell::Index(i)], v)?;
        }
    }

    for (i, bid) in array_at(compiled, &["bids", "details"]).iter().enumerate() {
        emit(&mut b, Table::Bids, &[ocid, Cell::Index(i)], bid)?;
    }

    for (i, award) in array_at(compiled, &["awards"]).iter().enumerate() {
        emit(&mut b, Table::Awards, &[ocid, Cell::Index(i)], award)?;
        let id = Cell::of_opt(award.get("id"));
        for (table, key) in [
            (Table::AwardItems, "items"),
            (Table::AwardSuppliers, "suppliers"),
            (Table::AwardDocuments, "documents"),
        ] {
            for (j, v) in array_at(award, &[key]).iter().enumerate() {
                emit(
                    &mut b,
                    table,
                    &[ocid, Cell::Index(i), id, Cell::Index(j)],
                    v,
                )?;
            }
        }
    }

    for (i, contract) in array_at(compiled, &["contracts"]).iter().enumerate() {
        emit(&mut b, Table::Contracts, &[ocid, Cell::Index(i)], contract)?;
        let id = Cell::of_opt(contract.get("id"));
        let at = Cell::Index(i);
        for (j, v) in array_at(contract, &["items"]).iter().enumerate() {
            emit(
                &mut b,
                Table::ContractItems,
                &[ocid, at, id, Cell::Index(j)],
                v,
            )?;
        }
        for (origin, path) in [
            ("contract", &["documents"][..]),
            ("implementation", &["implementation", "documents"][..]),
        ] {
            for (j, v) in array_at(contract, path).iter().enumerate() {
                let keys = [ocid, at, id, Cell::Label(origin), Cell::Index(j)];
                emit(&mut b, Table::ContractDocuments, &keys, v)?;
            }
        }
        for (j, v) in array_at(contract, &["implementation", "transactions"])
            .iter()
            .enumerate()
        {
            let keys = [ocid, at, id, Cell::Index(j)];
            emit(&mut b, Table::ContractTransactions, &keys, v)?;
        }
        for (origin, path) in [
            ("contract", &["milestones"][..]),
            ("implementation", &["implementation", "milestones"][..]),
        ] {
            for (j, v) in array_at(contract, path).iter().enumerate() {
                let keys = [ocid, at, id, Cell::Label(origin), Cell::Index(j)];
                emit(&mut b, Table::ContractMilestones, &keys, v)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Text of cells

fn push_display(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

fn push_scalar(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Number(n) => push_display(out, n),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// The text of any cell, for cells that are not a plain borrowed string.
fn push_text(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match *cell {
        Cell::Empty => {}
        Cell::Str(s) | Cell::Label(s) => out.extend_from_slice(s.as_bytes()),
        Cell::Num(n) => push_display(out, n),
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Index(i) => push_display(out, i),
        Cell::Scalars(a) => {
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b';');
                }
                push_scalar(out, v);
            }
        }
        Cell::Joined(members, field) => {
            // All members lacking the field means no information, not ";;".
            if members
                .iter()
                .all(|m| m.get(field).is_none_or(Value::is_null))
            {
                return;
            }
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b';');
                }
                if let Some(v) = m.get(field) {
                    push_scalar(out, v);
                }
            }
        }
        Cell::Json(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

// ---------------------------------------------------------------------------
// CSV

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// A table's buffer is written out past this size: bounded memory, few syscalls.
const FLUSH_AT: usize = 128 * 1024;

/// RFC 4180: quote only fields holding a comma, quote or line break.
fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    let needs_quotes = memchr::memchr3(b',', b'"', b'\n', field).is_some()
        || memchr::memchr(b'\r', field).is_some();
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for q in memchr::memchr_iter(b'"', field) {
        out.extend_from_slice(&field[start..=q]);
        out.push(b'"');
        start = q + 1;
    }
    out.extend_from_slice(&field[start..]);
    out.push(b'"');
}

fn put_row(out: &mut Vec<u8>, row: &Row<'_, '_>, scratch: &mut Vec<u8>) {
    for cell in row.cells {
        match *cell {
            Cell::Empty => {}
            Cell::Str(s) => put_field(out, s.as_bytes()),
            // Never hold a comma, quote or line break.
            Cell::Num(n) => push_display(out, n),
            Cell::Index(i) => push_display(out, i),
            Cell::Bool(_) => push_text(out, cell),
            _ => {
                scratch.clear();
                push_text(scratch, cell);
                put_field(out, scratch);
            }
        }
        out.push(b',');
    }
    put_field(out, row.extra.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// CSV bytes per table, not yet written, and rows counted so far.
struct Rendered {
    bufs: Vec<Vec<u8>>,
    rows: [u64; TABLE_COUNT],
}

impl Rendered {
    fn new() -> Self {
        Rendered {
            bufs: (0..TABLE_COUNT).map(|_| Vec::new()).collect(),
            rows: [0; TABLE_COUNT],
        }
    }

    fn render(&mut self, compiled: &Value, scratch: &mut Vec<u8>) {
        let Rendered { bufs, rows: counts } = self;
        let done = rows(compiled, &mut |table, row| {
            let t = table as usize;
            put_row(&mut bufs[t], row, scratch);
            counts[t] += 1;
            Ok::<(), std::convert::Infallible>(())
        });
        match done {
            Ok(()) => {}
            Err(never) => match never {},
        }
    }
}

/// Writes one `<table>.csv` per table into a directory. See the
/// [module documentation](self) for the layout.
///
/// ```no_run
/// # use tuwhera_ocds::flatten::CsvFlattener;
/// let mut out = CsvFlattener::create(std::path::Path::new("tables"))?;
/// out.add(&serde_json::json!({"ocid": "ocds-x-1", "awards": [{"id": "a1"}]}))?;
/// let summary = out.finish()?;
/// # Ok::<(), tuwhera_ocds::flatten::FlattenError>(())
/// ```
pub struct CsvFlattener {
    dir: PathBuf,
    /// In [`Table::ALL`] order, like `pending.bufs`.
    files: Vec<(PathBuf, File)>,
    pending: Rendered,
    releases: u64,
    scratch: Vec<u8>,
}

impl CsvFlattener {
    /// Creates `dir` if needed and every `<table>.csv` in it (replacing files
    /// of the same name), each starting with a BOM and the header row.
    pub fn create(dir: &Path) -> Result<Self, FlattenError> {
        fs::create_dir_all(dir).map_err(|source| FlattenError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files = Vec::with_capacity(TABLE_COUNT);
        let mut pending = Rendered::new();
        for (table, buf) in Table::ALL.into_iter().zip(&mut pending.bufs) {
            let path = dir.join(format!("{}.csv", table.name()));
            let file = File::create(&path).map_err(|source| FlattenError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path, file));
            buf.reserve(FLUSH_AT + 16 * 1024);
            buf.extend_from_slice(BOM);
            for (i, col) in table.columns().iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                put_field(buf, col.as_bytes());
            }
            buf.extend_from_slice(b"\r\n");
        }
        Ok(CsvFlattener {
            dir: dir.to_path_buf(),
            files,
            pending,
            releases: 0,
            scratch: Vec::with_capacity(1024),
        })
    }

    /// Writes the rows of one compiled release. A value that is not a JSON
    /// object is refused and nothing of it is written; the flattener stays
    /// usable.
    pub fn add(&mut self, compiled: &Value) -> Result<(), FlattenError> {
        if !compiled.is_object() {
            return Err(self.not_an_object(0));
        }
        self.pending.render(compiled, &mut self.scratch);
        self.releases += 1;
        self.write_out(FLUSH_AT)
    }

    /// Like [`add`](Self::add) for many releases: rows are made on every core,
    /// then written in input order, byte for byte what `add` would write.
    /// Memory grows with the batch's output, so keep batches to a few
    /// thousand releases. If any value is not an object, nothing of the batch
    /// is written.
    pub fn add_batch(&mut self, batch: &[Value]) -> Result<(), FlattenError> {
        if let Some(i) = batch.iter().position(|v| !v.is_object()) {
            return Err(self.not_an_object(i as u64));
        }
        let chunk = (batch.len() / (rayon::current_num_threads() * 4)).max(16);
        let parts: Vec<Rendered> = batch
            .par_chunks(chunk)
            .map(|releases| {
                let mut part = Rendered::new();
                let mut scratch = Vec::new();
                for compiled in releases {
                    part.render(compiled, &mut scratch);
                }
                part
            })
            .collect();
        for part in parts {
            let pending = &mut self.pending;
            for (t, buf) in part.bufs.iter().enumerate() {
                pending.bufs[t].extend_from_slice(buf);
                pending.rows[t] += part.rows[t];
            }
            self.write_out(FLUSH_AT)?;
        }
        self.releases += batch.len() as u64;
        Ok(())
    }

    /// Writes what is buffered and closes every file.
    pub fn finish(mut self) -> Result<Summary, FlattenError> {
        self.write_out(0)?;
        let mut tables = Vec::with_capacity(TABLE_COUNT);
        for (t, (table, (path, file))) in Table::ALL.into_iter().zip(&mut self.files).enumerate() {
            file.flush().map_err(|source| FlattenError::Io {
                path: path.clone(),
                source,
            })?;
            tables.push(TableSummary {
                table,
                name: table.name(),
                rows: self.pending.rows[t],
                outputs: vec![path.display().to_string()],
            });
        }
        Ok(Summary {
            releases: self.releases,
            tables,
            truncated_cells: 0,
        })
    }

    /// Writes every table buffer holding at least `at` bytes (0: all).
    fn write_out(&mut self, at: usize) -> Result<(), FlattenError> {
        for (buf, (path, file)) in self.pending.bufs.iter_mut().zip(&mut self.files) {
            if buf.is_empty() || buf.len() < at {
                continue;
            }
            file.write_all(buf).map_err(|source| FlattenError::Io {
                path: path.clone(),
                source,
            })?;
            buf.clear();
        }
        Ok(())
    }

    fn not_an_object(&self, offset: u64) -> FlattenError {
        FlattenError::NotAnObject {
            index: self.releases + offset,
            path: self.dir.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// XLSX

/// Excel's rows per sheet, header included.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;
/// Excel's characters per cell, counted in UTF-16 units.
const XLSX_MAX_CELL: usize = 32_767;
/// Integers beyond this are rounded by Excel's doubles.
const EXACT_INT: u64 = 1 << 53;

struct XlsxTable {
    /// Indexes of this table's sheets in the workbook.
    sheets: Vec<usize>,
    /// Next row in the last sheet.
    row: u32,
    rows: u64,
}

/// Writes one workbook with one sheet per table. See the
/// [module documentation](self) for the layout.
pub struct XlsxFlattener {
    path: PathBuf,
    file: BufWriter<File>,
    /// Sheets in constant-memory mode: each row goes to a temporary file as it is
    /// written, so memory stays flat whatever the size of the export.
    workbook: Workbook,
    tables: Vec<XlsxTable>,
    header: Format,
    max_rows: u32,
    releases: u64,
    truncated: u64,
    scratch: Vec<u8>,
}

impl XlsxFlattener {
    /// Creates (or truncates) the workbook file now, so that a bad path fails
    /// before any work; it is written by [`finish`](Self::finish).
    pub fn create(path: &Path) -> Result<Self, FlattenError> {
        let file = File::create(path).map_err(|source| FlattenError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut workbook = Workbook::new();
        // Deflate at the default level took a third of all XLSX time; an
        // export is read once, so a bigger file is the better trade.
        workbook.set_zip_compression_level(1);
        let mut me = XlsxFlattener {
            path: path.to_path_buf(),
            file: BufWriter::with_capacity(256 * 1024, file),
            workbook,
            tables: Vec::with_capacity(TABLE_COUNT),
            header: Format::new().set_bold(),
            max_rows: XLSX_MAX_ROWS,
            releases: 0,
            truncated: 0,
            scratch: Vec::with_capacity(1024),
        };
        for (i, table) in Table::ALL.into_iter().enumerate() {
            new_sheet(&mut me.workbook, table, 1, &me.header).map_err(|source| {
                FlattenError::Xlsx {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            me.tables.push(XlsxTable {
                sheets: vec![i],
                row: 1,
                rows: 0,
            });
        }
        Ok(me)
    }

    /// Lowers the rows per sheet (header included, at least 2), to preview
    /// or test the `<table>_2` overflow without a million rows. Values above
    /// Excel's limit are lowered to it.
    pub fn with_max_rows_per_sheet(mut self, rows: u32) -> Self {
        self.max_rows = rows.clamp(2, XLSX_MAX_ROWS);
        self
    }

    /// Adds the rows of one compiled release. A value that is not a JSON
    /// object is refused and nothing of it is written.
    pub fn add(&mut self, compiled: &Value) -> Result<(), FlattenError> {
        if !compiled.is_object() {
            return Err(FlattenError::NotAnObject {
                index: self.releases,
                path: self.path.clone(),
            });
        }
        let done = rows(compiled, &mut |table, row| self.write_row(table, row));
        done.map_err(|source| FlattenError::Xlsx {
            path: self.path.clone(),
            source,
        })?;
        self.releases += 1;
        Ok(())
    }

    /// Writes the workbook and returns what it holds.
    pub fn finish(self) -> Result<Summary, FlattenError> {
        let XlsxFlattener {
            path,
            file,
            mut workbook,
            tables,
            releases,
            truncated,
            max_rows,
            ..
        } = self;
        let xlsx = |source| FlattenError::Xlsx {
            path: path.clone(),
            source,
        };
        let mut summary = Vec::with_capacity(TABLE_COUNT);
        for (table, t) in Table::ALL.into_iter().zip(tables) {
            let last_col = (table.columns().len() - 1) as u16;
            let count = t.sheets.len();
            let mut outputs = Vec::with_capacity(count);
            for (n, index) in t.sheets.into_iter().enumerate() {
                let last_row = if n + 1 == count {
                    t.row.saturating_sub(1)
                } else {
                    max_rows - 1
                };
                let sheet = workbook.worksheet_from_index(index).map_err(xlsx)?;
                sheet.autofilter(0, 0, last_row, last_col).map_err(xlsx)?;
                outputs.push(sheet.name());
            }
            summary.push(TableSummary {
                table,
                name: table.name(),
                rows: t.rows,
                outputs,
            });
        }
        let mut file = file;
        workbook.save_to_writer(&mut file).map_err(xlsx)?;
        file.flush().map_err(|source| FlattenError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Summary {
            releases,
            tables: summary,
            truncated_cells: truncated,
        })
    }

    fn write_row(&mut self, table: Table, row: &Row<'_, '_>) -> Result<(), XlsxError> {
        let t = table as usize;
        if self.tables[t].row >= self.max_rows {
            let number = self.tables[t].sheets.len() + 1;
            let index = new_sheet(&mut self.workbook, table, number, &self.header)?;
            self.tables[t].sheets.push(index);
            self.tables[t].row = 1;
        }
        let XlsxFlattener {
            workbook,
            tables,
            scratch,
            truncated,
            ..
        } = self;
        let tbl = &mut tables[t];
        let r = tbl.row;
        let Some(&index) = tbl.sheets.last() else {
            return Ok(());
        };
        let sheet = workbook.worksheet_from_index(index)?;
        for (c, cell) in row.cells.iter().enumerate() {
            let c = c as u16;
            match *cell {
                Cell::Empty => {}
                Cell::Str(s) | Cell::Label(s) => {
                    sheet.write_string(r, c, excel_text(s, truncated))?;
                }
                Cell::Num(n) => {
                    write_number(sheet, r, c, n)?;
                }
                Cell::Index(i) => {
                    sheet.write_number(r, c, i as f64)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, b)?;
                }
                _ => {
                    scratch.clear();
                    push_text(scratch, cell);
                    let text = String::from_utf8_lossy(scratch);
                    if !text.is_empty() {
                        sheet.write_string(r, c, excel_text(&text, truncated))?;
                    }
                }
            }
        }
        if !row.extra.is_empty() {
            let c = row.cells.len() as u16;
            sheet.write_string(r, c, excel_text(row.extra, truncated))?;
        }
        tbl.row += 1;
        tbl.rows += 1;
        Ok(())
    }
}

fn write_number(sheet: &mut Worksheet, r: u32, c: u16, n: &Number) -> Result<(), XlsxError> {
    let exact = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u <= EXACT_INT,
        (None, Some(i)) => i.unsigned_abs() <= EXACT_INT,
        _ => true,
    };
    match n.as_f64() {
        Some(f) if exact => sheet.write_number(r, c, f)?,
        _ => sheet.write_string(r, c, n.to_string())?,
    };
    Ok(())
}

/// Add a table's sheet to the workbook; returns its index.
fn new_sheet(
    workbook: &mut Workbook,
    table: Table,
    number: usize,
    header: &Format,
) -> Result<usize, XlsxError> {
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    if number == 1 {
        sheet.set_name(table.name())?;
    } else {
        sheet.set_name(format!("{}_{number}", table.name()))?;
    }
    for (c, col) in table.columns().iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *col, header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let name = sheet.name();
    // The sheet we just added is the last one.
    let mut index = 0;
    while let Ok(s) = workbook.worksheet_from_index(index) {
        if s.name() == name {
            return Ok(index);
        }
        index += 1;
    }
    Ok(index.saturating_sub(1))
}

/// `s`, cut to what an Excel cell holds.
fn excel_text<'s>(s: &'s str, truncated: &mut u64) -> Cow<'s, str> {
    // A UTF-16 unit is at least one UTF-8 byte: short strings need no count.
    if s.len() <= XLSX_MAX_CELL {
        return Cow::Borrowed(s);
    }
    let mut units = 0;
    for (at, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > XLSX_MAX_CELL {
            *truncated += 1;
            return Cow::Owned(s[..at].to_string());
        }
    }
    Cow::Borrowed(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_is_both_a_column_and_a_parent() {
        fn check(node: &Node, path: &str) {
            for (k, kid) in &node.kids {
                let p = format!("{path}/{k}");
                assert!(
                    kid.what == What::Inner || kid.kids.is_empty(),
                    "{p} is a column or array and has children"
                );
                check(kid, &p);
            }
        }
        for (spec, tree) in SPECS.iter().zip(trees()) {
            check(tree, spec.name);
            for (i, a) in spec.arrays.iter().enumerate() {
                assert!(
                    a.joins.is_empty() || i < JOIN_SLOTS,
                    "{}: {} is past the join slots",
                    spec.name,
                    a.path
                );
            }
        }
    }

    #[test]
    fn specs_in_table_order() {
        for t in Table::ALL {
            assert_eq!(SPECS[t as usize].name, t.name());
        }
    }

    #[test]
    fn csv_quoting() {
        let mut out = Vec::new();
        put_field(&mut out, b"plain");
        out.push(b'|');
        put_field(&mut out, b"a,\"b\"\nc");
        assert_eq!(out, b"plain|\"a,\"\"b\"\"\nc\"");
    }

    #[test]
    fn excel_text_cuts_on_utf16_units() {
        let mut n = 0;
        let s = "é".repeat(XLSX_MAX_CELL + 5);
        let cut = excel_text(&s, &mut n);
        assert_eq!(cut.chars().count(), XLSX_MAX_CELL);
        assert_eq!(n, 1);
        let emoji = "😀".repeat(20_000);
        let cut = excel_text(&emoji, &mut n);
        assert_eq!(cut.encode_utf16().count(), XLSX_MAX_CELL - 1);
    }
}
