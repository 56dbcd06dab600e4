//! Flattening (see below).
pub fn __placeholder() {}
