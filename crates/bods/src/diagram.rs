//! An ownership network drawn as an accessible, standalone SVG figure.
//!
//! The input is plain data ([`Diagram`]) rather than a [`crate::graph`] view,
//! so that the web layer can fill it from the database, from a graph view or
//! from a search result alike. Three steps:
//!
//! 1. [`collapse`] keeps a drawing small: it lays nodes in layers around the
//!    page's subject and folds each layer's overflow into one "+n more" node
//!    that links to the full list.
//! 2. [`render`] draws the SVG: owners above, the subject highlighted, holdings
//!    below, with a legend of the line styles.
//! 3. [`text_alternative`] gives one sentence per edge, for the list or table
//!    that must stand beside the figure. A drawing without links is
//!    `role="img"` (announced by its title and description); one with links is
//!    `role="group"` labelled the same way, because an image must not hold
//!    focusable controls (WCAG 4.1.2; axe-core's `nested-interactive`).
//!
//! Decisions worth knowing:
//!
//! * **Layers** ([`layers`]): owners of the subject, and their owners, go
//!   above (-1, -2, …) by breadth-first distance; what the subject holds goes
//!   below (+1, …). A node that is both (a cycle) stays above, since "who owns
//!   this" is what the figure is for. Other connected nodes (co-owners of a
//!   holding, other holdings of an owner) take the layer next to the node that
//!   reached them; nodes not connected to the subject at all get one row at
//!   the bottom.
//! * **Protected persons** are never named: the label and the note of a
//!   [`NodeKind::Protected`] node are not written anywhere, in the SVG or in
//!   the text alternative, since either could identify the person.
//! * **Links** are written only for relative URLs and `http`/`https`: a
//!   `javascript:` or `data:` URL from the data would otherwise run script.
//! * **Determinism**: hash maps are used for look-ups only, never iterated
//!   into the output, and every sort has a final tie-break on input position,
//!   so the same input gives a byte-identical SVG (it is cached and diffed).
//! * **No graph-layout crate**: a layered layout with two barycentre sweeps
//!   is a few dozen lines, and the drawings are small once collapsed.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// What a node stands for; it decides the shape and the wording.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NodeKind {
    /// A legal entity, arrangement or state body: a rounded rectangle.
    #[default]
    Entity,
    /// A natural person: a pill.
    Person,
    /// An unspecified, unknown or anonymous party; put the reason in `note`.
    /// Drawn with a dashed outline and a "?".
    Unknown,
    /// A person withheld for protection. Drawn as "Protected"; the node's
    /// `label` and `note` are never written out.
    Protected,
    /// Stands for `hidden` parties not drawn (see [`collapse`]).
    Collapsed { hidden: usize },
}

/// A party in the drawing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// Unique within the diagram; edges refer to it.
    pub id: String,
    /// The name shown (wrapped and shortened to fit; in full on hover).
    pub label: String,
    pub kind: NodeKind,
    /// Where the node links to (relative, `http` or `https`; others are not
    /// linked).
    pub href: Option<String>,
    /// The page's subject: layers are counted from it and it is highlighted.
    /// The first node with `focus` set is the subject; with none, the first
    /// node is.
    pub focus: bool,
    /// A short second line, e.g. a jurisdiction or the reason an owner is
    /// unknown.
    pub note: Option<String>,
}

impl Node {
    /// A node with no link, note or focus.
    pub fn new(id: impl Into<String>, label: impl Into<String>, kind: NodeKind) -> Node {
        Node {
            id: id.into(),
            label: label.into(),
            kind,
            ..Node::default()
        }
    }
}

/// What an edge's owner has in the owned party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interest {
    /// Shares (ownership): a solid line.
    #[default]
    Owns,
    /// Voting rights, appointment rights, other influence: a dashed line.
    Controls,
    /// Both: a double line.
    OwnsAndControls,
}

impl Interest {
    fn owns(self) -> bool {
        matches!(self, Interest::Owns | Interest::OwnsAndControls)
    }

    fn controls(self) -> bool {
        matches!(self, Interest::Controls | Interest::OwnsAndControls)
    }

    fn union(self, other: Interest) -> Interest {
        match (
            self.owns() || other.owns(),
            self.controls() || other.controls(),
        ) {
            (true, true) => Interest::OwnsAndControls,
            (false, true) => Interest::Controls,
            _ => Interest::Owns,
        }
    }
}

/// An interest of `from` (the owner) in `to` (the owned or controlled party).
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub interest: Interest,
    /// `false` when the interest is declared as held indirectly (through
    /// parties that may not be in the data): drawn lighter and dotted.
    pub direct: bool,
    /// Shown at the middle of the edge, e.g. "25–50 %".
    pub label: Option<String>,
    /// A number that orders interests by size (e.g. the share band's upper
    /// bound, in percent). Only [`collapse`] reads it, to keep the largest
    /// holders visible; the label carries what readers see.
    pub share: Option<f64>,
}

impl Default for Edge {
    /// A direct ownership edge: indirect has to be said, since it is drawn as
    /// the weaker claim.
    fn default() -> Edge {
        Edge {
            from: String::new(),
            to: String::new(),
            interest: Interest::Owns,
            direct: true,
            label: None,
            share: None,
        }
    }
}

impl Edge {
    /// A direct edge with no label or share.
    pub fn new(from: impl Into<String>, to: impl Into<String>, interest: Interest) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            interest,
            ..Edge::default()
        }
    }
}

/// A network to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagram {
    /// The figure's accessible name (`<title>`).
    pub title: String,
    /// Its accessible description (`<desc>`). When empty, the text
    /// alternative's sentences are used.
    pub description: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/// Node and edge look-ups. Edges whose ends are not both nodes are left out
/// (`ends[e] == None`): there is nothing to draw them between.
struct Index {
    ends: Vec<Option<(usize, usize)>>,
    /// Per node: edges where it is the owned party.
    owners: Vec<Vec<usize>>,
    /// Per node: edges where it is the owner.
    holds: Vec<Vec<usize>>,
    focus: usize,
}

impl Index {
    fn new(d: &Diagram) -> Index {
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(d.nodes.len());
        for (i, n) in d.nodes.iter().enumerate() {
            // A repeated id keeps its first node, so edges attach to one place.
            by_id.entry(n.id.as_str()).or_insert(i);
        }
        let mut owners = vec![Vec::new(); d.nodes.len()];
        let mut holds = vec![Vec::new(); d.nodes.len()];
        let ends = d
            .edges
            .iter()
            .enumerate()
            .map(|(e, edge)| {
                let a = *by_id.get(edge.from.as_str())?;
                let b = *by_id.get(edge.to.as_str())?;
                holds[a].push(e);
                owners[b].push(e);
                Some((a, b))
            })
            .collect();
        Index {
            ends,
            owners,
            holds,
            focus: d.nodes.iter().position(|n| n.focus).unwrap_or(0),
        }
    }

