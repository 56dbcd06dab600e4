//! The ownership graph of BODS 0.4 statements: records with their history, the
//! state of the network as at a date, ultimate owners of an entity (with share
//! arithmetic on ranges), what a person or entity holds, and identifiers for
//! matching with other data.
//!
//! Works on `serde_json::Value` statements so that it can read whatever the
//! reader yields, valid or not: a missing or odd field makes a statement or an
//! interest count for less, never a panic.
//!
//! Decisions worth knowing before reading the results:
//!
//! * **Shares** are percentages as intervals. `exact` gives `[x, x]`; a missing
//!   lower bound is 0 and a missing upper bound is 100. `exclusiveMinimum` /
//!   `exclusiveMaximum` are kept as bounds with a flag ([`Interval`]), so a UK
//!   "more than 25 %" band published as `exclusiveMinimum: 25` stays
//!   distinguishable from `minimum: 25`. Only `shareholding` interests (or
//!   interests with no type but a share) make the "owns" share; voting rights
//!   and the rest make "controls" (see [`Owner::controls`]).
//! * Along a chain shares multiply; across chains to the same party they add,
//!   and the sum is clamped at 100 % (with [`Owner::share_clamped`] set, since a
//!   sum above 100 % means two declarations describe the same holding).
//! * **Component records** (`isComponent: true`) — see [`GraphView`] docs:
//!   a component relationship is not followed from the subject of the primary
//!   relationship that lists it, so the chain counts once, with the primary's
//!   declared share.
//! * **History**: a record's state as at a date is its latest statement dated on
//!   or before it; `closed` makes it absent. See [`Record::as_at`] for how a
//!   `closed` statement's interest `endDate` is used.

use std::collections::{HashMap, HashSet};

pub use jiff::civil::Date;
use serde::{Serialize, Serializer};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Records and history
// ---------------------------------------------------------------------------

/// The kind of thing a record describes (`recordType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordType {
    Entity,
    Person,
    Relationship,
}

impl RecordType {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "entity" => Some(Self::Entity),
            "person" => Some(Self::Person),
            "relationship" => Some(Self::Relationship),
            _ => None,
        }
    }
}

/// Lifecycle status of a statement's record (`recordStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordStatus {
    New,
    Updated,
    Closed,
}

/// One statement of a record, in the record's history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub statement_id: Option<String>,
    /// A missing `recordStatus` is read as `updated`: it is neither a creation
    /// we could vouch for nor a closure.
    pub status: RecordStatus,
    /// `statementDate` (the date part of a date-time). `None` when missing or
    /// unreadable; such a statement never appears in an as-at view.
    #[serde(serialize_with = "ser_date_opt")]
    pub date: Option<Date>,
    /// Position in the input slice (publication order).
    pub position: usize,
    pub statement: Value,
}

impl Statement {
    /// `recordDetails` of the statement (`Value::Null` if missing).
    pub fn details(&self) -> &Value {
        self.statement.get("recordDetails").unwrap_or(&Value::Null)
    }

    /// The date from which a `closed` statement's record is gone: the later of
    /// the statement date and the latest interest `endDate` it carries.
    ///
    /// Why not just the statement date: publishers (the Open Ownership UK PSC
    /// pipeline among them) emit the closing statement with the record's
    /// original `statementDate` and record the real end in the interests'
    /// `endDate`. Taking the statement date alone would erase every ended
    /// relationship from all of history.
    fn closed_from(&self) -> Option<Date> {
        let ends = self
            .details()
            .get("interests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                i.get("endDate")
                    .and_then(Value::as_str)
                    .and_then(parse_date)
            });
        ends.chain(self.date).max()
    }
}

/// A record (`recordId`) and every statement about it, oldest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub record_id: String,
    pub record_type: RecordType,
    /// Sorted by statement date, then publication order; undated statements
    /// sort first because nothing says where else they belong.
    pub statements: Vec<Statement>,
}

impl Record {
    /// The latest statement, unless it closes the record.
    pub fn current(&self) -> Option<&Statement> {
        self.statements
            .last()
            .filter(|s| s.status != RecordStatus::Closed)
    }

    /// The record's state as at `date`: its latest statement dated on or before
    /// `date`. Absent if there is none (created later) or if that statement is
    /// `closed` and the closure had taken effect by `date` (see
    /// [`Statement`]'s closing rule: the later of the statement date and its
    /// interests' `endDate`). A closed statement whose interests were still
    /// running at `date` stands for the live record: it carries the details.
    pub fn as_at(&self, date: Date) -> Option<&Statement> {
        let s = self
            .statements
            .iter()
            .rev()
            .find(|s| s.date.is_some_and(|d| d <= date))?;
        if s.status == RecordStatus::Closed && s.closed_from().is_none_or(|c| c <= date) {
            return None;
        }
        Some(s)
    }
}

/// A statement left out of the graph, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub position: usize,
    pub statement_id: Option<String>,
    pub reason: String,
}

/// All statements grouped into records. Build once; take views per date.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    records: Vec<Record>,
    index: HashMap<String, usize>,
    skipped: Vec<Skipped>,
}

