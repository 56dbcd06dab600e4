//! Beneficial Ownership Data Standard (BODS) 0.4: read statements as streams,
//! validate them (schema and the cross-statement rules), and resolve who
//! ultimately owns or controls an entity.
//!
//! Pure: this crate opens no database and no socket.

pub mod diagram;
pub mod graph;
pub mod privacy;
pub mod read;
pub mod upgrade;
pub mod validate;