    fn from(&self, e: usize) -> usize {
        self.ends[e].map_or(usize::MAX, |(a, _)| a)
    }

    fn to(&self, e: usize) -> usize {
        self.ends[e].map_or(usize::MAX, |(_, b)| b)
    }
}

/// The layer of each node (parallel to `d.nodes`): 0 for the subject,
/// negative for owners above it, positive for holdings below it. See the
/// module documentation for the rules.
pub fn layers(d: &Diagram) -> Vec<i32> {
    layers_with(d, &Index::new(d))
}

fn layers_with(d: &Diagram, ix: &Index) -> Vec<i32> {
    let n = d.nodes.len();
    if n == 0 {
        return Vec::new();
    }
    let mut layer: Vec<Option<i32>> = vec![None; n];
    // Order of assignment, so the last pass starts nearest the subject.
    let mut seen: Vec<usize> = vec![ix.focus];
    layer[ix.focus] = Some(0);

    // Owners first: a node both above and below (a cycle) stays above.
    for upward in [true, false] {
        let mut queue = VecDeque::from([ix.focus]);
        while let Some(v) = queue.pop_front() {
            let here = layer[v].unwrap_or(0);
            let (edges, step) = if upward {
                (&ix.owners[v], -1)
            } else {
                (&ix.holds[v], 1)
            };
            for &e in edges {
                let w = if upward { ix.from(e) } else { ix.to(e) };
                if layer[w].is_none() {
                    layer[w] = Some(here + step);
                    seen.push(w);
                    queue.push_back(w);
                }
            }
        }
    }

    // The rest of the connected network, beside whatever reached it.
    let mut order: Vec<(usize, usize)> = seen.iter().copied().enumerate().collect();
    order.sort_by_key(|&(pos, v)| (layer[v].unwrap_or(0).unsigned_abs(), pos));
    let mut queue: VecDeque<usize> = order.into_iter().map(|(_, v)| v).collect();
    while let Some(v) = queue.pop_front() {
        let here = layer[v].unwrap_or(0);
        for &e in &ix.owners[v] {
            let w = ix.from(e);
            if layer[w].is_none() {
                layer[w] = Some(here - 1);
                queue.push_back(w);
            }
        }
        for &e in &ix.holds[v] {
            let w = ix.to(e);
            if layer[w].is_none() {
                layer[w] = Some(here + 1);
                queue.push_back(w);
            }
        }
    }

    let bottom = layer.iter().flatten().copied().max().unwrap_or(0) + 1;
    layer.into_iter().map(|l| l.unwrap_or(bottom)).collect()
}

// ---------------------------------------------------------------------------
// Collapse
// ---------------------------------------------------------------------------

/// Keeps at most `max_per_layer` nodes in each layer (at least 1: the subject
/// always stays) and folds the rest of each overflowing layer into one
/// [`NodeKind::Collapsed`] node labelled "+n more", linking to
/// `expand_href(parent id)`. The parent is the drawn node, one layer nearer
/// the subject, that most of the hidden nodes attach to (the subject for its
/// own owners and holdings).
///
/// Kept first, in this order: the subject; nodes attached to a drawn node one
/// layer nearer the subject (so no drawn node hangs off a hidden one); larger
/// [`Edge::share`] on that attachment; more edges in all; input order.
///
/// Edges between kept nodes stay as they are. Edges to or from hidden nodes
/// are redirected to their "+n more" node and merged per pair of ends: the
/// interests are united, the edge is direct if any merged one was, and the
/// label is dropped (one share for a group would mislead). Edges whose ends
/// are not both nodes are dropped. Runs in O((nodes + edges) log nodes).
pub fn collapse(d: Diagram, max_per_layer: usize, expand_href: impl Fn(&str) -> String) -> Diagram {
    let max = max_per_layer.max(1);
    let ix = Index::new(&d);
    let layer = layers_with(&d, &ix);
    let n = d.nodes.len();

    let mut rows: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, &l) in layer.iter().enumerate() {
        rows.entry(l).or_default().push(i);
    }
    // Nearest the subject first, so each layer knows which inner nodes stay.
    let mut order: Vec<i32> = rows.keys().copied().collect();
    order.sort_by_key(|&l| (l.unsigned_abs(), l));

    let mut kept = vec![false; n];
    // For a hidden node: the index of its "+n more" node in `groups`.
    let mut group_of: Vec<Option<usize>> = vec![None; n];
    let mut groups: Vec<Node> = Vec::new();
    // "+n more" ids must not clash with the data's ids (or each other).
    let taken_ids: HashSet<&str> = d.nodes.iter().map(|x| x.id.as_str()).collect();
    let mut new_ids: Vec<String> = Vec::new();

    for l in order {
        let members = &rows[&l];
        if members.len() <= max {
            for &m in members {
                kept[m] = true;
            }
            continue;
        }
        let inner = l - l.signum();
        // The other end of an edge, when it is a kept node one layer inward.
        let inward = |e: usize, m: usize, kept: &[bool]| -> Option<usize> {
            let (a, b) = ix.ends[e]?;
            let w = if a == m { b } else { a };
            (l != 0 && w != m && layer[w] == inner && kept[w]).then_some(w)
        };
        let mut ranked: Vec<(bool, bool, Option<f64>, usize, usize)> = members
            .iter()
            .map(|&m| {
                let edges = ix.owners[m].iter().chain(&ix.holds[m]);
                let mut attached = l == 0;
                let mut share: Option<f64> = None;
                for &e in edges.clone() {
                    if inward(e, m, &kept).is_some() {
                        attached = true;
                        if let Some(s) = d.edges[e].share.filter(|s| !s.is_nan()) {
                            share = Some(share.map_or(s, |t| t.max(s)));
                        }
                    }
                }
                let degree = edges.count();
                (m == ix.focus, attached, share, degree, m)
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then_with(|| match (a.2, b.2) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
                .then(b.3.cmp(&a.3))
                .then(a.4.cmp(&b.4))
        });
        for &(.., m) in &ranked[..max] {
            kept[m] = true;
        }
        let hidden: Vec<usize> = ranked[max..].iter().map(|r| r.4).collect();

        // The parent: the kept inward node most hidden ones attach to, the
        // earliest in input order on a tie.
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for &m in &hidden {
            for &e in ix.owners[m].iter().chain(&ix.holds[m]) {
                if let Some(w) = inward(e, m, &kept) {
                    *counts.entry(w).or_default() += 1;
                }
            }
        }
        let parent = rows
            .get(&inner)
            .into_iter()
            .flatten()
            .filter_map(|w| counts.get(w).map(|&c| (c, *w)))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map_or(ix.focus, |(_, w)| w);
        let parent_id = d.nodes.get(parent).map_or("", |p| p.id.as_str());

        let count: usize = hidden
            .iter()
            .map(|&m| match d.nodes[m].kind {
                NodeKind::Collapsed { hidden } => hidden,
                _ => 1,
            })
            .sum();
        let mut id = format!("more-layer{l}");
        while taken_ids.contains(id.as_str()) || new_ids.contains(&id) {
            id.push('_');
        }
        new_ids.push(id.clone());
        for &m in &hidden {
            group_of[m] = Some(groups.len());
        }
        groups.push(Node {
            id,
            label: format!("+{count} more"),
            kind: NodeKind::Collapsed { hidden: count },
            href: Some(expand_href(parent_id)),
            focus: false,
            note: None,
        });
    }

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    enum End {
        Node(usize),
        Group(usize),
    }
    let end = |i: usize| match group_of[i] {
        Some(g) if !kept[i] => End::Group(g),
        _ => End::Node(i),
    };
    let end_id = |x: End| match x {
        End::Node(i) => d.nodes[i].id.clone(),
        End::Group(g) => groups[g].id.clone(),
    };
    let mut edges: Vec<Edge> = Vec::new();
    let mut merged: HashMap<(End, End), usize> = HashMap::new();
    for (e, edge) in d.edges.iter().enumerate() {
        let Some((a, b)) = ix.ends[e] else { continue };
        if kept[a] && kept[b] {
            edges.push(edge.clone());
            continue;
        }
        let (ea, eb) = (end(a), end(b));
        if ea == eb {
            continue;
        }
        match merged.get(&(ea, eb)) {
            Some(&k) => {
                let m = &mut edges[k];
                m.interest = m.interest.union(edge.interest);
                m.direct |= edge.direct;
                m.share = match (m.share, edge.share.filter(|s| !s.is_nan())) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
            }
            None => {
                merged.insert((ea, eb), edges.len());
                edges.push(Edge {
                    from: end_id(ea),
                    to: end_id(eb),
                    interest: edge.interest,
                    direct: edge.direct,
                    label: None,
                    share: edge.share.filter(|s| !s.is_nan()),
                });
            }
        }
    }

    let mut nodes: Vec<Node> = d
        .nodes
        .into_iter()
        .enumerate()
        .filter_map(|(i, node)| kept[i].then_some(node))
        .collect();
    nodes.extend(groups);
    Diagram {
        title: d.title,
        description: d.description,
        nodes,
        edges,
    }
}

