//! The message catalogue: every piece of interface text, by key, per language.
//!
//! A plain `key = text` file rather than Fluent: the pages need lookups and
//! `{name}` substitutions only, and translators can edit the file as it is.

use std::collections::HashMap;

/// One language's messages.
#[derive(Debug, Clone)]
pub struct Messages {
    pub lang: &'static str,
    map: HashMap<String, String>,
}

impl Messages {
    /// English, from `messages/en.txt` (built into the binary).
    pub fn english() -> Messages {
        Messages::parse("en", include_str!("../messages/en.txt"))
    }

    fn parse(lang: &'static str, text: &str) -> Messages {
        let map = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Messages { lang, map }
    }

    /// The text for `key`. A missing key shows as the key itself (and a test
    /// checks that every key the code uses is in the catalogue).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The text for `key` with `{name}` replaced by each value.
    pub fn f(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The message for `key`, or `fallback` when the catalogue has none (for
    /// keys built from data, such as a report's section names).
    pub fn t_or<'a>(&'a self, key: &str, fallback: &'a str) -> &'a str {
        self.map.get(key).map(String::as_str).unwrap_or(fallback)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("…")` and `f("…"` in the web crate's sources names a key of the catalogue.
    #[test]
    fn every_key_used_is_in_the_catalogue() {
        let m = Messages::english();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut used = 0;
        for entry in std::fs::read_dir(dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.ends_with("messages.rs") {
                continue; // this file's own tests use made-up keys
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for marker in [".t(\"", ".f(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let Some(end) = rest.find('"') else { continue };
                    let key = &rest[..end];
                    used += 1;
                    if !m.contains(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(used > 50, "found only {used} uses: is the scan broken?");
        assert!(
            missing.is_empty(),
            "keys missing from messages/en.txt: {missing:#?}"
        );
    }

    #[test]
    fn substitutes_values() {
        let m = Messages::english();
        assert_eq!(
            m.f("search.count", &[("n", "12")]),
            "12 contracting processes"
        );
        assert_eq!(m.t("no.such.key"), "no.such.key");
    }
}