impl Graph {
    /// Group statements (in publication order) by `recordId`. Clones them; use
    /// [`Graph::from_statements`] to hand them over instead.
    pub fn build(statements: &[Value]) -> Graph {
        Self::from_statements(statements.to_vec())
    }

    /// As [`Graph::build`], taking ownership of the statements.
    pub fn from_statements(statements: Vec<Value>) -> Graph {
        let mut g = Graph::default();
        for (position, statement) in statements.into_iter().enumerate() {
            let statement_id = str_field(&statement, "statementId").map(str::to_owned);
            let skip = |reason: &str| Skipped {
                position,
                statement_id: statement_id.clone(),
                reason: reason.to_owned(),
            };
            let Some(record_id) = str_field(&statement, "recordId").map(str::to_owned) else {
                g.skipped.push(skip("no recordId"));
                continue;
            };
            let Some(record_type) = str_field(&statement, "recordType").and_then(RecordType::parse)
            else {
                g.skipped.push(skip("no or unknown recordType"));
                continue;
            };
            let status = match str_field(&statement, "recordStatus") {
                Some("new") => RecordStatus::New,
                Some("closed") => RecordStatus::Closed,
                _ => RecordStatus::Updated,
            };
            let date = str_field(&statement, "statementDate").and_then(parse_date);
            let st = Statement {
                statement_id: statement_id.clone(),
                status,
                date,
                position,
                statement,
            };
            match g.index.get(&record_id) {
                Some(&i) if g.records[i].record_type != record_type => {
                    g.skipped.push(skip(
                        "recordType differs from the record's earlier statements",
                    ));
                }
                Some(&i) => g.records[i].statements.push(st),
                None => {
                    g.index.insert(record_id.clone(), g.records.len());
                    g.records.push(Record {
                        record_id,
                        record_type,
                        statements: vec![st],
                    });
                }
            }
        }
        for r in &mut g.records {
            // Stable sort keeps publication order for same-day statements.
            r.statements.sort_by_key(|s| s.date);
        }
        g
    }

    /// A record and its history.
    pub fn record(&self, record_id: &str) -> Option<&Record> {
        self.index.get(record_id).map(|&i| &self.records[i])
    }

    /// All records, in order of first appearance.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Statements left out (no `recordId`, bad `recordType`, ...).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The network as it stands now: latest statement of each record, closed
    /// records gone, interests with an `endDate` ended. (Any `endDate` counts
    /// as past: this crate reads no clock, and a future end date is not a fact
    /// registers publish.)
    pub fn current(&self) -> GraphView<'_> {
        GraphView::new(self, None)
    }

    /// The network as at `date` (see [`Record::as_at`]); interests count only
    /// if started (`startDate`) on or before `date` and not ended (`endDate`)
    /// by then.
    pub fn as_at(&self, date: Date) -> GraphView<'_> {
        GraphView::new(self, Some(date))
    }

    /// Shortcut for `self.current().ultimate_owners(..)`.
    pub fn ultimate_owners(&self, entity_record_id: &str, limits: &Limits) -> Owners {
        self.current().ultimate_owners(entity_record_id, limits)
    }

    /// Shortcut for `self.current().owned_by(..)`.
    pub fn owned_by(&self, record_id: &str, limits: &Limits) -> Holdings {
        self.current().owned_by(record_id, limits)
    }

    /// Shortcut for `self.current().identifiers(..)`.
    pub fn identifiers(&self, record_id: &str) -> Vec<Identifier> {
        self.current().identifiers(record_id)
    }
}

// ---------------------------------------------------------------------------
// Shares
// ---------------------------------------------------------------------------

/// A percentage range `[min, max]` (0–100). The flags say whether a bound is
/// exclusive (`exclusiveMinimum` / `exclusiveMaximum` in BODS); arithmetic
/// carries them along.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Interval {
    pub min: f64,
    pub max: f64,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
}

impl Interval {
    /// `[min, max]`, both inclusive.
    pub fn new(min: f64, max: f64) -> Self {
        Interval {
            min,
            max,
            min_exclusive: false,
            max_exclusive: false,
        }
    }

    /// `[x, x]`.
    pub fn exact(x: f64) -> Self {
        Self::new(x, x)
    }

    /// Whether the range is a single value.
    pub fn is_exact(&self) -> bool {
        self.min == self.max && !self.min_exclusive && !self.max_exclusive
    }

    /// Read a BODS `share` object. `None` if it has no bound at all.
    pub fn from_share(share: &Value) -> Option<Self> {
        let num = |k: &str| {
            share
                .get(k)
                .and_then(Value::as_f64)
                .map(|x| x.clamp(0.0, 100.0))
        };
        if let Some(x) = num("exact") {
            return Some(Self::exact(x));
        }
        let (min, min_exclusive) = match (num("minimum"), num("exclusiveMinimum")) {
            (Some(x), _) => (Some(x), false),
            (None, Some(x)) => (Some(x), true),
            (None, None) => (None, false),
        };
        let (max, max_exclusive) = match (num("maximum"), num("exclusiveMaximum")) {
            (Some(x), _) => (Some(x), false),
            (None, Some(x)) => (Some(x), true),
            (None, None) => (None, false),
        };
        if min.is_none() && max.is_none() {
            return None;
        }
        let (min, max) = (min.unwrap_or(0.0), max.unwrap_or(100.0));
        // A reversed range is a publishing slip; swapping keeps both numbers.
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        Some(Interval {
            min,
            max,
            min_exclusive,
            max_exclusive,
        })
    }

