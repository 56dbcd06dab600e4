//! What the indicators do that Cardinal does not: lots judged one by one,
//! consortia recognised as winners, and bids in several currencies converted
//! (or the process counted as not judged, never dropped silently).

use serde_json::{json, Value};
use tuwhera_flags::{Engine, Settings};

/// Settings with only `code` on and a fixed threshold.
fn only(code: &str, threshold: f64) -> Settings {
    let mut s = Settings::default();
    for (c, _) in tuwhera_flags::INDICATORS {
        let on = *c == code;
        match *c {
            "R003" => s.r003.enabled = on,
            "R018" => s.r018.enabled = on,
            "R024" => s.r024.enabled = on,
            "R025" => s.r025.enabled = on,
            "R028" => s.r028.enabled = on,
            "R030" => s.r030.enabled = on,
            "R035" => s.r035.enabled = on,
            "R036" => s.r036.enabled = on,
            "R038" => s.r038.enabled = on,
            "R048" => s.r048.enabled = on,
            "R058" => s.r058.enabled = on,
            _ => {}
        }
    }
    s.r024.threshold = Some(threshold);
    s.r058.threshold = Some(threshold);
    s
}

fn bid(tenderers: &[&str], amount: f64, currency: &str, lot: Option<&str>) -> Value {
    let mut b = json!({
        "id": format!("{}-{amount}", tenderers.join("+")),
        "status": "valid",
        "value": {"amount": amount, "currency": currency},
        "tenderers": tenderers.iter().map(|t| json!({"id": t})).collect::<Vec<_>>(),
    });
    if let Some(l) = lot {
        b["relatedLots"] = json!([l]);
    }
    b
}

fn lots_process() -> Value {
    json!({
        "ocid": "ocds-lots01-1",
        "tender": {"id": "t", "lots": [{"id": "1"}, {"id": "2"}]},
        "awards": [
            {"id": "a1", "status": "active", "relatedLots": ["1"], "suppliers": [{"id": "A"}]},
            {"id": "a2", "status": "active", "relatedLots": ["2"], "suppliers": [{"id": "B"}]}
        ],
        "bids": {"details": [
            bid(&["A"], 100.0, "NZD", Some("1")),
            bid(&["C"], 101.0, "NZD", Some("1")),
            bid(&["B"], 100.0, "NZD", Some("2")),
            bid(&["D"], 200.0, "NZD", Some("2")),
        ]}
    })
}

#[test]
fn each_lot_is_its_own_competition() {
    // Two active awards: Cardinal judges neither; we judge each lot.
    let r024 = Engine::new(only("R024", 0.05)).run(&[lots_process()]);
    assert_eq!(r024.flags.len(), 1, "{:?}", r024.flags);
    assert_eq!(r024.flags[0].details["lot"], "1");
    assert!(
        r024.flags[0].reason.starts_with("Lot 1: "),
        "{}",
        r024.flags[0].reason
    );
    assert!((r024.flags[0].value - 0.01).abs() < 1e-12);

    let r058 = Engine::new(only("R058", 0.5)).run(&[lots_process()]);
    assert_eq!(r058.flags.len(), 1);
    assert_eq!(r058.flags[0].details["lot"], "2");
    assert_eq!(r058.flags[0].organisations, ["B"]);

    // Without lot references the process has two awards and one competition
    // cannot be told from the other: nothing is judged.
    let mut unlotted = lots_process();
    for b in unlotted["bids"]["details"].as_array_mut().unwrap() {
        b.as_object_mut().unwrap().remove("relatedLots");
    }
    assert!(Engine::new(only("R024", 0.05))
        .run(&[unlotted])
        .flags
        .is_empty());
}

#[test]
fn a_consortium_wins_as_one() {
    let process = json!({
        "ocid": "ocds-cons01-1",
        "awards": [{"id": "a", "status": "active", "suppliers": [{"id": "A"}, {"id": "B"}]}],
        "bids": {"details": [bid(&["A", "B"], 100.0, "NZD", None), bid(&["C"], 102.0, "NZD", None)]}
    });
    let out = Engine::new(only("R024", 0.05)).run(&[process]);
    assert_eq!(out.flags.len(), 1);
    assert_eq!(out.flags[0].details["winner"], "A+B");
    assert_eq!(out.flags[0].details["runnerUp"], "C");
}

#[test]
fn currencies_are_converted_or_the_process_is_counted_as_not_judged() {
    let process = json!({
        "ocid": "ocds-cur001-1",
        "awards": [{"id": "a", "status": "active", "suppliers": [{"id": "A"}]}],
        "bids": {"details": [bid(&["A"], 100.0, "USD", None), bid(&["C"], 171.0, "NZD", None)]}
    });
    // No rate: not compared, and said so.
    let out = Engine::new(only("R024", 0.05)).run(std::slice::from_ref(&process));
    assert!(out.flags.is_empty());
    let note = out.notes.iter().find(|n| n.code == "R024").expect("a note");
    assert_eq!(
        (note.reason.as_str(), note.processes),
        ("bids in several currencies and no rate for USD", 1)
    );

    // With a rate: 100 USD = 170 NZD, so the runner-up is 0.59 % above.
    let mut settings = only("R024", 0.05);
    settings.currency = Some("NZD".into());
    settings.currency_rates.insert("USD".into(), 1.7);
    let out = Engine::new(settings).run(&[process]);
    assert_eq!(out.flags.len(), 1, "{:?}", out.notes);
    assert!((out.flags[0].value - (171.0 - 170.0) / 170.0).abs() < 1e-12);
    assert!(out.notes.iter().all(|n| n.code != "R024"));
}