// ---------------------------------------------------------------------------
// Text alternative
// ---------------------------------------------------------------------------

/// One sentence per edge, in edge order, e.g. "A Ltd owns 25–50 % of B Ltd
/// (indirect).", for the list or table beside the figure.
pub fn text_alternative(d: &Diagram) -> Vec<String> {
    let by_id = first_by_id(d);
    d.edges
        .iter()
        .map(|e| {
            let from = by_id.get(e.from.as_str()).map(|&i| &d.nodes[i]);
            let to = by_id.get(e.to.as_str()).map(|&i| &d.nodes[i]);
            sentence(e, from, to, &e.from, &e.to)
        })
        .collect()
}

fn first_by_id(d: &Diagram) -> HashMap<&str, usize> {
    let mut by_id = HashMap::with_capacity(d.nodes.len());
    for (i, n) in d.nodes.iter().enumerate() {
        by_id.entry(n.id.as_str()).or_insert(i);
    }
    by_id
}

/// How a node is named in a sentence, and whether it takes a plural verb.
fn spoken_name(node: Option<&Node>, id: &str) -> (String, bool) {
    let Some(node) = node else {
        return (id.to_string(), false);
    };
    match node.kind {
        NodeKind::Protected => ("A protected person (identity withheld)".into(), false),
        NodeKind::Collapsed { hidden: 1 } => ("1 other (not shown)".into(), false),
        NodeKind::Collapsed { hidden } => (format!("{hidden} others (not shown)"), true),
        _ if node.label.trim().is_empty() => (format!("Unnamed party {id}"), false),
        _ => (node.label.trim().to_string(), false),
    }
}

fn sentence(
    e: &Edge,
    from: Option<&Node>,
    to: Option<&Node>,
    from_id: &str,
    to_id: &str,
) -> String {
    let (subject, plural) = spoken_name(from, from_id);
    let (mut object, _) = spoken_name(to, to_id);
    if matches!(to.map(|t| &t.kind), Some(NodeKind::Protected)) {
        // Mid-sentence, "A protected person" would read as a new sentence.
        object = "a protected person (identity withheld)".into();
    }
    let label = e.label.as_deref().map(str::trim).filter(|l| !l.is_empty());
    let indirect = if e.direct { "" } else { " (indirect)" };
    let verb = |one: &'static str, many: &'static str| if plural { many } else { one };
    match (e.interest, label) {
        (Interest::Owns, Some(l)) => {
            format!(
                "{subject} {} {l} of {object}{indirect}.",
                verb("owns", "own")
            )
        }
        (Interest::Owns, None) => {
            format!(
                "{subject} {} part of {object}{indirect}.",
                verb("owns", "own")
            )
        }
        (Interest::OwnsAndControls, Some(l)) => format!(
            "{subject} {} {l} of {object}{indirect}.",
            verb("owns and controls", "own and control")
        ),
        (Interest::OwnsAndControls, None) => format!(
            "{subject} {} {object}{indirect}.",
            verb("owns and controls", "own and control")
        ),
        (Interest::Controls, Some(l)) => {
            let extra = if e.direct { "" } else { ", indirect" };
            format!(
                "{subject} {} {object} ({l}{extra}).",
                verb("controls", "control")
            )
        }
        (Interest::Controls, None) => {
            format!(
                "{subject} {} {object}{indirect}.",
                verb("controls", "control")
            )
        }
    }
}

// ---------------------------------------------------------------------------
// Render
// ---------------------------------------------------------------------------