    /// Share through a chain: `a %` of `b %`.
    pub fn times(&self, o: &Interval) -> Interval {
        let min = self.min * o.min / 100.0;
        let max = self.max * o.max / 100.0;
        // A bound is reached only if both factors can reach theirs; a product
        // of 0 is reached whenever one factor can be exactly 0.
        let zero_reachable =
            (self.min == 0.0 && !self.min_exclusive) || (o.min == 0.0 && !o.min_exclusive);
        Interval {
            min,
            max,
            min_exclusive: (self.min_exclusive || o.min_exclusive) && !zero_reachable,
            max_exclusive: (self.max_exclusive || o.max_exclusive) && max > 0.0,
        }
    }

    /// Shares held through separate chains added, clamped to 100 %. Returns
    /// whether clamping happened.
    pub fn plus_clamped(&self, o: &Interval) -> (Interval, bool) {
        let mut r = Interval {
            min: self.min + o.min,
            max: self.max + o.max,
            min_exclusive: self.min_exclusive || o.min_exclusive,
            max_exclusive: self.max_exclusive || o.max_exclusive,
        };
        let mut clamped = false;
        if r.max > 100.0 {
            r.max = 100.0;
            r.max_exclusive = false;
            clamped = true;
        }
        if r.min > 100.0 {
            r.min = 100.0;
            r.min_exclusive = false;
            clamped = true;
        }
        (r, clamped)
    }
}

// Interest types that give an economic share rather than control. Anything
// else (voting, board appointment, influence, trust roles, unknown, untyped
// without a share) counts as control: it is an interest the share product
// cannot express.
const OWNERSHIP_TYPES: &[&str] = &[
    "shareholding",
    "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome",
    "rightToProfitOrIncomeFromAssets",
    "enjoymentAndUseOfAssets",
    "beneficiaryOfLegalArrangement",
];

// ---------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum PartyTarget {
    Record(String),
    Unspecified {
        reason: Option<String>,
        description: Option<String>,
    },
}

/// A live relationship in a view, reduced to what traversal needs.
#[derive(Debug, Clone)]
struct Edge {
    relationship: String,
    subject: String,
    party: PartyTarget,
    /// From active `shareholding` (or untyped) interests.
    share: Option<Interval>,
    /// Has an active interest other than an ownership type.
    control: bool,
    /// Every active interest says `directOrIndirect: indirect`.
    declared_indirect: bool,
    components: Vec<String>,
}

/// The network at one moment (now, or as at a date).
///
/// **Component records.** BODS lets a publisher declare an indirect interest
/// once as a primary relationship (`isComponent: false`, e.g. "P holds 30 % of
/// A indirectly") and describe the chain behind it with component records
/// (`isComponent: true`, listed in the primary's `componentRecords`: A←B, B←P).
/// Following both would reach P twice from A and add the shares. The schema
/// calls the primary "the primary declaration of the relationship", and its
/// components often carry no or partial shares (the standard's own
/// `indirect-ownership.json` example has a 60 % component and a share-less
/// one under a 30 % primary), so the primary wins: a component relationship is
/// not followed *from the subject of a primary that lists it* — the edge is
/// suppressed when its subject equals that primary's subject. The
/// intermediate records stay reachable by other routes: if B is reached
/// through some unrelated relationship, B←P is still followed from B, because
/// it is then a fact about B, not a re-telling of A's chain. The primary's
/// components are listed on its path ([`Path::components`]). A component
/// relationship that no live primary lists is an ordinary edge.
///
/// An indirect relationship declared *without* components cannot be matched
/// to a chain, so both are followed; sums above 100 % are clamped and flagged.
pub struct GraphView<'g> {
    graph: &'g Graph,
    at: Option<Date>,
    live: Vec<Option<&'g Statement>>,
    // Edges by subject (owners of) and by interested party (holdings of).
    up: HashMap<String, Vec<usize>>,
    down: HashMap<String, Vec<usize>>,
    edges: Vec<Edge>,
}

/// Limits for big networks.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Longest chain followed, in relationships.
    pub max_depth: usize,
    /// Most chains (ended at an owner, a cycle or the depth limit) explored.
    pub max_paths: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // UK PSC chains rarely pass 10 layers; 25 leaves room for offshore
        // structures while bounding work on pathological data.
        Limits {
            max_depth: 25,
            max_paths: 10_000,
        }
    }
}

/// What kind of party a [`PartyRef`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PartyKind {
    Person,
    Entity,
    /// An `interestedParty` given as an unspecified record (with a reason).
    Unknown,
    /// A `recordId` referenced by a relationship with no statement in the
    /// data (up to the view's date).
    Missing,
}

