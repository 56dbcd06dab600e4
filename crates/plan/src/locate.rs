//! Where a value is in a JSON text: the line and column of the value a JSONPath names, so that
//! a finding of [`crate::validate`] (which works on parsed values) can name its place in the
//! file it came from.

use crate::schema::child;

/// The line and column (both from 1; the column counts characters) where the value at `path`
/// starts in `text`, a JSONPath as [`crate::Finding::path`] writes it (`$.commitments[2].title`).
///
/// A path the text does not have (a missing property, say) gives the place of its nearest
/// ancestor that it has: the object the property is missing from. `None` only when the text is
/// not JSON up to that point.
pub fn position(text: &str, path: &str) -> Option<(usize, usize)> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: 0,
        line: 1,
        line_start: 0,
        want: path,
        best: None,
    };
    scanner.value("$").ok();
    scanner.best.map(|(_, place)| place)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    line: usize,
    line_start: usize,
    want: &'a str,
    /// The longest prefix of `want` seen so far, and where its value starts.
    best: Option<(usize, (usize, usize))>,
}

/// Whether `path` is `want` itself or one of its ancestors.
fn is_ancestor(path: &str, want: &str) -> bool {
    want == path
        || want
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                _ => break,
            }
        }
    }

    fn column(&self) -> usize {
        self.text
            .get(self.line_start..self.at)
            .map_or(1, |s| s.chars().count() + 1)
    }

    fn value(&mut self, path: &str) -> Result<(), ()> {
        self.skip_space();
        if is_ancestor(path, self.want) && self.best.is_none_or(|(len, _)| path.len() >= len) {
            self.best = Some((path.len(), (self.line, self.column())));
        }
        match self.bytes.get(self.at).ok_or(())? {
            b'{' => {
                self.at += 1;
                self.skip_space();
                if self.bytes.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    self.skip_space();
                    let key = self.string()?;
                    self.skip_space();
                    if self.bytes.get(self.at) != Some(&b':') {
                        return Err(());
                    }
                    self.at += 1;
                    self.value(&child(path, &key))?;
                    self.skip_space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'[' => {
                self.at += 1;
                self.skip_space();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(());
                }
                let mut index = 0;
                loop {
                    self.value(&format!("{path}[{index}]"))?;
                    index += 1;
                    self.skip_space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'"' => self.string().map(drop),
            _ => {
                // A number or a literal: everything up to the next delimiter.
                let start = self.at;
                while let Some(&b) = self.bytes.get(self.at) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.at += 1;
                }
                if self.at == start {
                    Err(())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// A string starting at the cursor, decoded (keys are compared decoded).
    fn string(&mut self) -> Result<String, ()> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(());
        }
        let start = self.at;
        self.at += 1;
        loop {
            match self.bytes.get(self.at).ok_or(())? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    break;
                }
                b'\n' => return Err(()),
                _ => self.at += 1,
            }
        }
        let raw = self.text.get(start..self.at).ok_or(())?;
        serde_json::from_str(raw).map_err(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::position;

    const TEXT: &str = "{\n  \"id\": \"x\",\n  \"commitments\": [\n    {\"number\": 1, \"title\": \"Tā\"},\n    {\"number\": 2}\n  ],\n  \"odd key\": true\n}\n";

    #[test]
    fn finds_values_by_path() {
        assert_eq!(position(TEXT, "$"), Some((1, 1)));
        assert_eq!(position(TEXT, "$.id"), Some((2, 9)));
        assert_eq!(position(TEXT, "$.commitments[0].title"), Some((4, 28)));
        assert_eq!(position(TEXT, "$.commitments[1]"), Some((5, 5)));
        assert_eq!(position(TEXT, "$[\"odd key\"]"), Some((7, 14)));
    }

    #[test]
    fn a_missing_member_is_placed_at_its_object() {
        assert_eq!(position(TEXT, "$.commitments[1].title"), Some((5, 5)));
        assert_eq!(position(TEXT, "$.commitments[7]"), Some((3, 18)));
    }
}
