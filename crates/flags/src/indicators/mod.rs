//! The red-flag indicators.
//!
//! Each indicator is one file with one type and its own state: `fold` sees one
//! process at a time (in parallel, on any thread), `reduce` merges two partial
//! states, `finalize` turns the merged state into flags (for indicators that
//! compare a process or an organisation with all the others). Adding an
//! indicator is one new file and one line in [`Engine::new`].
//!
//! Flags a process raises on its own are written straight to the [`Sink`] in
//! `fold`; what cannot be decided without the whole dataset waits for
//! `finalize`. What an indicator could not judge is counted in the sink's
//! notes with the reason, so no process is left out silently.

mod r003;
mod r018;
mod r024;
mod r025;
mod r028;
mod r030;
mod r035;
mod r036;
mod r038;
mod r048;
mod r058;

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::process::{Money, Process};
use crate::settings::Settings;
use crate::{Flag, Subject};

/// Where indicators write what they find.
#[derive(Default)]
pub struct Sink {
    pub flags: Vec<Flag>,
    /// (code, why) → how many processes an indicator skipped for that reason.
    pub notes: BTreeMap<(&'static str, String), u64>,
}

impl Sink {
    pub fn note(&mut self, code: &'static str, why: impl Into<String>) {
        *self.notes.entry((code, why.into())).or_default() += 1;
    }

    fn merge(&mut self, other: Sink) {
        self.flags.extend(other.flags);
        for (key, n) in other.notes {
            *self.notes.entry(key).or_default() += n;
        }
    }
}

/// The figures an indicator's fences came from (quartiles, fences), by name.
pub type Meta = BTreeMap<String, f64>;

/// One indicator. See the module documentation.
pub trait Indicator: Send + Sync + 'static {
    type State: Default + Send + 'static;

    fn code(&self) -> &'static str;

    fn fold(&self, p: &Process<'_>, money: &Money<'_>, state: &mut Self::State, sink: &mut Sink);

    fn reduce(&self, _into: &mut Self::State, _from: Self::State) {}

    fn finalize(&self, _state: Self::State, _sink: &mut Sink, _meta: &mut Meta) {}
}

/// An indicator with its state type erased, so the engine can hold a list.
trait Erased: Send + Sync {
    fn code(&self) -> &'static str;
    fn new_state(&self) -> Box<dyn Any + Send>;
    fn fold(
        &self,
        p: &Process<'_>,
        money: &Money<'_>,
        state: &mut Box<dyn Any + Send>,
        sink: &mut Sink,
    );
    fn reduce(&self, into: &mut Box<dyn Any + Send>, from: Box<dyn Any + Send>);
    fn finalize(&self, state: Box<dyn Any + Send>, sink: &mut Sink, meta: &mut Meta);
}

impl<I: Indicator> Erased for I {
    fn code(&self) -> &'static str {
        Indicator::code(self)
    }

    fn new_state(&self) -> Box<dyn Any + Send> {
        Box::new(I::State::default())
    }

    fn fold(
        &self,
        p: &Process<'_>,
        money: &Money<'_>,
        state: &mut Box<dyn Any + Send>,
        sink: &mut Sink,
    ) {
        // The engine only ever hands an indicator the state it made.
        if let Some(state) = state.downcast_mut::<I::State>() {
            Indicator::fold(self, p, money, state, sink);
        }
    }

    fn reduce(&self, into: &mut Box<dyn Any + Send>, from: Box<dyn Any + Send>) {
        if let (Some(into), Ok(from)) =
            (into.downcast_mut::<I::State>(), from.downcast::<I::State>())
        {
            Indicator::reduce(self, into, *from);
        }
    }

    fn finalize(&self, state: Box<dyn Any + Send>, sink: &mut Sink, meta: &mut Meta) {
        if let Ok(state) = state.downcast::<I::State>() {
            Indicator::finalize(self, *state, sink, meta);
        }
    }
}

/// Runs the enabled indicators over compiled releases.
pub struct Engine {
    settings: Settings,
    indicators: Vec<Box<dyn Erased>>,
}

/// The work of one thread (or one batch) so far.
pub struct Partial {
    states: Vec<Box<dyn Any + Send>>,
    sink: Sink,
    processes: u64,
    excluded: BTreeMap<String, u64>,
}

/// A count with its reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    /// The indicator, or `all` for processes no indicator looked at.
    pub code: String,
    pub reason: String,
    pub processes: u64,
}