/// A party in results: a record, or an unspecified party with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyRef {
    /// `None` for unspecified parties.
    pub record_id: Option<String>,
    pub kind: PartyKind,
    pub name: Option<String>,
    /// Unspecified reason: of the unspecified party, or of an anonymous /
    /// unknown person or entity (`unspecified*Details.reason`).
    pub reason: Option<String>,
    pub description: Option<String>,
    /// `entityType.type` for entities, `personType` for persons.
    pub subtype: Option<String>,
    /// `publicListing.hasPublicListing`, for entities.
    pub publicly_listed: bool,
    /// The record is closed in this view yet a live relationship points at
    /// it; the details come from its last statement (see
    /// [`GraphView::known`]).
    pub closed: bool,
}

/// Why a chain ends at an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Terminal {
    /// A natural person (known, anonymous or unknown — see `party.subtype`).
    NaturalPerson,
    /// An unspecified interested party (see `party.reason`).
    Unspecified,
    /// An entity with no owners in the data that is publicly listed.
    PubliclyListed,
    /// An entity of type `state`.
    State,
    /// An entity of type `stateBody`.
    StateBody,
    AnonymousEntity,
    UnknownEntity,
    /// Any other entity with no owners in the data: the chain stops here.
    NoFurtherOwners,
    /// The referenced record has no statement (up to the view's date).
    MissingRecord,
    /// Not an ultimate owner: the depth limit cut the chain here.
    DepthLimit,
}

/// One chain from the start record to the party.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Path {
    /// Record IDs from the start to the far end, both included. For an
    /// unspecified party (which has no record) it ends at the last record, so
    /// `nodes.len() == relationships.len()` then; otherwise one more.
    pub nodes: Vec<String>,
    /// Relationship record IDs, one per step, in the same direction.
    pub relationships: Vec<String>,
    /// Product of the steps' shares; `None` if any step has no share.
    pub share: Option<Interval>,
    /// See [`Owner::controls`].
    pub controls: bool,
    /// `componentRecords` of the primary relationships on the path.
    pub components: Vec<String>,
}

/// An ultimate owner (or a cut-off point) of an entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub party: PartyRef,
    pub terminal: Terminal,
    /// Sum of the share-bearing paths' products, clamped at 100 %. `None` if
    /// no path carries a share all the way ("controls without owning").
    pub share: Option<Interval>,
    /// The sum went over 100 % and was clamped.
    pub share_clamped: bool,
    /// Some path gives control: either it cannot be measured as a share (a
    /// step has no share: board appointment, voting only, influence,
    /// consolidation) or every step carries a control interest as well.
    pub controls: bool,
    /// Some path is one relationship long and not declared `indirect`.
    pub direct: bool,
    pub paths: Vec<Path>,
}

/// Counts behind `truncated`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Truncation {
    /// Chains explored (ending at an owner, a cycle or the depth limit).
    pub paths_explored: usize,
    /// Chains cut by `max_depth`.
    pub depth_cut: usize,
    /// Relationships left unfollowed once `max_paths` was reached.
    pub edges_unexplored: usize,
}

/// Result of [`GraphView::ultimate_owners`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owners {
    pub subject: String,
    #[serde(serialize_with = "ser_date_opt")]
    pub as_at: Option<Date>,
    /// Largest share first; unmeasured (control-only) after.
    pub owners: Vec<Owner>,
    /// Each ownership cycle once, as the record IDs in it (starting from the
    /// smallest ID, in ownership order: each is owned by the next).
    pub cycles: Vec<Vec<String>>,
    pub truncated: bool,
    pub truncation: Truncation,
}

/// An entity held, directly or through others.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holding {
    pub entity: PartyRef,
    /// As [`Owner::share`]: the holder's share in `entity`.
    pub share: Option<Interval>,
    pub share_clamped: bool,
    pub controls: bool,
    pub direct: bool,
    /// Paths from the holder down to `entity`.
    pub paths: Vec<Path>,
}

/// Result of [`GraphView::owned_by`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holdings {
    pub holder: String,
    #[serde(serialize_with = "ser_date_opt")]
    pub as_at: Option<Date>,
    pub holdings: Vec<Holding>,
    /// As [`Owners::cycles`]: ownership order, whichever way the walk went.
    pub cycles: Vec<Vec<String>>,
    pub truncated: bool,
    pub truncation: Truncation,
}

/// An identifier of a person or entity (`identifiers[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    pub scheme: Option<String>,
    pub scheme_name: Option<String>,
    pub id: String,
    pub uri: Option<String>,
}

/// Identifiers of a statement (or of its `recordDetails`), skipping entries
/// without an `id`.
pub fn identifiers(statement_or_details: &Value) -> Vec<Identifier> {
    let details = statement_or_details
        .get("recordDetails")
        .unwrap_or(statement_or_details);
    details
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some(Identifier {
                id: id_text(i.get("id")?)?,
                scheme: str_field(i, "scheme").map(str::to_owned),
                scheme_name: str_field(i, "schemeName").map(str::to_owned),
                uri: str_field(i, "uri").map(str::to_owned),
            })
        })
        .collect()
}