// Geometry, in SVG user units (CSS pixels at natural size).
const NODE_W: f64 = 176.0;
const NODE_H: f64 = 60.0;
const GAP_X: f64 = 28.0;
const GAP_Y: f64 = 84.0;
const MARGIN: f64 = 20.0;
/// How far a same-layer edge arcs above its row.
const ARC: f64 = 34.0;
/// Characters per line, from an average glyph width of about 0.57 em in the
/// sans-serif stacks browsers pick; bold runs wider.
const LABEL_CHARS: usize = 21;
const LABEL_CHARS_BOLD: usize = 20;
const NOTE_CHARS: usize = 25;
const EDGE_LABEL_CHARS: usize = 24;

// Colours. Each is checked in the tests below against the fills it is drawn
// on: text at least 4.5:1, lines and outlines at least 3:1 (WCAG 2.x AA).
const TEXT: &str = "#1a1a1a";
const NOTE_TEXT: &str = "#4d4d4d";
const LINK_TEXT: &str = "#0b4f8a";
const WHITE: &str = "#ffffff";
const FOCUS_FILL: &str = "#fff3bf";
const MUTED_FILL: &str = "#ebebeb";
const ENTITY_STROKE: &str = "#1f4e79";
const PERSON_STROKE: &str = "#6a3d9a";
const UNKNOWN_STROKE: &str = "#595959";
const DIRECT_EDGE: &str = "#333333";
const INDIRECT_EDGE: &str = "#737373";
const LABEL_BOX_STROKE: &str = "#8c8c8c";

const FONT: &str = "Helvetica, Arial, sans-serif";

/// Line style of an edge. Kinds differ by dash pattern and marker, not by
/// colour, so the figure reads in greyscale too.
struct Stroke {
    colour: &'static str,
    dash: &'static str,
    /// Drawn as two lines (a wide line with a white core).
    double: bool,
    marker: &'static str,
}

fn stroke(interest: Interest, direct: bool) -> Stroke {
    let colour = if direct { DIRECT_EDGE } else { INDIRECT_EDGE };
    let (dash, double, marker) = match (interest, direct) {
        (Interest::Owns, true) => ("none", false, "owns-d"),
        (Interest::Owns, false) => ("2 4", false, "owns-i"),
        (Interest::Controls, true) => ("8 5", false, "controls-d"),
        (Interest::Controls, false) => ("8 4 2 4", false, "controls-i"),
        (Interest::OwnsAndControls, true) => ("none", true, "both-d"),
        (Interest::OwnsAndControls, false) => ("3 4", true, "both-i"),
    };
    Stroke {
        colour,
        dash,
        double,
        marker,
    }
}

fn interest_class(i: Interest) -> &'static str {
    match i {
        Interest::Owns => "owns",
        Interest::Controls => "controls",
        Interest::OwnsAndControls => "owns-and-controls",
    }
}

/// Width of the invisible waypoint a long edge takes through each row it
/// crosses, so that it runs between nodes rather than under them.
const WAYPOINT_W: f64 = 12.0;

/// A box in a row: a node (`node` is its index) or a long edge's waypoint.
#[derive(Clone, Copy)]
struct Slot {
    node: Option<usize>,
    row: usize,
    x: f64,
    y: f64,
    w: f64,
}

impl Slot {
    fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
}

/// An edge to draw: its index in `d.edges`, its ends (node slots) and the
/// waypoints between them, from owner to owned.
struct Chain {
    edge: usize,
    from: usize,
    to: usize,
    via: Vec<usize>,
}

struct Layout {
    /// Nodes first (slot `i` is node `i`), then waypoints.
    slots: Vec<Slot>,
    chains: Vec<Chain>,
    rows: Vec<Vec<usize>>,
    width: f64,
    /// The bottom of the last row.
    bottom: f64,
}

/// Rows top to bottom (one per layer), long edges split by waypoints, each
/// row ordered by the barycentre heuristic to reduce crossings between
/// adjacent rows, then centred.
fn layout(d: &Diagram, ix: &Index) -> Layout {
    let layer = layers_with(d, ix);
    let mut row_of_layer: BTreeMap<i32, usize> = layer.iter().map(|&l| (l, 0)).collect();
    for (r, v) in row_of_layer.values_mut().enumerate() {
        *v = r;
    }
    let mut slots: Vec<Slot> = layer
        .iter()
        .enumerate()
        .map(|(i, l)| Slot {
            node: Some(i),
            row: row_of_layer.get(l).copied().unwrap_or(0),
            x: 0.0,
            y: 0.0,
            w: NODE_W,
        })
        .collect();
    let mut chains = Vec::new();
    for (edge, ends) in ix.ends.iter().enumerate() {
        let Some((from, to)) = *ends else { continue };
        if from == to {
            // A party owning itself has no line to draw; the text says it.
            continue;
        }
        let (ra, rb) = (slots[from].row, slots[to].row);
        let between: Vec<usize> = if ra < rb {
            (ra + 1..rb).collect()
        } else {
            (rb + 1..ra).rev().collect()
        };
        let via = between
            .into_iter()
            .map(|row| {
                slots.push(Slot {
                    node: None,
                    row,
                    x: 0.0,
                    y: 0.0,
                    w: WAYPOINT_W,
                });
                slots.len() - 1
            })
            .collect();
        chains.push(Chain {
            edge,
            from,
            to,
            via,
        });
    }

    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); row_of_layer.len()];
    for (s, slot) in slots.iter().enumerate() {
        rows[slot.row].push(s);
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); slots.len()];
    for c in &chains {
        let mut seq = vec![c.from];
        seq.extend(&c.via);
        seq.push(c.to);
        for pair in seq.windows(2) {
            if slots[pair[0]].row.abs_diff(slots[pair[1]].row) == 1 {
                neighbours[pair[0]].push(pair[1]);
                neighbours[pair[1]].push(pair[0]);
            }
        }
    }
    // "+n more" stands for the rest of its row, so it stays at the end.
    let pinned: Vec<bool> = slots
        .iter()
        .map(|s| {
            s.node
                .is_some_and(|i| matches!(d.nodes[i].kind, NodeKind::Collapsed { .. }))
        })
        .collect();
    order_rows(&mut rows, &slots, &neighbours, &pinned);

    let gap = |a: &Slot, b: &Slot| {
        if a.node.is_some() && b.node.is_some() {
            GAP_X
        } else {
            GAP_X / 2.0
        }
    };
    let row_width = |row: &[usize]| -> f64 {
        let widths: f64 = row.iter().map(|&s| slots[s].w).sum();
        let gaps: f64 = row
            .windows(2)
            .map(|p| gap(&slots[p[0]], &slots[p[1]]))
            .sum();
        widths + gaps
    };
    let row_widths: Vec<f64> = rows.iter().map(|r| row_width(r)).collect();
    let content_w = row_widths.iter().copied().fold(0.0, f64::max);
    let width = content_w.max(LEGEND_COL * 2.0) + 2.0 * MARGIN;
    let arcs_on_top = chains
        .iter()
        .any(|c| slots[c.from].row == 0 && slots[c.to].row == 0);
    let top = MARGIN + if arcs_on_top { ARC } else { 0.0 };
    for (r, row) in rows.iter().enumerate() {
        let mut x = (width - row_widths[r]) / 2.0;
        let y = top + r as f64 * (NODE_H + GAP_Y);
        for (k, &s) in row.iter().enumerate() {
            if k > 0 {
                x += gap(&slots[row[k - 1]], &slots[s]);
            }
            slots[s].x = x;
            slots[s].y = y;
            x += slots[s].w;
        }
    }
    let bottom = if rows.is_empty() {
        MARGIN
    } else {
        top + rows.len() as f64 * (NODE_H + GAP_Y) - GAP_Y
    };
    Layout {
        slots,
        chains,
        rows,
        width,
        bottom,
    }
}

