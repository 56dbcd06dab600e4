//! Open Contracting Data Standard (OCDS) 1.1: read, upgrade, validate, compile
//! and flatten procurement data.
//!
//! Pure: this crate opens no database and no socket. Callers hand it readers
//! and writers; it hands back items, findings and compiled releases.
//!
//! - [`reader`]: stream releases and records out of any common file shape.
//! - [`upgrade`]: OCDS 1.0 → 1.1.
//! - [`merge`]: the merge routine (compiled and versioned releases).
//! - [`compile`]: group a stream of releases by ocid and merge each group.
//! - [`validate`]: schema and quality checks, each finding with its place.
//! - [`summary`]: what a search needs to know of a compiled release.
//! - [`flatten`]: compiled releases → CSV tables or an XLSX workbook.

pub mod compile;
pub mod flatten;
pub mod merge;
pub mod reader;
pub mod schema;
pub mod summary;
pub mod upgrade;
pub mod validate;

pub use merge::{MergeError, MergeRules, Merger};
pub use reader::{Event, Item, ItemKind, Limits, ReadError, ReadErrorKind};
