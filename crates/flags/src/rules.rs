//! placeholder
pub const CHECKS: &[(&str, &str)] = &[];