/// Two barycentre sweeps down and up: each slot moves to the mean position
/// of its neighbours in the row just swept; ties keep the current order.
fn order_rows(rows: &mut [Vec<usize>], slots: &[Slot], neighbours: &[Vec<usize>], pinned: &[bool]) {
    // Positions centred on 0, so rows of different lengths compare.
    let mut pos = vec![0.0f64; slots.len()];
    let set_pos = |row: &[usize], pos: &mut Vec<f64>| {
        let mid = (row.len() as f64 - 1.0) / 2.0;
        for (k, &s) in row.iter().enumerate() {
            pos[s] = k as f64 - mid;
        }
    };
    for row in rows.iter_mut() {
        row.sort_by_key(|&s| (pinned[s], s));
        set_pos(row, &mut pos);
    }
    let reorder = |r: usize, other: usize, rows: &mut [Vec<usize>], pos: &mut Vec<f64>| {
        let mut keyed: Vec<(bool, f64, f64, usize)> = rows[r]
            .iter()
            .map(|&s| {
                let (sum, count) = neighbours[s]
                    .iter()
                    .filter(|&&t| slots[t].row == other)
                    .fold((0.0, 0usize), |(sum, c), &t| (sum + pos[t], c + 1));
                let bary = if count == 0 {
                    pos[s]
                } else {
                    sum / count as f64
                };
                (pinned[s], bary, pos[s], s)
            })
            .collect();
        keyed.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        rows[r] = keyed.into_iter().map(|k| k.3).collect();
        set_pos(&rows[r], pos);
    };
    for _ in 0..2 {
        for r in 1..rows.len() {
            reorder(r, r - 1, rows, &mut pos);
        }
        for r in (0..rows.len().saturating_sub(1)).rev() {
            reorder(r, r + 1, rows, &mut pos);
        }
    }
}

type Point = (f64, f64);

/// A piece of an edge's path.
enum Seg {
    /// A cubic Bézier: start, two control points, end.
    Curve([Point; 4]),
    /// Straight through a row, past a waypoint.
    Line(Point, Point),
}

/// An edge's drawn path.
struct Route {
    edge: usize,
    segs: Vec<Seg>,
}

impl Route {
    /// Where the share label goes: the middle of the middle curve (for a long
    /// edge, the gap nearest the owner when there are two candidates).
    fn label_point(&self) -> Point {
        let curves: Vec<&[Point; 4]> = self
            .segs
            .iter()
            .filter_map(|s| match s {
                Seg::Curve(c) => Some(c),
                Seg::Line(..) => None,
            })
            .collect();
        let Some([p0, p1, p2, p3]) = curves.get(curves.len().saturating_sub(1) / 2).copied() else {
            return (0.0, 0.0);
        };
        (
            (p0.0 + 3.0 * p1.0 + 3.0 * p2.0 + p3.0) / 8.0,
            (p0.1 + 3.0 * p1.1 + 3.0 * p2.1 + p3.1) / 8.0,
        )
    }

    fn path(&self) -> String {
        let mut out = String::new();
        let pt = |p: Point| format!("{} {}", num(p.0), num(p.1));
        for (k, seg) in self.segs.iter().enumerate() {
            let start = match seg {
                Seg::Curve(c) => c[0],
                Seg::Line(a, _) => *a,
            };
            if k == 0 {
                out.push('M');
                out.push_str(&pt(start));
            }
            match seg {
                Seg::Curve([_, c1, c2, end]) => {
                    out.push_str(&format!(" C{} {} {}", pt(*c1), pt(*c2), pt(*end)));
                }
                Seg::Line(_, end) => {
                    out.push_str(&format!(" L{}", pt(*end)));
                }
            }
        }
        out
    }
}

/// A vertical S-curve between two points.
fn s_curve(a: Point, b: Point) -> Seg {
    let bend = (b.1 - a.1) / 2.0;
    Seg::Curve([a, (a.0, a.1 + bend), (b.0, b.1 - bend), b])
}

/// Owner above owned leaves the owner's bottom and enters the owned party's
/// top; a back edge (in a cycle) runs bottom-up; within a row it arcs above.
/// Where several edges meet a side of a node, their ends are spread along it
/// in the order of where they come from, so they do not cross there.
fn routes(lay: &Layout, nodes: usize) -> Vec<Route> {
    let slots = &lay.slots;
    // Per node side (0 top, 1 bottom): (x it heads to, chain, is start).
    let mut ports: Vec<Vec<(f64, usize, bool)>> = vec![Vec::new(); nodes * 2];
    for (k, c) in lay.chains.iter().enumerate() {
        let (ra, rb) = (slots[c.from].row, slots[c.to].row);
        let (side_a, side_b) = match ra.cmp(&rb) {
            std::cmp::Ordering::Less => (1, 0),
            std::cmp::Ordering::Greater => (0, 1),
            std::cmp::Ordering::Equal => (0, 0),
        };
        let first = c.via.first().copied().unwrap_or(c.to);
        let last = c.via.last().copied().unwrap_or(c.from);
        ports[c.from * 2 + side_a].push((slots[first].cx(), k, true));
        ports[c.to * 2 + side_b].push((slots[last].cx(), k, false));
    }
    let mut start_x = vec![0.0; lay.chains.len()];
    let mut end_x = vec![0.0; lay.chains.len()];
    for (side, list) in ports.iter_mut().enumerate() {
        list.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
        let node = &slots[side / 2];
        let step = node.w / (list.len() as f64 + 1.0);
        for (k, &(_, chain, is_start)) in list.iter().enumerate() {
            let x = node.x + step * (k as f64 + 1.0);
            if is_start {
                start_x[chain] = x;
            } else {
                end_x[chain] = x;
            }
        }
    }
    lay.chains
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (a, b) = (&slots[c.from], &slots[c.to]);
            let segs = if a.row == b.row {
                let lift = a.y - ARC * 1.33;
                vec![Seg::Curve([
                    (start_x[k], a.y),
                    (start_x[k], lift),
                    (end_x[k], lift),
                    (end_x[k], b.y),
                ])]
            } else {
                let down = a.row < b.row;
                let (leave, enter) = if down { (NODE_H, 0.0) } else { (0.0, NODE_H) };
                let mut pts = vec![(start_x[k], a.y + leave)];
                for &s in &c.via {
                    let way = &slots[s];
                    pts.push((way.cx(), way.y + enter));
                    pts.push((way.cx(), way.y + leave));
                }
                pts.push((end_x[k], b.y + enter));
                pts.windows(2)
                    .enumerate()
                    .map(|(i, p)| {
                        if i % 2 == 0 {
                            s_curve(p[0], p[1])
                        } else {
                            Seg::Line(p[0], p[1])
                        }
                    })
                    .collect()
            };
            Route { edge: c.edge, segs }
        })
        .collect()
}