/// Everything a run found.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Processes read.
    pub processes: u64,
    pub indicators: Vec<&'static str>,
    /// Sorted by code, then subject.
    pub flags: Vec<Flag>,
    /// Per indicator, the figures its fences came from.
    pub meta: BTreeMap<&'static str, Meta>,
    /// What was left out, and why.
    pub notes: Vec<Note>,
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        let s = &settings;
        let mut indicators: Vec<Box<dyn Erased>> = Vec::new();
        let mut add = |on: bool, indicator: Box<dyn Erased>| {
            if on {
                indicators.push(indicator);
            }
        };
        add(s.r003.enabled, Box::new(r003::R003::new(s)));
        add(s.r018.enabled, Box::new(r018::R018::new(s)));
        add(s.r024.enabled, Box::new(r024::R024::new(s)));
        add(s.r025.enabled, Box::new(r025::R025::new(s)));
        add(s.r028.enabled, Box::new(r028::R028::new(s)));
        add(s.r030.enabled, Box::new(r030::R030));
        add(s.r035.enabled, Box::new(r035::R035::new(s)));
        add(s.r036.enabled, Box::new(r036::R036));
        add(s.r038.enabled, Box::new(r038::R038::new(s)));
        add(s.r048.enabled, Box::new(r048::R048::new(s)));
        add(s.r058.enabled, Box::new(r058::R058::new(s)));
        Engine {
            settings,
            indicators,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.indicators.iter().map(|i| i.code()).collect()
    }

    pub fn partial(&self) -> Partial {
        Partial {
            states: self.indicators.iter().map(|i| i.new_state()).collect(),
            sink: Sink::default(),
            processes: 0,
            excluded: BTreeMap::new(),
        }
    }

    /// Looks at one compiled release.
    pub fn fold(&self, partial: &mut Partial, release: &Value) {
        partial.processes += 1;
        let Some(release) = release.as_object() else {
            *partial
                .excluded
                .entry("not a JSON object".into())
                .or_default() += 1;
            return;
        };
        let Some(ocid) = release.get("ocid").and_then(Value::as_str) else {
            *partial.excluded.entry("no ocid".into()).or_default() += 1;
            return;
        };
        let p = Process { ocid, release };
        if p.is_cancelled() {
            *partial
                .excluded
                .entry("tender cancelled".into())
                .or_default() += 1;
            return;
        }
        if let Some(details) = p.procurement_method_details() {
            if self
                .settings
                .exclusions
                .procurement_method_details
                .iter()
                .any(|d| d == details)
            {
                *partial
                    .excluded
                    .entry(format!(
                        "procurementMethodDetails is {details:?} (excluded in settings)"
                    ))
                    .or_default() += 1;
                return;
            }
        }
        let money = Money::new(&self.settings);
        for (indicator, state) in self.indicators.iter().zip(partial.states.iter_mut()) {
            indicator.fold(&p, &money, state, &mut partial.sink);
        }
    }

    pub fn reduce(&self, mut a: Partial, b: Partial) -> Partial {
        for ((indicator, into), from) in self
            .indicators
            .iter()
            .zip(a.states.iter_mut())
            .zip(b.states)
        {
            indicator.reduce(into, from);
        }
        a.sink.merge(b.sink);
        a.processes += b.processes;
        for (why, n) in b.excluded {
            *a.excluded.entry(why).or_default() += n;
        }
        a
    }

    pub fn finish(&self, partial: Partial) -> Outcome {
        let Partial {
            states,
            mut sink,
            processes,
            excluded,
        } = partial;
        let mut meta = BTreeMap::new();
        for (indicator, state) in self.indicators.iter().zip(states) {
            let mut m = Meta::new();
            indicator.finalize(state, &mut sink, &mut m);
            if !m.is_empty() {
                meta.insert(indicator.code(), m);
            }
        }
        sink.flags
            .sort_by(|a, b| (&a.code, &a.subject).cmp(&(&b.code, &b.subject)));
        let mut notes: Vec<Note> = excluded
            .into_iter()
            .map(|(reason, processes)| Note {
                code: "all".into(),
                reason,
                processes,
            })
            .collect();
        notes.extend(
            sink.notes
                .into_iter()
                .map(|((code, reason), processes)| Note {
                    code: code.into(),
                    reason,
                    processes,
                }),
        );
        Outcome {
            processes,
            indicators: self.codes(),
            flags: sink.flags,
            meta,
            notes,
        }
    }

    /// Runs over releases already in memory, on every core.
    pub fn run(&self, releases: &[Value]) -> Outcome {
        let partial = releases
            .par_iter()
            // Few, large pieces: merging partial states costs more than it
            // saves once every core has work.
            .with_min_len(1024)
            .fold(
                || self.partial(),
                |mut partial, release| {
                    self.fold(&mut partial, release);
                    partial
                },
            )
            .reduce(|| self.partial(), |a, b| self.reduce(a, b));
        self.finish(partial)
    }
}

