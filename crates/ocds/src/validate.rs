//! Validation (see below).
pub fn __placeholder() {}