/// The SVG for `d`: a standalone, script-free `<svg>` element (no XML
/// declaration, so it can also be inlined in HTML) that scales to its
/// container's width up to its natural size. Its `<title>` and `<desc>` ids
/// derive from the subject's id, so several figures can share a page.
///
/// Call [`collapse`] first for networks of more than a few dozen nodes: every
/// node given here is drawn.
pub fn render(d: &Diagram) -> String {
    let ix = Index::new(d);
    let lay = layout(d, &ix);
    let prefix = id_prefix(d.nodes.get(ix.focus).map_or("", |n| n.id.as_str()));
    let width = lay.width;
    let nodes_bottom = lay.bottom;
    let legend_y = nodes_bottom + 28.0;
    let height = legend_y + LEGEND_H + MARGIN;

    let mut out = String::with_capacity(4096 + d.nodes.len() * 600 + d.edges.len() * 400);
    let title = if d.title.trim().is_empty() {
        "Ownership diagram"
    } else {
        d.title.as_str()
    };
    let description = if d.description.trim().is_empty() {
        text_alternative(d).join(" ")
    } else {
        d.description.clone()
    };
    let role = if d
        .nodes
        .iter()
        .any(|n| n.href.as_deref().is_some_and(safe_href))
    {
        "group"
    } else {
        "img"
    };
    w(
        &mut out,
        format_args!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{p}\" viewBox=\"0 0 {w} {h}\" \
             width=\"100%\" style=\"max-width:{w}px;height:auto\" role=\"{role}\" \
             aria-labelledby=\"{p}-title {p}-desc\" font-family=\"{FONT}\">\n\
             <title id=\"{p}-title\">{t}</title>\n<desc id=\"{p}-desc\">{desc}</desc>\n",
            p = prefix,
            w = num(width),
            h = num(height),
            t = esc(title),
            desc = esc(&description),
        ),
    );
    write_markers(&mut out, &prefix);

    let routes = routes(&lay, d.nodes.len());
    out.push_str("<g class=\"edges\">\n");
    for route in &routes {
        let e = &d.edges[route.edge];
        let (a, b) = (ix.from(route.edge), ix.to(route.edge));
        let text = sentence(e, d.nodes.get(a), d.nodes.get(b), &e.from, &e.to);
        let s = stroke(e.interest, e.direct);
        w(
            &mut out,
            format_args!(
                "<g class=\"edge {} {}\"><title>{}</title>",
                interest_class(e.interest),
                if e.direct { "direct" } else { "indirect" },
                esc(&text)
            ),
        );
        write_stroke(&mut out, &route.path(), &s, &prefix);
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n<g class=\"shares\">\n");
    for route in &routes {
        let Some(label) = d.edges[route.edge]
            .label
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        else {
            continue;
        };
        let shown = shorten(label, EDGE_LABEL_CHARS);
        let (mx, my) = route.label_point();
        let bw = shown.chars().count() as f64 * 6.2 + 10.0;
        w(
            &mut out,
            format_args!(
                "<g class=\"share\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" rx=\"3\" \
                 fill=\"{WHITE}\" stroke=\"{LABEL_BOX_STROKE}\" stroke-width=\"0.75\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{TEXT}\">{}</text></g>\n",
                num(mx - bw / 2.0),
                num(my - 8.0),
                num(bw),
                num(mx),
                num(my + 4.0),
                esc(&shown)
            ),
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for row in &lay.rows {
        for &s in row {
            if let Some(i) = lay.slots[s].node {
                write_node(&mut out, &d.nodes[i], &lay.slots[s], i == ix.focus);
            }
        }
    }
    out.push_str("</g>\n");
    write_legend(&mut out, &prefix, width, legend_y);
    out.push_str("</svg>\n");
    out
}

fn w(out: &mut String, args: std::fmt::Arguments<'_>) {
    // Writing to a String cannot fail.
    let _ = out.write_fmt(args);
}

fn write_stroke(out: &mut String, path: &str, s: &Stroke, prefix: &str) {
    if s.double {
        // The marker goes on the white core, which is drawn last, so the
        // core does not cut through the arrowhead.
        w(
            out,
            format_args!(
                "<path d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"5\" \
                 stroke-dasharray=\"{}\"/><path d=\"{path}\" fill=\"none\" stroke=\"{WHITE}\" \
                 stroke-width=\"1.5\" marker-end=\"url(#{prefix}-m-{})\"/>",
                s.colour, s.dash, s.marker
            ),
        );
    } else {
        w(
            out,
            format_args!(
                "<path d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" \
                 stroke-dasharray=\"{}\" marker-end=\"url(#{prefix}-m-{})\"/>",
                s.colour, s.dash, s.marker
            ),
        );
    }
}

fn write_markers(out: &mut String, prefix: &str) {
    out.push_str("<defs>\n");
    for (colour, suffix) in [(DIRECT_EDGE, "d"), (INDIRECT_EDGE, "i")] {
        // Sizes in user units, so the double line's wide stroke does not
        // scale its arrowhead.
        w(
            out,
            format_args!(
                "<marker id=\"{prefix}-m-owns-{suffix}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
                 markerWidth=\"10\" markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">\
                 <path d=\"M0 0 L10 5 L0 10 Z\" fill=\"{colour}\"/></marker>\n\
                 <marker id=\"{prefix}-m-controls-{suffix}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
                 markerWidth=\"10\" markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">\
                 <path d=\"M1 1 L9 5 L1 9\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"/></marker>\n\
                 <marker id=\"{prefix}-m-both-{suffix}\" viewBox=\"0 0 14 14\" refX=\"14\" refY=\"7\" \
                 markerWidth=\"14\" markerHeight=\"14\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">\
                 <path d=\"M0 0 L14 7 L0 14 Z\" fill=\"{colour}\"/></marker>\n"
            ),
        );
    }
    out.push_str("</defs>\n");
}

const LEGEND_COL: f64 = 232.0;
const LEGEND_ROW: f64 = 22.0;
const LEGEND_H: f64 = 18.0 + 2.0 * LEGEND_ROW;

fn write_legend(out: &mut String, prefix: &str, width: f64, y: f64) {
    let x = (width - 2.0 * LEGEND_COL) / 2.0;
    w(
        out,
        format_args!(
            "<g class=\"legend\"><text x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"bold\" \
             fill=\"{TEXT}\">Key</text>\n",
            num(x),
            num(y + 12.0)
        ),
    );
    let items = [
        (Interest::Owns, true, "Owns (shares)"),
        (Interest::Controls, true, "Controls (votes, board)"),
        (Interest::OwnsAndControls, true, "Owns and controls"),
        (Interest::Owns, false, "Indirect (dotted, lighter)"),
    ];
    for (k, (interest, direct, text)) in items.into_iter().enumerate() {
        let ix = x + (k % 2) as f64 * LEGEND_COL;
        let iy = y + 18.0 + (k / 2) as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
        let path = format!("M{} {} H{}", num(ix), num(iy), num(ix + 44.0));
        w(
            out,
            format_args!(
                "<g class=\"key {} {}\">",
                interest_class(interest),
                if direct { "direct" } else { "indirect" }
            ),
        );
        write_stroke(out, &path, &stroke(interest, direct), prefix);
        w(
            out,
            format_args!(
                "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{TEXT}\">{}</text></g>\n",
                num(ix + 54.0),
                num(iy + 4.0),
                esc(text)
            ),
        );
    }
    out.push_str("</g>\n");
}

/// One line of text inside a node.
struct Line {
    text: String,
    size: f64,
    bold: bool,
    colour: &'static str,
    underline: bool,
}

fn write_node(out: &mut String, node: &Node, at: &Slot, focus: bool) {
    let href = node.href.as_deref().filter(|h| safe_href(h));
    let linked = href.is_some();
    let (kind_class, kind_word) = match node.kind {
        NodeKind::Entity => ("entity", "entity"),
        NodeKind::Person => ("person", "person"),
        NodeKind::Unknown => ("unknown", "unknown party"),
        NodeKind::Protected => ("protected", "protected person"),
        NodeKind::Collapsed { .. } => ("collapsed", "parties not shown"),
    };
    let name_colour = if linked { LINK_TEXT } else { TEXT };
    let label = node.label.trim();
    let note = node
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());

    // The hover text carries what wrapping may have cut.
    let hover = match node.kind {
        NodeKind::Protected => "Protected person: identity withheld".to_string(),
        NodeKind::Collapsed { hidden } => {
            let more = if linked {
                "; follow the link to see them"
            } else {
                ""
            };
            let what = if hidden == 1 { "party" } else { "parties" };
            format!("{hidden} more {what} not shown{more}")
        }
        _ => {
            let mut h = if label.is_empty() {
                "(no name)".to_string()
            } else {
                label.to_string()
            };
            h.push_str(" (");
            h.push_str(kind_word);
            if let Some(n) = note {
                h.push_str("; ");
                h.push_str(n);
            }
            if focus {
                h.push_str("; subject of this page");
            }
            h.push(')');
            h
        }
    };

    let mut lines: Vec<Line> = Vec::new();
    let name_line = |text: String| Line {
        text,
        size: 13.0,
        bold: focus,
        colour: name_colour,
        underline: linked,
    };
    let note_line = |text: &str| Line {
        text: shorten(text, NOTE_CHARS),
        size: 11.0,
        bold: false,
        colour: NOTE_TEXT,
        underline: false,
    };
    match node.kind {
        NodeKind::Protected => {
            lines.push(Line {
                text: "Protected".into(),
                size: 13.0,
                bold: true,
                colour: name_colour,
                underline: linked,
            });
            lines.push(note_line("identity withheld"));
        }
        _ => {
            let (chars, max_lines) = match node.kind {
                // Room is left for the "?" badge.
                NodeKind::Unknown => (LABEL_CHARS - 3, 2),
                NodeKind::Collapsed { .. } => (LABEL_CHARS, 1),
                _ if focus => (LABEL_CHARS_BOLD, 2),
                _ => (LABEL_CHARS, 2),
            };
            let shown = if label.is_empty() { "(no name)" } else { label };
            lines.extend(wrap(shown, chars, max_lines).into_iter().map(name_line));
            if let Some(n) = note {
                lines.push(note_line(n));
            }
        }
    }

    let (stroke_colour, fill, dash, rx) = match node.kind {
        NodeKind::Entity => (ENTITY_STROKE, WHITE, None, 6.0),
        NodeKind::Person => (PERSON_STROKE, WHITE, None, NODE_H / 2.0),
        NodeKind::Unknown => (UNKNOWN_STROKE, WHITE, Some("5 3"), 6.0),
        NodeKind::Protected => (UNKNOWN_STROKE, MUTED_FILL, None, NODE_H / 2.0),
        NodeKind::Collapsed { .. } => (UNKNOWN_STROKE, MUTED_FILL, None, NODE_H / 2.0),
    };
    let fill = if focus { FOCUS_FILL } else { fill };
    // The subject stands out by a thicker outline as well as by its fill.
    let stroke_width = if focus {
        3.5
    } else if matches!(node.kind, NodeKind::Protected) {
        2.5
    } else {
        1.5
    };

    let class = if focus {
        format!("node {kind_class} focus")
    } else {
        format!("node {kind_class}")
    };
    if let Some(h) = href {
        w(out, format_args!("<a href=\"{}\">", esc(h)));
    }
    w(
        out,
        format_args!(
            "<g class=\"{class}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
             rx=\"{}\" fill=\"{fill}\" stroke=\"{stroke_colour}\" stroke-width=\"{}\"",
            esc(&hover),
            num(at.x),
            num(at.y),
            num(NODE_W),
            num(NODE_H),
            num(rx),
            num(stroke_width),
        ),
    );
    if let Some(dash) = dash {
        w(out, format_args!(" stroke-dasharray=\"{dash}\""));
    }
    out.push_str("/>");
    if matches!(node.kind, NodeKind::Protected) {
        // A second, inner outline: a style no other kind has.
        w(
            out,
            format_args!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"none\" \
                 stroke=\"{UNKNOWN_STROKE}\" stroke-width=\"1\"/>",
                num(at.x + 4.0),
                num(at.y + 4.0),
                num(NODE_W - 8.0),
                num(NODE_H - 8.0),
                num(NODE_H / 2.0 - 4.0)
            ),
        );
    }
    let mut cx = at.cx();
    if matches!(node.kind, NodeKind::Unknown) {
        w(
            out,
            format_args!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"22\" font-weight=\"bold\" \
                 fill=\"{UNKNOWN_STROKE}\">?</text>",
                num(at.x + 16.0),
                num(at.y + NODE_H / 2.0 + 8.0)
            ),
        );
        cx += 12.0;
    }
    let heights: f64 = lines.iter().map(|l| l.size + 3.0).sum();
    let mut cursor = at.y + (NODE_H - heights) / 2.0;
    for line in &lines {
        let lh = line.size + 3.0;
        let baseline = cursor + lh * 0.78;
        cursor += lh;
        w(
            out,
            format_args!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{}\"{}{}>{}</text>",
                num(cx),
                num(baseline),
                num(line.size),
                line.colour,
                if line.bold { " font-weight=\"bold\"" } else { "" },
                if line.underline { " text-decoration=\"underline\"" } else { "" },
                esc(&line.text)
            ),
        );
    }
    out.push_str("</g>");
    if href.is_some() {
        out.push_str("</a>");
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

/// Escapes text for XML content and attributes, and drops characters XML 1.0
/// forbids (a stray control character in a name would make the whole figure
/// unreadable to an XML parser).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether a link may be written: relative, or `http`/`https`. Browsers
/// ignore tabs and newlines inside a URL and leading spaces or control
/// characters, so those are removed before the scheme is read.
fn safe_href(href: &str) -> bool {
    let cleaned: String = href
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let cleaned = cleaned.trim_start_matches(|c: char| c <= ' ');
    if cleaned.is_empty() {
        return false;
    }
    let scheme_end = cleaned.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)));
    match scheme_end {
        Some(k) if cleaned[k..].starts_with(':') && k > 0 => {
            let scheme = cleaned[..k].to_ascii_lowercase();
            scheme == "http" || scheme == "https"
        }
        _ => true,
    }
}