impl Outcome {
    /// The result in Cardinal's `indicators --no-meta` shape: group → id →
    /// code → value, so results can be compared with Cardinal's line by line.
    pub fn cardinal_json(&self) -> Value {
        let mut groups: BTreeMap<&str, BTreeMap<String, BTreeMap<String, f64>>> = BTreeMap::new();
        for flag in &self.flags {
            let group = match flag.subject {
                Subject::Process(_) => "OCID",
                Subject::Buyer(_) => "Buyer",
                Subject::ProcuringEntity(_) => "ProcuringEntity",
                Subject::Tenderer(_) => "Tenderer",
            };
            groups
                .entry(group)
                .or_default()
                .entry(flag.subject.id().to_string())
                .or_default()
                .insert(flag.code.clone(), flag.value);
            // Cardinal also lists the organisations a process flag names
            // under Tenderer, with a fixed value per indicator.
            let tenderer_value = match flag.code.as_str() {
                "R028" | "R030" => Some(1.0),
                "R035" | "R058" => Some(0.0),
                _ => None,
            };
            if let (Subject::Process(_), Some(v)) = (&flag.subject, tenderer_value) {
                for id in &flag.organisations {
                    groups
                        .entry("Tenderer")
                        .or_default()
                        .entry(id.clone())
                        .or_default()
                        .insert(flag.code.clone(), v);
                }
            }
        }
        serde_json::to_value(groups).unwrap_or(Value::Null)
    }
}

/// A flag on one process.
pub(crate) fn process_flag(
    code: &'static str,
    p: &Process<'_>,
    value: f64,
    reason: String,
    organisations: Vec<String>,
    details: Map<String, Value>,
) -> Flag {
    Flag {
        code: code.to_string(),
        subject: Subject::Process(p.ocid.to_string()),
        value,
        ocids: vec![p.ocid.to_string()],
        organisations,
        reason,
        details,
    }
}

/// Builds a `details` map from pairs.
pub(crate) fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Whether a process's prices may be compared under the settings'
/// price-comparison method lists.
pub(crate) fn compares_prices(settings: &Settings, p: &Process<'_>) -> bool {
    let details = p.procurement_method_details();
    if !settings.price_comparison_procurement_methods.is_empty() {
        return details.is_some_and(|d| {
            settings
                .price_comparison_procurement_methods
                .iter()
                .any(|m| m == d)
        });
    }
    !details.is_some_and(|d| {
        settings
            .no_price_comparison_procurement_methods
            .iter()
            .any(|m| m == d)
    })
}

/// A sorted, de-duplicated list of ids.
pub(crate) fn sorted<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    ids.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(String::from)
        .collect()
}

/// Formats a number for a reason sentence: whole numbers without decimals,
/// others to 4 significant places.
pub(crate) fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{:.4}", crate::stats::round4(v))
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Parses one compiled release for the indicators only, leaving out the parts
/// no indicator reads (parties, planning, contracts; the tender's items,
/// documents and tenderers; awards' documents and all of an awarded item but
/// its classification): on the DGCP data that is most of the bytes, and
/// building them into a `Value` was most of a run's time. The `prepare` step
/// and data quality need the whole release: parse those with `serde_json`.
pub fn parse_for_indicators(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Pruned {
        place: Place::Release,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Where in a release the pruning parser is: each place has members the
/// indicators never read.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Release,
    Tender,
    /// An array of awards, or of an award's items: each member is `Member`.
    Awards,
    Award,
    Items,
    Item,
}

impl Place {
    /// Whether to skip this member, and if not, where its value is.
    fn member(self, key: &str) -> Option<Option<Place>> {
        match (self, key) {
            (Place::Release, "parties" | "planning" | "contracts" | "relatedProcesses") => None,
            (Place::Release, "tender") => Some(Some(Place::Tender)),
            (Place::Release, "awards") => Some(Some(Place::Awards)),
            (Place::Tender, "items" | "documents" | "tenderers" | "milestones" | "amendments") => {
                None
            }
            (Place::Award, "documents" | "amendments" | "description" | "title") => None,
            (Place::Award, "items") => Some(Some(Place::Items)),
            // R048 reads only the classification of an awarded item.
            (Place::Item, "classification") => Some(None),
            (Place::Item, _) => None,
            _ => Some(None),
        }
    }

    fn element(self) -> Option<Place> {
        match self {
            Place::Awards => Some(Place::Award),
            Place::Items => Some(Place::Item),
            _ => None,
        }
    }
}

struct Pruned {
    place: Place,
}

impl<'de> serde::de::DeserializeSeed<'de> for Pruned {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a compiled release (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.place.member(&key) {
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Some(Some(place)) => {
                    let v = map.next_value_seed(Pruned { place })?;
                    out.insert(key, v);
                }
                Some(None) => {
                    let v = map.next_value_seed(PlainValue)?;
                    out.insert(key, v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    // Anything but the expected shape is kept as it is: the engine judges it.
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        match self.place.element() {
            Some(place) => {
                while let Some(v) = seq.next_element_seed(Pruned { place })? {
                    out.push(v);
                }
            }
            None => {
                while let Some(v) = seq.next_element_seed(PlainValue)? {
                    out.push(v);
                }
            }
        }
        Ok(Value::Array(out))
    }
}

/// A whole `Value`, as a seed.
struct PlainValue;

impl<'de> serde::de::DeserializeSeed<'de> for PlainValue {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        <Value as serde::Deserialize>::deserialize(deserializer)
    }
}