/// The parts of a statement the graph reads, and nothing else.
///
/// A register of millions of statements is resolved in memory; addresses,
/// sources, annotations and publication details are most of a statement's
/// size and none of them changes who owns what. Building the [`Graph`] from
/// these keeps memory to a fraction of the full statements'.
pub fn essentials(statement: &Value) -> Value {
    const TOP: &[&str] = &[
        "statementId",
        "recordId",
        "recordType",
        "recordStatus",
        "statementDate",
    ];
    const DETAILS: &[&str] = &[
        // entities
        "name",
        "entityType",
        "publicListing",
        "jurisdiction",
        "identifiers",
        "unspecifiedEntityDetails",
        // persons
        "personType",
        "names",
        "unspecifiedPersonDetails",
        // relationships
        "subject",
        "interestedParty",
        "interests",
        "componentRecords",
        "isComponent",
    ];
    let mut out = serde_json::Map::new();
    for k in TOP {
        if let Some(v) = statement.get(*k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    if let Some(d) = statement.get("recordDetails").and_then(Value::as_object) {
        let mut details = serde_json::Map::new();
        for k in DETAILS {
            if let Some(v) = d.get(*k) {
                details.insert((*k).to_owned(), v.clone());
            }
        }
        out.insert("recordDetails".to_owned(), Value::Object(details));
    }
    Value::Object(out)
}

// Some publishers emit numeric ids; matching wants them as text either way.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Owners,
    Holdings,
}

/// One completed walk, before aggregation.
struct Found {
    key: String,
    target: Option<PartyTarget>,
    terminal: Terminal,
    path: Path,
    direct: bool,
}

struct Walk<'a> {
    limits: &'a Limits,
    dir: Direction,
    nodes: Vec<String>,
    on_path: HashSet<String>,
    rels: Vec<usize>,
    found: Vec<Found>,
    cycles: Vec<Vec<String>>,
    seen_cycles: HashSet<Vec<String>>,
    t: Truncation,
    stopped: bool,
}

impl<'g> GraphView<'g> {
    fn new(graph: &'g Graph, at: Option<Date>) -> Self {
        let live: Vec<Option<&Statement>> = graph
            .records
            .iter()
            .map(|r| match at {
                Some(d) => r.as_at(d),
                None => r.current(),
            })
            .collect();

        let mut edges = Vec::new();
        let mut is_component = Vec::new();
        for (r, s) in graph.records.iter().zip(&live) {
            let Some(s) = s else { continue };
            if r.record_type != RecordType::Relationship {
                continue;
            }
            if let Some(e) = edge(&r.record_id, s.details(), at) {
                is_component
                    .push(s.details().get("isComponent").and_then(Value::as_bool) == Some(true));
                edges.push(e);
            }
        }
        // (subject, component id) pairs claimed by a live primary.
        let claimed: HashSet<(&str, &str)> = edges
            .iter()
            .zip(&is_component)
            .filter(|(_, c)| !**c)
            .flat_map(|(e, _)| {
                e.components
                    .iter()
                    .map(|c| (e.subject.as_str(), c.as_str()))
            })
            .collect();
        let keep: Vec<bool> = edges
            .iter()
            .zip(&is_component)
            .map(|(e, c)| !*c || !claimed.contains(&(e.subject.as_str(), e.relationship.as_str())))
            .collect();
        let edges: Vec<Edge> = edges
            .into_iter()
            .zip(keep)
            .filter_map(|(e, k)| k.then_some(e))
            .collect();

        let mut up: HashMap<String, Vec<usize>> = HashMap::new();
        let mut down: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in edges.iter().enumerate() {
            up.entry(e.subject.clone()).or_default().push(i);
            if let PartyTarget::Record(p) = &e.party {
                down.entry(p.clone()).or_default().push(i);
            }
        }
        GraphView {
            graph,
            at,
            live,
            up,
            down,
            edges,
        }
    }

    /// The date of the view (`None` for the current state).
    pub fn date(&self) -> Option<Date> {
        self.at
    }