/// `bods-dgm-<subject id, sanitised>-<hash>`: readable, valid as an XML id and
/// unique per subject even when two ids sanitise alike.
fn id_prefix(focus_id: &str) -> String {
    let mut clean: String = focus_id
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        clean.push('x');
    }
    // FNV-1a: fixed across platforms and releases, unlike the std hasher.
    let mut hash: u32 = 0x811c_9dc5;
    for b in focus_id.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("bods-dgm-{clean}-{hash:08x}")
}

/// At most `chars` characters, ending in "…" when cut.
fn shorten(s: &str, chars: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= chars {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Greedy word wrap into at most `max_lines` lines of `width` characters;
/// words longer than a line are split, and the last line ends in "…" when
/// text is left over.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(2);
    // Enough to fill every line and know that more follows.
    let text: String = text.chars().take(width * (max_lines + 1)).collect();
    let full = text.chars().count() < width * (max_lines + 1);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0usize;
    for word in text.split_whitespace() {
        let mut rest: Vec<char> = word.chars().collect();
        while !rest.is_empty() {
            let need = if cur_len == 0 {
                rest.len()
            } else {
                cur_len + 1 + rest.len()
            };
            if need <= width {
                if cur_len > 0 {
                    cur.push(' ');
                }
                cur_len = need;
                cur.extend(rest.drain(..));
            } else if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
            } else {
                lines.push(rest.drain(..width).collect());
            }
        }
    }
    if cur_len > 0 {
        lines.push(cur);
    }
    if lines.len() > max_lines || !full {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            if last.chars().count() >= width {
                // Drop the last word rather than cut it, when there is one.
                match last.rsplit_once(' ') {
                    Some((head, _)) => *last = head.trim_end().to_string(),
                    None => *last = last.chars().take(width - 1).collect(),
                }
            }
            last.push('…');
        }
    }
    lines
}

