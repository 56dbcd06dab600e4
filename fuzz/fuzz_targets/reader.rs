//! Arbitrary bytes through the streaming reader, raw and as gzip, in whole
//! reads and in small ones. Besides "never panic, never hang", it checks that
//! the reader's output does not depend on how the input is delivered: gzip or
//! not, one read or many, the same items and errors at the same places.

#![no_main]

use std::io::{self, Read, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use tuwhera_ocds::reader::{read_all, Event, Limits};

/// Small limits, so that short inputs reach the too-deep and too-large paths.
const LIMITS: Limits = Limits {
    max_item_bytes: 512,
    max_depth: 16,
};

/// A reader that hands out at most `step` bytes per read, to move chunk boundaries.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.len().min(self.step).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// What must not depend on delivery: every event with its place and bytes.
fn summary(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Item(i) => format!(
                "item {:?} {}:{} #{} {:?} {:?}",
                i.kind,
                i.line,
                i.column,
                i.index,
                i.ocid,
                String::from_utf8_lossy(&i.raw)
            ),
            Event::Error(e) => format!("error {e}"),
            Event::Package(p) => format!(
                "package {:?} {}:{} {:?}",
                p.kind,
                p.line,
                p.column,
                String::from_utf8_lossy(&p.raw)
            ),
        })
        .collect()
}

/// Use every event as a caller would: parse items and package metadata, format errors.
fn consume(events: &[Event]) {
    for e in events {
        match e {
            Event::Item(item) => {
                let _ = item.location();
                match item.parse() {
                    Ok(v) => {
                        // An item the scanner found an ocid in is an object.
                        if item.ocid.is_some() {
                            assert!(v.is_object(), "{}: not an object", item.location());
                        }
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
            Event::Error(e) => {
                let _ = e.to_string();
                let _ = e.kind.code();
            }
            Event::Package(p) => {
                let _ = serde_json::from_slice::<serde_json::Value>(&p.raw);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = read_all("fuzz", data, LIMITS);
    consume(&whole);
    let expected = summary(&whole);

    // Delivery must not matter (only for inputs that are not gzip themselves, and
    // with no read error, whose message and place depend on the decoder).
    let comparable = !data.starts_with(&[0x1f, 0x8b]);
    if comparable {
        let step = 1 + data.first().map_or(0, |&b| usize::from(b % 7));
        let trickled = read_all("fuzz", Trickle { data, step }, LIMITS);
        assert_eq!(summary(&trickled), expected, "read {step} bytes at a time");

        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(data).unwrap();
        let gz = gz.finish().unwrap();
        let unzipped = read_all("fuzz", &gz[..], LIMITS);
        assert_eq!(summary(&unzipped), expected, "the same bytes gzipped");

        // A gzip cut short: what it yields is a prefix of the whole, then one error.
        let cut = &gz[..gz.len() * 2 / 3];
        let partial = read_all("fuzz", cut, LIMITS);
        consume(&partial);
        let partial = summary(&partial);
        let (last, before) = partial.split_last().expect("a cut gzip yields an error");
        assert!(
            last.contains("gzip stream is damaged or truncated"),
            "last event of a cut gzip: {last}"
        );
        assert_eq!(
            Some(before),
            expected.get(..before.len()),
            "a cut gzip yields a prefix"
        );
    }

    // As if gzip: a gzip header in front of arbitrary bytes (a damaged deflate stream).
    let mut fake = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    fake.extend_from_slice(data);
    consume(&read_all("fuzz", &fake[..], LIMITS));

    // And with the default limits, which real runs use.
    consume(&read_all("fuzz", data, Limits::default()));
});