    /// The statement standing for a record in this view.
    pub fn state(&self, record_id: &str) -> Option<&'g Statement> {
        self.graph.index.get(record_id).and_then(|&i| self.live[i])
    }

    /// The statement to describe a record by: its state in this view, or
    /// else its last statement up to the view's date, flagged `true` (closed).
    ///
    /// Why the fallback: a live relationship can point at a person or entity
    /// whose record is closed by then. The UK PSC pipeline closes person
    /// records with their original statement date while the relationship to
    /// them runs on for years; calling such an owner "missing" would hide a
    /// named person behind a data quirk.
    pub fn known(&self, record_id: &str) -> Option<(&'g Statement, bool)> {
        if let Some(s) = self.state(record_id) {
            return Some((s, false));
        }
        let r = self.graph.record(record_id)?;
        let last = match self.at {
            Some(d) => r
                .statements
                .iter()
                .rev()
                .find(|s| s.date.is_some_and(|x| x <= d)),
            None => r.statements.last(),
        }?;
        Some((last, true))
    }

    /// IDs of the records present in this view.
    pub fn record_ids(&self) -> impl Iterator<Item = &'g str> + '_ {
        self.graph
            .records
            .iter()
            .zip(&self.live)
            .filter(|(_, s)| s.is_some())
            .map(|(r, _)| r.record_id.as_str())
    }

    /// Identifiers of a person or entity as it stands in this view.
    pub fn identifiers(&self, record_id: &str) -> Vec<Identifier> {
        self.state(record_id)
            .map(|s| identifiers(&s.statement))
            .unwrap_or_default()
    }

    /// Records in this view with an identifier `scheme` / `id` (e.g.
    /// `GB-COH` / `00102498`); the same company can have several records (one
    /// per source), hence a list.
    pub fn find_by_identifier(&self, scheme: &str, id: &str) -> Vec<&'g str> {
        let id = id.trim();
        self.graph
            .records
            .iter()
            .zip(&self.live)
            .filter_map(|(r, s)| {
                let s = (*s)?;
                identifiers(&s.statement)
                    .iter()
                    .any(|i| i.scheme.as_deref() == Some(scheme) && i.id.eq_ignore_ascii_case(id))
                    .then_some(r.record_id.as_str())
            })
            .collect()
    }

    /// Ultimate owners of an entity: natural persons, unspecified parties and
    /// entities with no further owners at the ends of ownership chains.
    pub fn ultimate_owners(&self, entity_record_id: &str, limits: &Limits) -> Owners {
        let w = self.walk(entity_record_id, Direction::Owners, limits);
        let owners = self
            .aggregate(w.found)
            .into_iter()
            .map(|a| Owner {
                party: a.party,
                terminal: a.terminal,
                share: a.share,
                share_clamped: a.share_clamped,
                controls: a.controls,
                direct: a.direct,
                paths: a.paths,
            })
            .collect();
        Owners {
            subject: entity_record_id.to_owned(),
            as_at: self.at,
            owners,
            cycles: w.cycles,
            truncated: w.stopped || w.t.depth_cut > 0,
            truncation: w.t,
        }
    }

    /// Entities a person (or entity) holds an interest in, directly or
    /// through chains, with the share reaching it.
    pub fn owned_by(&self, record_id: &str, limits: &Limits) -> Holdings {
        let w = self.walk(record_id, Direction::Holdings, limits);
        let holdings = self
            .aggregate(w.found)
            .into_iter()
            .map(|a| Holding {
                entity: a.party,
                share: a.share,
                share_clamped: a.share_clamped,
                controls: a.controls,
                direct: a.direct,
                paths: a.paths,
            })
            .collect();
        Holdings {
            holder: record_id.to_owned(),
            as_at: self.at,
            holdings,
            cycles: w.cycles,
            truncated: w.stopped || w.t.depth_cut > 0,
            truncation: w.t,
        }
    }

    fn walk<'a>(&self, start: &str, dir: Direction, limits: &'a Limits) -> Walk<'a> {
        let mut w = Walk {
            limits,
            dir,
            nodes: vec![start.to_owned()],
            on_path: HashSet::from([start.to_owned()]),
            rels: Vec::new(),
            found: Vec::new(),
            cycles: Vec::new(),
            seen_cycles: HashSet::new(),
            t: Truncation::default(),
            stopped: false,
        };
        self.step(&mut w);
        w
    }

    fn next_edges(&self, node: &str, dir: Direction) -> &[usize] {
        let map = match dir {
            Direction::Owners => &self.up,
            Direction::Holdings => &self.down,
        };
        map.get(node).map(Vec::as_slice).unwrap_or(&[])
    }

    // Depth-first: recursion depth is bounded by `max_depth`.
    fn step(&self, w: &mut Walk) {
        let Some(node) = w.nodes.last().cloned() else {
            return;
        };
        for &ei in self.next_edges(&node, w.dir) {
            if w.stopped || w.t.paths_explored >= w.limits.max_paths {
                w.stopped = true;
                w.t.edges_unexplored += 1;
                continue;
            }
            let e = &self.edges[ei];
            let next = match (w.dir, &e.party) {
                (Direction::Owners, PartyTarget::Record(p)) => Some(p.clone()),
                (Direction::Owners, PartyTarget::Unspecified { .. }) => None,
                (Direction::Holdings, _) => Some(e.subject.clone()),
            };
            w.rels.push(ei);
            match next {
                None => {
                    // Unspecified interested party: the chain ends at it.
                    w.t.paths_explored += 1;
                    let found = Found {
                        key: format!("unspecified:{}", e.relationship),
                        target: Some(e.party.clone()),
                        terminal: Terminal::Unspecified,
                        path: self.path(w, None),
                        direct: self.direct(w),
                    };
                    w.found.push(found);
                }
                Some(next) if w.on_path.contains(&next) => {
                    w.t.paths_explored += 1;
                    let pos = w.nodes.iter().position(|n| *n == next).unwrap_or(0);
                    let mut cycle = w.nodes[pos..].to_vec();
                    if w.dir == Direction::Holdings {
                        // Report in ownership order whichever way we walked.
                        cycle.reverse();
                    }
                    let min = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                    cycle.rotate_left(min);
                    if w.seen_cycles.insert(cycle.clone()) {
                        w.cycles.push(cycle);
                    }
                }
                Some(next) => self.arrive(w, next),
            }
            w.rels.pop();
        }
    }

    fn hit(&self, w: &Walk, next: &str, terminal: Terminal) -> Found {
        Found {
            key: next.to_owned(),
            target: Some(PartyTarget::Record(next.to_owned())),
            terminal,
            path: self.path(w, Some(next)),
            direct: self.direct(w),
        }
    }

    fn arrive(&self, w: &mut Walk, next: String) {
        let has_more = !self.next_edges(&next, w.dir).is_empty();
        let present = self.known(&next).is_some();
        match w.dir {
            Direction::Owners => {
                let end = if !present {
                    Some(Terminal::MissingRecord)
                } else if !has_more || self.is_person(&next) {
                    Some(self.terminal_of(&next))
                } else if w.rels.len() >= w.limits.max_depth {
                    w.t.depth_cut += 1;
                    Some(Terminal::DepthLimit)
                } else {
                    None
                };
                if let Some(terminal) = end {
                    w.t.paths_explored += 1;
                    let f = self.hit(w, &next, terminal);
                    w.found.push(f);
                    return;
                }
            }
            Direction::Holdings => {
                // Every entity reached is a holding, not just chain ends.
                let terminal = if present {
                    self.terminal_of(&next)
                } else {
                    Terminal::MissingRecord
                };
                let f = self.hit(w, &next, terminal);
                w.found.push(f);
                if !has_more || w.rels.len() >= w.limits.max_depth {
                    w.t.paths_explored += 1;
                    if has_more {
                        w.t.depth_cut += 1;
                    }
                    return;
                }
            }
        }
        w.nodes.push(next.clone());
        w.on_path.insert(next.clone());
        self.step(w);
        w.on_path.remove(&next);
        w.nodes.pop();
    }

    fn is_person(&self, id: &str) -> bool {
        self.graph
            .index
            .get(id)
            .is_some_and(|&i| self.graph.records[i].record_type == RecordType::Person)
    }

    fn terminal_of(&self, id: &str) -> Terminal {
        let Some((s, _)) = self.known(id) else {
            return Terminal::MissingRecord;
        };
        if self.is_person(id) {
            return Terminal::NaturalPerson;
        }
        let d = s.details();
        if d.pointer("/publicListing/hasPublicListing")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Terminal::PubliclyListed;
        }
        match d.pointer("/entityType/type").and_then(Value::as_str) {
            Some("state") => Terminal::State,
            Some("stateBody") => Terminal::StateBody,
            Some("anonymousEntity") => Terminal::AnonymousEntity,
            Some("unknownEntity") => Terminal::UnknownEntity,
            _ => Terminal::NoFurtherOwners,
        }
    }

    fn path(&self, w: &Walk, last: Option<&str>) -> Path {
        let mut nodes = w.nodes.clone();
        nodes.extend(last.map(str::to_owned));
        let steps: Vec<&Edge> = w.rels.iter().map(|&i| &self.edges[i]).collect();
        let share = steps
            .iter()
            .try_fold(Interval::exact(100.0), |acc, e| Some(acc.times(&e.share?)));
        let controls = share.is_none() || steps.iter().all(|e| e.control);
        Path {
            nodes,
            relationships: steps.iter().map(|e| e.relationship.clone()).collect(),
            share,
            controls,
            components: steps
                .iter()
                .flat_map(|e| e.components.iter().cloned())
                .collect(),
        }
    }

    fn direct(&self, w: &Walk) -> bool {
        match w.rels.as_slice() {
            [one] => !self.edges[*one].declared_indirect,
            _ => false,
        }
    }

    fn party_ref(&self, target: &PartyTarget) -> PartyRef {
        match target {
            PartyTarget::Unspecified {
                reason,
                description,
            } => PartyRef {
                record_id: None,
                kind: PartyKind::Unknown,
                name: None,
                reason: reason.clone(),
                description: description.clone(),
                subtype: None,
                publicly_listed: false,
                closed: false,
            },
            PartyTarget::Record(id) => {
                let Some((s, closed)) = self.known(id) else {
                    return PartyRef {
                        record_id: Some(id.clone()),
                        kind: PartyKind::Missing,
                        name: None,
                        reason: None,
                        description: None,
                        subtype: None,
                        publicly_listed: false,
                        closed: false,
                    };
                };
                let d = s.details();
                let person = self.is_person(id);
                let unspecified = d
                    .get(if person {
                        "unspecifiedPersonDetails"
                    } else {
                        "unspecifiedEntityDetails"
                    })
                    .unwrap_or(&Value::Null);
                PartyRef {
                    record_id: Some(id.clone()),
                    kind: if person {
                        PartyKind::Person
                    } else {
                        PartyKind::Entity
                    },
                    name: if person {
                        person_name(d)
                    } else {
                        str_field(d, "name").map(str::to_owned)
                    },
                    reason: str_field(unspecified, "reason").map(str::to_owned),
                    description: str_field(unspecified, "description").map(str::to_owned),
                    subtype: if person {
                        str_field(d, "personType").map(str::to_owned)
                    } else {
                        d.pointer("/entityType/type")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    },
                    publicly_listed: d
                        .pointer("/publicListing/hasPublicListing")
                        .and_then(Value::as_bool)
                        == Some(true),
                    closed,
                }
            }
        }
    }

    fn aggregate(&self, found: Vec<Found>) -> Vec<Agg> {
        let mut order: Vec<String> = Vec::new();
        let mut by_key: HashMap<String, Agg> = HashMap::new();
        for f in found {
            let agg = by_key.entry(f.key.clone()).or_insert_with(|| {
                order.push(f.key.clone());
                Agg {
                    party: f
                        .target
                        .as_ref()
                        .map(|t| self.party_ref(t))
                        .unwrap_or_else(|| self.party_ref(&PartyTarget::Record(f.key.clone()))),
                    terminal: f.terminal,
                    share: None,
                    share_clamped: false,
                    controls: false,
                    direct: false,
                    paths: Vec::new(),
                }
            });
            // A party cut by the depth limit on one path but reached in full
            // on another is an ultimate owner; keep the real end.
            if agg.terminal == Terminal::DepthLimit {
                agg.terminal = f.terminal;
            }
            if let Some(s) = f.path.share {
                agg.share = Some(match agg.share {
                    None => s,
                    Some(prev) => {
                        let (sum, clamped) = prev.plus_clamped(&s);
                        agg.share_clamped |= clamped;
                        sum
                    }
                });
            }
            agg.controls |= f.path.controls;
            agg.direct |= f.direct;
            agg.paths.push(f.path);
        }
        let mut out: Vec<Agg> = order
            .into_iter()
            .filter_map(|k| by_key.remove(&k))
            .collect();
        // Largest share first, unmeasured last; ties by record ID for a stable
        // order across runs.
        out.sort_by(|a, b| {
            let key = |x: &Agg| x.share.map(|s| (s.max, s.min));
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.party.record_id.cmp(&b.party.record_id))
        });
        out
    }
}