/// A coordinate with at most one decimal, without "-0" or a trailing ".0",
/// so output is short and stable.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    let s = format!("{r:.1}");
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(hex: &str) -> f64 {
        let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
        let channel = |shift: u32| {
            let c = f64::from((v >> shift) & 0xff) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn palette_meets_wcag_aa() {
        let fills = [WHITE, FOCUS_FILL, MUTED_FILL];
        for text in [TEXT, NOTE_TEXT, LINK_TEXT, UNKNOWN_STROKE] {
            for fill in fills {
                let c = contrast(text, fill);
                assert!(c >= 4.5, "text {text} on {fill}: {c:.2}");
            }
        }
        for line in [
            ENTITY_STROKE,
            PERSON_STROKE,
            UNKNOWN_STROKE,
            DIRECT_EDGE,
            INDIRECT_EDGE,
            LABEL_BOX_STROKE,
        ] {
            let c = contrast(line, WHITE);
            assert!(c >= 3.0, "line {line} on white: {c:.2}");
        }
        for outline in [ENTITY_STROKE, PERSON_STROKE, UNKNOWN_STROKE] {
            for fill in fills {
                assert!(contrast(outline, fill) >= 3.0, "{outline} on {fill}");
            }
        }
    }

    #[test]
    fn wrap_fits_and_marks_cuts() {
        assert_eq!(wrap("Acme Holdings Ltd", 21, 2), vec!["Acme Holdings Ltd"]);
        assert_eq!(
            wrap(
                "Acme Global Holdings International Limited Partnership",
                21,
                2
            ),
            vec!["Acme Global Holdings", "International…"]
        );
        let long = wrap(&"x".repeat(100), 10, 2);
        assert_eq!(long.len(), 2);
        assert!(long.iter().all(|l| l.chars().count() <= 10));
        assert!(long[1].ends_with('…'));
        assert!(wrap("", 10, 2).is_empty());
    }

    #[test]
    fn hrefs_that_could_run_script_are_refused() {
        for ok in [
            "/entity/1",
            "?expand=1",
            "#x",
            "https://e.org/a",
            "entity/2",
        ] {
            assert!(safe_href(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "",
        ] {
            assert!(!safe_href(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(f64::NAN), "0");
    }
}