struct Agg {
    party: PartyRef,
    terminal: Terminal,
    share: Option<Interval>,
    share_clamped: bool,
    controls: bool,
    direct: bool,
    paths: Vec<Path>,
}

/// Reduce a live relationship to an edge; `None` if it cannot be placed
/// (unspecified or missing subject) or all its interests have ended.
fn edge(record_id: &str, d: &Value, at: Option<Date>) -> Option<Edge> {
    // An unspecified subject cannot be reached from any entity.
    let subject = str_field(d, "subject")?.to_owned();
    let party = match d.get("interestedParty")? {
        Value::String(s) => PartyTarget::Record(s.clone()),
        v @ Value::Object(_) => PartyTarget::Unspecified {
            reason: str_field(v, "reason").map(str::to_owned),
            description: str_field(v, "description").map(str::to_owned),
        },
        _ => return None,
    };
    let all: Vec<&Value> = d
        .get("interests")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let active: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|i| interest_active(i, at))
        .collect();
    // A relationship that declared interests, all of them over, is history;
    // one that declared none still says the party has *some* interest.
    if !all.is_empty() && active.is_empty() {
        return None;
    }
    let mut share: Option<Interval> = None;
    let mut control = active.is_empty();
    for i in &active {
        let ty = str_field(i, "type");
        let s = i.get("share").and_then(Interval::from_share);
        match (ty, s) {
            (Some("shareholding") | None, Some(s)) => {
                // Several shareholding interests (e.g. share classes) cannot
                // be added meaningfully; the largest bounds are what is known.
                share = Some(match share {
                    None => s,
                    Some(p) => Interval {
                        min: p.min.max(s.min),
                        max: p.max.max(s.max),
                        min_exclusive: if s.min > p.min {
                            s.min_exclusive
                        } else {
                            p.min_exclusive
                        },
                        max_exclusive: if s.max > p.max {
                            s.max_exclusive
                        } else {
                            p.max_exclusive
                        },
                    },
                });
            }
            (Some(t), _) if OWNERSHIP_TYPES.contains(&t) => {}
            _ => control = true,
        }
    }
    let declared_indirect = !active.is_empty()
        && active
            .iter()
            .all(|i| str_field(i, "directOrIndirect") == Some("indirect"));
    let components = d
        .get("componentRecords")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    Some(Edge {
        relationship: record_id.to_owned(),
        subject,
        party,
        share,
        control,
        declared_indirect,
        components,
    })
}

fn interest_active(i: &Value, at: Option<Date>) -> bool {
    let date = |k: &str| i.get(k).and_then(Value::as_str).and_then(parse_date);
    match at {
        None => i.get("endDate").is_none_or(Value::is_null),
        Some(d) => {
            date("startDate").is_none_or(|s| s <= d) && date("endDate").is_none_or(|e| e > d)
        }
    }
}

fn person_name(d: &Value) -> Option<String> {
    let names = d.get("names")?.as_array()?;
    let name = names
        .iter()
        .find(|n| str_field(n, "type") == Some("legal"))
        .or_else(|| names.first())?;
    if let Some(full) = str_field(name, "fullName") {
        return Some(full.to_owned());
    }
    let parts: Vec<&str> = ["givenName", "patronymicName", "familyName"]
        .iter()
        .filter_map(|k| str_field(name, k))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn str_field<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

/// Parse a BODS date: `YYYY-MM-DD`, or the date part of a date-time.
pub fn parse_date(s: &str) -> Option<Date> {
    s.get(..10)?.parse().ok()
}

fn ser_date_opt<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}
