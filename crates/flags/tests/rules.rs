//! The Government Procurement Rules checks, on hand-made releases for every
//! branch; the holiday calculator against known dates; the examples in
//! `docs/indicators/GPR-*.md`; and the synthetic NZ sample data.

use jiff::civil::{date, Date};
use serde_json::{json, Value};
use tuwhera_flags::rules::holidays::{
    business_days_after, easter_sunday, is_business_day, matariki, nz_date, public_holidays,
};
use tuwhera_flags::rules::{
    check_process, check_releases, check_splitting, edition_for, Finding, Outcome, RulesSettings,
    Splitting, CHECKS,
};

// ---------------------------------------------------------------- helpers

/// A compliant process under the 4th edition: goods, NZ$150,000, openly
/// advertised, contract signed 2024-01-31, award notice published 2024-03-14
/// (30 business days later, across Waitangi Day), every notice item present.
fn base() -> Value {
    json!({
        "ocid": "ocds-tuwhnz-test-1",
        "id": "test-1",
        "date": "2024-03-20T10:00:00+13:00",
        "tag": ["compiled"],
        "initiationType": "tender",
        "parties": [
            {
                "id": "NZ-NZBN-9429000000001",
                "name": "Ministry of Testing",
                "roles": ["buyer", "procuringEntity"],
                "identifier": {"scheme": "NZ-NZBN", "id": "9429000000001"},
                "address": {"streetAddress": "1 The Terrace", "locality": "Wellington", "postalCode": "6011", "countryName": "New Zealand"}
            },
            {
                "id": "NZ-NZBN-9429000000002",
                "name": "Example Supplies Ltd",
                "roles": ["supplier", "tenderer"],
                "identifier": {"scheme": "NZ-NZBN", "id": "9429000000002"},
                "address": {"streetAddress": "2 Queen Street", "locality": "Auckland", "postalCode": "1010", "countryName": "New Zealand"}
            }
        ],
        "buyer": {"id": "NZ-NZBN-9429000000001", "name": "Ministry of Testing"},
        "tender": {
            "id": "t1",
            "title": "Office furniture",
            "description": "Desks and chairs",
            "status": "complete",
            "mainProcurementCategory": "goods",
            "procurementMethod": "open",
            "value": {"amount": 150000, "currency": "NZD"},
            "tenderPeriod": {"startDate": "2023-11-01T09:00:00+13:00", "endDate": "2023-12-01T17:00:00+13:00"}
        },
        "awards": [{
            "id": "a1",
            "status": "active",
            "date": "2024-01-25T00:00:00+13:00",
            "description": "Desks and chairs for level 3",
            "value": {"amount": 150000, "currency": "NZD"},
            "suppliers": [{"id": "NZ-NZBN-9429000000002", "name": "Example Supplies Ltd"}],
            "contractPeriod": {"startDate": "2024-02-01", "endDate": "2025-01-31"},
            "documents": [{"id": "n1", "documentType": "awardNotice", "datePublished": "2024-03-14T10:00:00+13:00"}]
        }],
        "contracts": [{
            "id": "c1",
            "awardID": "a1",
            "status": "active",
            "dateSigned": "2024-01-31T15:00:00+13:00",
            "period": {"startDate": "2024-02-01", "endDate": "2025-01-31"},
            "value": {"amount": 150000, "currency": "NZD"}
        }]
    })
}

fn set(v: &mut Value, pointer: &str, x: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"))
        .insert(key.to_string(), x);
}

fn del(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"))
        .remove(key);
}

fn with(changes: &[(&str, Value)]) -> Value {
    let mut v = base();
    for (p, x) in changes {
        set(&mut v, p, x.clone());
    }
    v
}

fn run(release: &Value) -> Vec<Finding> {
    check_process(release, &RulesSettings::default())
}

fn one(release: &Value, code: &str) -> Finding {
    run(release)
        .into_iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} finding"))
}

/// A limited (not advertised) process of a value and category.
fn limited(amount: f64, category: &str) -> Value {
    with(&[
        ("/tender/procurementMethod", json!("limited")),
        ("/tender/mainProcurementCategory", json!(category)),
        (
            "/tender/value",
            json!({"amount": amount, "currency": "NZD"}),
        ),
    ])
}

// ---------------------------------------------------------------- holidays

#[test]
fn easter_by_computus() {
    assert_eq!(easter_sunday(2024), Some(date(2024, 3, 31)));
    assert_eq!(easter_sunday(2025), Some(date(2025, 4, 20)));
    assert_eq!(easter_sunday(2019), Some(date(2019, 4, 21)));
    assert_eq!(easter_sunday(2000), Some(date(2000, 4, 23)));
    assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
    assert_eq!(easter_sunday(1500), None);
}

#[test]
fn matariki_from_the_schedule() {
    assert_eq!(matariki(2022), Some(date(2022, 6, 24)));
    assert_eq!(matariki(2024), Some(date(2024, 6, 28)));
    assert_eq!(matariki(2025), Some(date(2025, 6, 20)));
    assert_eq!(matariki(2052), Some(date(2052, 6, 21)));
    assert_eq!(matariki(2021), None);
    assert_eq!(matariki(2053), None);
    // The Act puts every Matariki on a Friday.
    for y in 2022..=2052 {
        let d = matariki(y).expect("scheduled");
        assert_eq!(d.weekday(), jiff::civil::Weekday::Friday, "{d}");
    }
}

fn holidays(year: i16) -> Vec<(Date, &'static str)> {
    public_holidays(year)
        .into_iter()
        .map(|h| (h.date, h.name))
        .collect()
}

#[test]
fn holidays_2024() {
    assert_eq!(
        holidays(2024),
        vec![
            (date(2024, 1, 1), "New Year's Day"),
            (date(2024, 1, 2), "Day after New Year's Day"),
            (date(2024, 2, 6), "Waitangi Day"),
            (date(2024, 3, 29), "Good Friday"),
            (date(2024, 4, 1), "Easter Monday"),
            (date(2024, 4, 25), "Anzac Day"),
            (date(2024, 6, 3), "Sovereign's Birthday"),
            (date(2024, 6, 28), "Matariki"),
            (date(2024, 10, 28), "Labour Day"),
            (date(2024, 12, 25), "Christmas Day"),
            (date(2024, 12, 26), "Boxing Day"),
        ]
    );
}

#[test]
fn mondayisation() {
    let h2021 = holidays(2021);
    // Waitangi Day 2021 was a Saturday: taken on Monday 8 February.
    assert!(h2021.contains(&(date(2021, 2, 8), "Waitangi Day")));
    // Anzac Day 2021 was a Sunday: Monday 26 April.
    assert!(h2021.contains(&(date(2021, 4, 26), "Anzac Day")));
    // Christmas 2021 on a Saturday → Monday 27; Boxing Day on Sunday → Tuesday 28.
    assert!(h2021.contains(&(date(2021, 12, 27), "Christmas Day")));
    assert!(h2021.contains(&(date(2021, 12, 28), "Boxing Day")));
    // Anzac Day 2020 was a Saturday: Monday 27 April.
    assert!(holidays(2020).contains(&(date(2020, 4, 27), "Anzac Day")));
    // Before 2014 Waitangi Day on a weekend was not moved (2012: Monday anyway;
    // 2011: Sunday, no weekday holiday).
    assert!(!holidays(2011).iter().any(|(_, n)| *n == "Waitangi Day"));
    // 1 January 2022 a Saturday → Monday 3; 2 January a Sunday → Tuesday 4.
    let h2022 = holidays(2022);
    assert!(h2022.contains(&(date(2022, 1, 3), "New Year's Day")));
    assert!(h2022.contains(&(date(2022, 1, 4), "Day after New Year's Day")));
    // Christmas 2022 a Sunday: Boxing Day keeps Monday 26, Christmas → Tuesday 27.
    assert!(h2022.contains(&(date(2022, 12, 26), "Boxing Day")));
    assert!(h2022.contains(&(date(2022, 12, 27), "Christmas Day")));
    // 1 January 2023 a Sunday: 2 January keeps Monday, New Year's Day → Tuesday 3.
    let h2023 = holidays(2023);
    assert!(h2023.contains(&(date(2023, 1, 2), "Day after New Year's Day")));
    assert!(h2023.contains(&(date(2023, 1, 3), "New Year's Day")));
    // King's Birthday 2023: first Monday of June; Labour Day: fourth Monday of October.
    assert!(h2023.contains(&(date(2023, 6, 5), "Sovereign's Birthday")));
    assert!(h2023.contains(&(date(2023, 10, 23), "Labour Day")));
}

#[test]
fn business_days() {
    // Weekends and holidays are not business days; the Christmas close is not.
    assert!(is_business_day(date(2024, 2, 5)));
    assert!(!is_business_day(date(2024, 2, 6)));
    assert!(!is_business_day(date(2024, 2, 10)));
    assert!(!is_business_day(date(2024, 12, 30)));
    assert!(!is_business_day(date(2025, 1, 2)));
    assert!(is_business_day(date(2025, 1, 3)));
    // 2022: Mondayised 2 January on Tuesday 4 January is not a business day.
    assert!(!is_business_day(date(2022, 1, 4)));
    assert!(is_business_day(date(2022, 1, 5)));
    // Across Waitangi Day 2024.
    assert_eq!(
        business_days_after(date(2024, 1, 31), date(2024, 3, 14)),
        30
    );
    assert_eq!(
        business_days_after(date(2024, 1, 31), date(2024, 3, 15)),
        31
    );
    // Across Easter and Anzac Day 2024.
    assert_eq!(
        business_days_after(date(2024, 3, 27), date(2024, 5, 13)),
        30
    );
    assert_eq!(
        business_days_after(date(2024, 3, 27), date(2024, 5, 14)),
        31
    );
    // Weekends only.
    assert_eq!(business_days_after(date(2024, 8, 1), date(2024, 9, 12)), 30);
    assert_eq!(business_days_after(date(2024, 8, 1), date(2024, 9, 13)), 31);
    assert_eq!(business_days_after(date(2024, 8, 2), date(2024, 8, 5)), 1);
    // Across the Christmas close.
    assert_eq!(
        business_days_after(date(2024, 12, 20), date(2025, 1, 10)),
        8
    );
    // Not after: zero.
    assert_eq!(business_days_after(date(2024, 3, 14), date(2024, 3, 1)), 0);
}

#[test]
fn dates_in_new_zealand_time() {
    assert_eq!(nz_date("2024-03-14T11:30:00Z"), Some(date(2024, 3, 15)));
    assert_eq!(nz_date("2024-03-14T10:59:00Z"), Some(date(2024, 3, 14)));
    assert_eq!(nz_date("2024-07-14T12:00:00Z"), Some(date(2024, 7, 15)));
    assert_eq!(nz_date("2024-07-14T11:59:00Z"), Some(date(2024, 7, 14)));
    assert_eq!(
        nz_date("2024-03-14T10:00:00+13:00"),
        Some(date(2024, 3, 14))
    );
    assert_eq!(nz_date("2024-03-14"), Some(date(2024, 3, 14)));
}

// ---------------------------------------------------------------- editions

#[test]
fn editions_by_date() {
    assert_eq!(edition_for(date(2019, 9, 30)), None);
    assert_eq!(edition_for(date(2019, 10, 1)).map(|e| e.number), Some(4));
    assert_eq!(edition_for(date(2025, 11, 30)).map(|e| e.number), Some(4));
    assert_eq!(edition_for(date(2025, 12, 1)).map(|e| e.number), Some(5));
}

#[test]
fn each_edition_chosen_by_the_tender_period_start() {
    let fourth = with(&[(
        "/tender/tenderPeriod/startDate",
        json!("2025-11-30T09:00:00+13:00"),
    )]);
    let f = one(&fourth, "GPR-ADVERTISE");
    assert_eq!(
        (f.edition.as_str(), f.rule.as_str()),
        ("4th edition (2019)", "Rule 13")
    );
    assert_eq!(one(&fourth, "GPR-AWARD-NOTICE").rule, "Rule 48");
    let fifth = with(&[(
        "/tender/tenderPeriod/startDate",
        json!("2025-12-01T09:00:00+13:00"),
    )]);
    let f = one(&fifth, "GPR-ADVERTISE");
    assert_eq!(
        (f.edition.as_str(), f.rule.as_str()),
        ("5th edition (2025)", "Rule 10")
    );
    assert_eq!(one(&fifth, "GPR-AWARD-NOTICE").rule, "Rule 32");
    assert_eq!(one(&fifth, "GPR-NOTICE-CONTENT").rule, "Rule 32");
}

#[test]
fn edition_falls_back_to_the_award_date() {
    let mut v = base();
    del(&mut v, "/tender/tenderPeriod");
    set(&mut v, "/awards/0/date", json!("2026-02-01T00:00:00+13:00"));
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.edition, "5th edition (2025)");
    assert_eq!(f.details["date_source"], "awards[].date");
}

#[test]
fn before_the_fourth_edition_is_not_applicable() {
    let v = with(&[(
        "/tender/tenderPeriod/startDate",
        json!("2019-09-30T09:00:00+13:00"),
    )]);
    for f in run(&v) {
        assert_eq!(f.outcome, Outcome::NotApplicable);
        assert_eq!(f.edition, "");
        assert!(f.reason.contains("before the 4th edition"), "{}", f.reason);
    }
}

// ---------------------------------------------------------------- GPR-ADVERTISE

#[test]
fn advertise_goods_thresholds_both_editions() {
    for start in ["2024-01-10T09:00:00+13:00", "2026-01-10T09:00:00+13:00"] {
        let at = |amount: f64| {
            let mut v = limited(amount, "goods");
            set(&mut v, "/tender/tenderPeriod/startDate", json!(start));
            one(&v, "GPR-ADVERTISE")
        };
        let under = at(99_999.99);
        assert_eq!(under.outcome, Outcome::NotApplicable);
        assert!(
            under.reason.contains("under the NZ$100,000 threshold"),
            "{}",
            under.reason
        );
        assert_eq!(at(100_000.0).outcome, Outcome::NotMet);
        let over = at(100_000.01);
        assert_eq!(over.outcome, Outcome::NotMet);
        assert!(
            over.reason.starts_with("NZ$100,000.01 for goods"),
            "{}",
            over.reason
        );
    }
}

#[test]
fn advertise_services_threshold() {
    assert_eq!(
        one(&limited(99_999.0, "services"), "GPR-ADVERTISE").outcome,
        Outcome::NotApplicable
    );
    assert_eq!(
        one(&limited(100_001.0, "services"), "GPR-ADVERTISE").outcome,
        Outcome::NotMet
    );
}

#[test]
fn advertise_works_thresholds_both_editions() {
    for start in ["2024-01-10T09:00:00+13:00", "2026-01-10T09:00:00+13:00"] {
        let at = |amount: f64| {
            let mut v = limited(amount, "works");
            set(&mut v, "/tender/tenderPeriod/startDate", json!(start));
            one(&v, "GPR-ADVERTISE")
        };
        let under = at(8_999_999.0);
        assert_eq!(under.outcome, Outcome::NotApplicable);
        assert!(
            under.reason.contains("new construction works"),
            "{}",
            under.reason
        );
        let over = at(9_000_001.0);
        assert_eq!(over.outcome, Outcome::NotMet);
        assert_eq!(over.details["threshold"], json!(9_000_000.0));
        assert_eq!(at(9_000_000.0).outcome, Outcome::NotMet);
    }
}

#[test]
fn refurbishment_works_use_the_lower_threshold() {
    let mut v = limited(150_000.0, "works");
    set(&mut v, "/tender/title", json!("Refurbishment of level 2"));
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert_eq!(f.details["category"], "refurbishment works");
}

#[test]
fn unstated_category() {
    let mut v = limited(150_000.0, "goods");
    del(&mut v, "/tender/mainProcurementCategory");
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::NotApplicable);
    assert!(
        f.reason.contains("No mainProcurementCategory"),
        "{}",
        f.reason
    );
    set(&mut v, "/tender/value/amount", json!(9_500_000));
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::NotMet);
    set(&mut v, "/tender/value/amount", json!(50_000));
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::NotApplicable);
}

#[test]
fn advertise_open_is_met() {
    let f = one(&base(), "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(
        f.reason,
        "NZ$150,000 for goods, at or over the NZ$100,000 threshold, was openly advertised (procurementMethod open) (Rule 13, 4th edition)."
    );
}

#[test]
fn exemption_recorded_or_not() {
    let mut v = limited(250_000.0, "services");
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert!(
        f.reason
            .contains("records no exemption (Rule 14) or opt-out (Rule 12)"),
        "{}",
        f.reason
    );

    set(
        &mut v,
        "/tender/procurementMethodRationale",
        json!("Only one supplier holds the licence (unique supplier)."),
    );
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(f.details["justification"], "exemption");
    assert!(
        f.reason.contains("exemption (Rule 14, 4th edition)"),
        "{}",
        f.reason
    );

    // Marked in procurementMethodDetails only.
    let mut v = limited(250_000.0, "services");
    set(
        &mut v,
        "/tender/procurementMethodDetails",
        json!("Direct source (exemption from open advertising)"),
    );
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::Met);
    // Details that do not name an exemption do not count.
    set(
        &mut v,
        "/tender/procurementMethodDetails",
        json!("Direct source"),
    );
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::NotMet);
    // An opt-out.
    set(
        &mut v,
        "/tender/procurementMethodDetails",
        json!("Opt-out: purchase from another agency"),
    );
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(f.details["justification"], "opt-out");
    assert!(
        f.reason.contains("opt-out (Rule 12, 4th edition)"),
        "{}",
        f.reason
    );
    // Selective is not open advertising either.
    let v = with(&[("/tender/procurementMethod", json!("selective"))]);
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::NotMet);
}

#[test]
fn no_method_is_not_applicable() {
    let mut v = base();
    del(&mut v, "/tender/procurementMethod");
    assert_eq!(one(&v, "GPR-ADVERTISE").outcome, Outcome::NotApplicable);
}

#[test]
fn currency_other_than_nzd_is_not_applicable() {
    let v = with(&[("/tender/value/currency", json!("AUD"))]);
    for f in run(&v) {
        assert_eq!(f.outcome, Outcome::NotApplicable);
        assert!(f.reason.contains("AUD, not NZD"), "{}", f.reason);
        assert_eq!(f.edition, "4th edition (2019)");
    }
    // Award values in another currency, no tender value.
    let mut v = base();
    del(&mut v, "/tender/value");
    set(&mut v, "/awards/0/value/currency", json!("USD"));
    assert!(one(&v, "GPR-ADVERTISE").reason.contains("USD"));
    // A setting may count another code as NZD.
    let v = with(&[("/tender/value/currency", json!("NZ$"))]);
    let settings = RulesSettings {
        nzd_currencies: vec!["NZD".into(), "NZ$".into()],
        ..RulesSettings::default()
    };
    let f = check_process(&v, &settings);
    assert_eq!(f[0].outcome, Outcome::Met);
}

#[test]
fn value_from_awards_when_no_tender_value() {
    let mut v = limited(1.0, "goods");
    del(&mut v, "/tender/value");
    set(&mut v, "/awards/0/value/amount", json!(60_000));
    let mut second = v["awards"][0].clone();
    set(&mut second, "/id", json!("a2"));
    set(&mut second, "/value/amount", json!(50_000));
    v["awards"].as_array_mut().expect("awards").push(second);
    let f = one(&v, "GPR-ADVERTISE");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert_eq!(f.details["amount"], json!(110_000.0));
    assert_eq!(f.details["value_source"], "awards[].value");
}

#[test]
fn cancelled_and_filtered() {
    let v = with(&[("/tender/status", json!("cancelled"))]);
    assert!(run(&v).iter().all(|f| f.outcome == Outcome::NotApplicable));
    let settings = RulesSettings {
        apply_to: tuwhera_flags::rules::ApplyTo {
            ocid_prefixes: vec!["ocds-other-".into()],
            buyer_ids: vec![],
        },
        ..RulesSettings::default()
    };
    assert!(check_process(&base(), &settings).is_empty());
    assert!(run(&json!([1, 2])).is_empty());
    assert!(run(&json!({"tender": {}})).is_empty());
}

#[test]
fn settings_defaults_and_unknown_fields() {
    let s: RulesSettings = serde_json::from_str("{}").expect("defaults");
    assert_eq!(s.window_days, 90);
    assert_eq!(s.nzd_currencies, vec!["NZD".to_string()]);
    assert!(serde_json::from_str::<RulesSettings>(r#"{"window_day": 30}"#).is_err());
    let s: RulesSettings = serde_json::from_str(
        r#"{"window_days": 30, "apply_to": {"ocid_prefixes": ["ocds-tuwhnz-"]}}"#,
    )
    .expect("settings");
    assert_eq!(s.window_days, 30);
}

#[test]
fn every_process_gets_three_findings_with_titles() {
    let codes: Vec<String> = run(&base()).into_iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        ["GPR-ADVERTISE", "GPR-AWARD-NOTICE", "GPR-NOTICE-CONTENT"]
    );
    for (code, _) in CHECKS {
        assert!(tuwhera_flags::title(code).is_some());
    }
    assert_eq!(CHECKS.len(), 4);
    for o in [Outcome::Met, Outcome::NotMet, Outcome::NotApplicable] {
        assert_eq!(serde_json::to_value(o).ok(), Some(json!(o.as_str())));
    }
}

// ---------------------------------------------------------------- GPR-AWARD-NOTICE

fn notice(signed: &str, published: &str) -> Finding {
    let v = with(&[
        ("/contracts/0/dateSigned", json!(signed)),
        ("/awards/0/documents/0/datePublished", json!(published)),
    ]);
    one(&v, "GPR-AWARD-NOTICE")
}

#[test]
fn notice_30_or_31_business_days_across_waitangi_day() {
    let f = notice("2024-01-31T15:00:00+13:00", "2024-03-14T10:00:00+13:00");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(
        f.reason,
        "The contract award notice was published on 2024-03-14, 30 business days after the contract was signed on 2024-01-31, within the 30 allowed (Rule 48, 4th edition)."
    );
    let f = notice("2024-01-31T15:00:00+13:00", "2024-03-15T10:00:00+13:00");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert_eq!(f.details["contracts"][0]["businessDays"], 31);
}

#[test]
fn notice_30_or_31_business_days_across_easter() {
    assert_eq!(notice("2024-03-27", "2024-05-13").outcome, Outcome::Met);
    assert_eq!(notice("2024-03-27", "2024-05-14").outcome, Outcome::NotMet);
}

#[test]
fn notice_30_or_31_business_days_across_weekends() {
    assert_eq!(notice("2024-08-01", "2024-09-12").outcome, Outcome::Met);
    assert_eq!(notice("2024-08-01", "2024-09-13").outcome, Outcome::NotMet);
}

#[test]
fn notice_date_read_in_new_zealand_time() {
    // 11:30 UTC on 14 March is 00:30 on 15 March in Wellington: 31 days.
    assert_eq!(
        notice("2024-01-31", "2024-03-14T10:30:00Z").outcome,
        Outcome::Met
    );
    assert_eq!(
        notice("2024-01-31", "2024-03-14T11:30:00Z").outcome,
        Outcome::NotMet
    );
}

#[test]
fn notice_before_signature_is_met() {
    let f = notice("2024-03-20", "2024-03-14");
    assert_eq!(f.outcome, Outcome::Met);
    assert!(
        f.reason.contains("not after the contract was signed"),
        "{}",
        f.reason
    );
}

#[test]
fn notice_date_from_an_award_release() {
    let mut v = base();
    del(&mut v, "/awards/0/documents");
    // A compiled release says nothing of when the notice was published.
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::NotApplicable);
    assert!(f.reason.contains("No publication date"), "{}", f.reason);
    // An award release is the notice: its date counts.
    set(&mut v, "/tag", json!(["award", "contract"]));
    set(&mut v, "/date", json!("2024-03-15T09:00:00+13:00"));
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert_eq!(f.details["contracts"][0]["noticeDateSource"], "date");
    // A contractNotice document on the contract counts too.
    let mut v = base();
    del(&mut v, "/awards/0/documents");
    set(
        &mut v,
        "/contracts/0/documents",
        json!([{"id": "n2", "documentType": "contractNotice", "datePublished": "2024-02-02"}]),
    );
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(f.details["contracts"][0]["businessDays"], 2);
}

#[test]
fn no_signature_date_or_no_award() {
    let mut v = base();
    del(&mut v, "/contracts/0/dateSigned");
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::NotApplicable);
    assert!(f.reason.contains("signature date"), "{}", f.reason);
    let v = with(&[("/awards/0/status", json!("pending"))]);
    for code in ["GPR-AWARD-NOTICE", "GPR-NOTICE-CONTENT"] {
        let f = one(&v, code);
        assert_eq!(f.outcome, Outcome::NotApplicable);
        assert!(f.reason.contains("No award has been made"), "{}", f.reason);
    }
}

#[test]
fn opt_out_needs_a_notice_in_the_fifth_edition_only() {
    let mut v = with(&[
        ("/tender/procurementMethod", json!("direct")),
        (
            "/tender/procurementMethodRationale",
            json!("Opt-out: goods bought from another government agency"),
        ),
        ("/awards/0/documents/0/datePublished", json!("2024-03-15")),
    ]);
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::NotApplicable);
    assert!(
        f.reason.contains("Rule 48.1 of the 4th edition"),
        "{}",
        f.reason
    );
    assert_eq!(
        one(&v, "GPR-NOTICE-CONTENT").outcome,
        Outcome::NotApplicable
    );
    set(
        &mut v,
        "/tender/tenderPeriod/startDate",
        json!("2025-12-02"),
    );
    set(&mut v, "/contracts/0/dateSigned", json!("2026-01-30"));
    set(
        &mut v,
        "/awards/0/documents/0/datePublished",
        json!("2026-04-30"),
    );
    let f = one(&v, "GPR-AWARD-NOTICE");
    assert_eq!(f.outcome, Outcome::NotMet);
    assert_eq!(f.rule, "Rule 32");
}

#[test]
fn under_threshold_needs_no_notice() {
    let v = with(&[("/tender/value/amount", json!(80_000))]);
    for f in run(&v) {
        assert_eq!(f.outcome, Outcome::NotApplicable, "{}", f.code);
    }
}

// ---------------------------------------------------------------- GPR-NOTICE-CONTENT

fn missing(v: &Value) -> Vec<String> {
    let f = one(v, "GPR-NOTICE-CONTENT");
    f.details["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|m| m.as_str().map(String::from))
        .collect()
}

#[test]
fn complete_notice_is_met() {
    let f = one(&base(), "GPR-NOTICE-CONTENT");
    assert_eq!(f.outcome, Outcome::Met);
    assert_eq!(f.details["checked"].as_array().map(Vec::len), Some(10));
}

/// A change to the base release.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn each_missing_content_item() {
    let cases: Vec<(&str, Change)> = vec![
        (
            "agency_name",
            Box::new(|v| {
                del(v, "/buyer/name");
                del(v, "/parties/0/name");
            }),
        ),
        ("agency_address", Box::new(|v| del(v, "/parties/0/address"))),
        (
            "supplier_name",
            Box::new(|v| {
                del(v, "/awards/0/suppliers/0/name");
                del(v, "/parties/1/name");
            }),
        ),
        (
            "supplier_address",
            Box::new(|v| del(v, "/parties/1/address")),
        ),
        (
            "supplier_nzbn",
            Box::new(|v| {
                set(
                    v,
                    "/parties/1/identifier",
                    json!({"scheme": "NZ-COY", "id": "123"}),
                )
            }),
        ),
        (
            "description",
            Box::new(|v| {
                del(v, "/awards/0/description");
                del(v, "/tender/description");
            }),
        ),
        ("award_date", Box::new(|v| del(v, "/awards/0/date"))),
        (
            "contract_term",
            Box::new(|v| {
                del(v, "/awards/0/contractPeriod");
                del(v, "/contracts/0/period");
            }),
        ),
        (
            "expected_spend",
            Box::new(|v| {
                del(v, "/awards/0/value");
                del(v, "/contracts/0/value");
            }),
        ),
        (
            "process_type",
            Box::new(|v| del(v, "/tender/procurementMethod")),
        ),
        (
            "justification",
            Box::new(|v| set(v, "/tender/procurementMethod", json!("limited"))),
        ),
    ];
    for (id, change) in cases {
        let mut v = base();
        change(&mut v);
        assert_eq!(missing(&v), vec![id.to_string()], "{id}");
        let f = one(&v, "GPR-NOTICE-CONTENT");
        assert_eq!(f.outcome, Outcome::NotMet, "{id}");
        assert!(
            f.reason.starts_with("The contract award notice lacks 1 of"),
            "{}",
            f.reason
        );
    }
}

#[test]
fn nzbn_among_additional_identifiers_counts() {
    let mut v = with(&[(
        "/parties/1/identifier",
        json!({"scheme": "NZ-COY", "id": "123"}),
    )]);
    set(
        &mut v,
        "/parties/1/additionalIdentifiers",
        json!([{"scheme": "NZ-NZBN", "id": "9429000000002"}]),
    );
    assert!(missing(&v).is_empty());
}

#[test]
fn several_missing_are_listed_in_order() {
    let mut v = with(&[("/tender/procurementMethod", json!("direct"))]);
    del(&mut v, "/parties/1/address");
    del(&mut v, "/awards/0/date");
    assert_eq!(
        missing(&v),
        ["supplier_address", "award_date", "justification"]
    );
    let f = one(&v, "GPR-NOTICE-CONTENT");
    assert_eq!(
        f.reason,
        "The contract award notice lacks 3 of 11 items checked: the supplier's address, the award date and the circumstances justifying the exemption or opt-out (Rule 48, 4th edition)."
    );
}

// ---------------------------------------------------------------- GPR-SPLITTING

/// A limited purchase by the test buyer from a supplier.
fn purchase(n: u32, awarded: &str, amount: f64, supplier: &str) -> Value {
    let mut v = limited(amount, "services");
    set(&mut v, "/ocid", json!(format!("ocds-tuwhnz-split-{n}")));
    del(&mut v, "/tender/tenderPeriod");
    set(&mut v, "/awards/0/date", json!(awarded));
    set(&mut v, "/awards/0/value/amount", json!(amount));
    set(&mut v, "/parties/1/identifier/id", json!(supplier));
    set(
        &mut v,
        "/parties/1/name",
        json!(format!("Supplier {supplier}")),
    );
    set(
        &mut v,
        "/awards/0/suppliers/0/name",
        json!(format!("Supplier {supplier}")),
    );
    v
}

fn splitting(releases: &[Value], settings: &RulesSettings) -> Vec<(String, Outcome)> {
    check_splitting(releases, settings)
        .into_iter()
        .map(|f| (f.ocid, f.outcome))
        .collect()
}

fn outcomes(releases: &[Value]) -> Vec<Outcome> {
    splitting(releases, &RulesSettings::default())
        .into_iter()
        .map(|(_, o)| o)
        .collect()
}

#[test]
fn splitting_within_the_window() {
    let r = [
        purchase(1, "2024-03-01", 40_000.0, "1"),
        purchase(2, "2024-04-15", 40_000.0, "1"),
        purchase(3, "2024-05-20", 40_000.0, "1"),
    ];
    assert_eq!(outcomes(&r), [Outcome::NotMet; 3]);
    let f = check_splitting(&r, &RulesSettings::default());
    assert_eq!(f[0].rule, "Rule 9");
    assert_eq!(
        f[0].reason,
        "NZ$40,000 for services is one of 3 awards by Ministry of Testing to Supplier 1 between 2024-03-01 and 2024-05-20 (80 days apart, window 90), each under the NZ$100,000 threshold but together NZ$120,000 (Rule 9, 4th edition)."
    );
    assert_eq!(
        f[0].details["runs"][0]["awards"].as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn splitting_outside_the_window() {
    let r = [
        purchase(1, "2024-03-01", 40_000.0, "1"),
        purchase(2, "2024-04-15", 40_000.0, "1"),
        purchase(3, "2024-06-10", 40_000.0, "1"),
    ];
    // 1 to 3 is 101 days; each pair inside the window totals NZ$80,000.
    assert_eq!(outcomes(&r), [Outcome::Met; 3]);
    // A longer window catches them.
    let wide = RulesSettings {
        window_days: 120,
        ..RulesSettings::default()
    };
    assert!(splitting(&r, &wide)
        .iter()
        .all(|(_, o)| *o == Outcome::NotMet));
}

#[test]
fn splitting_under_or_over_together() {
    let under = [
        purchase(1, "2024-03-01", 49_999.0, "1"),
        purchase(2, "2024-03-20", 50_000.0, "1"),
    ];
    assert_eq!(outcomes(&under), [Outcome::Met; 2]);
    let at = [
        purchase(1, "2024-03-01", 50_000.0, "1"),
        purchase(2, "2024-03-20", 50_000.0, "1"),
    ];
    assert_eq!(outcomes(&at), [Outcome::NotMet; 2]);
    // Another supplier does not add up with the first.
    let two = [
        purchase(1, "2024-03-01", 50_000.0, "1"),
        purchase(2, "2024-03-20", 50_000.0, "2"),
    ];
    assert_eq!(outcomes(&two), [Outcome::Met; 2]);
}

#[test]
fn splitting_leaves_out_what_cannot_be_split() {
    let mut open = purchase(3, "2024-03-10", 50_000.0, "1");
    set(&mut open, "/tender/procurementMethod", json!("open"));
    let mut foreign = purchase(4, "2024-03-10", 50_000.0, "1");
    set(&mut foreign, "/tender/value/currency", json!("USD"));
    let r = [
        purchase(1, "2024-03-01", 40_000.0, "1"),
        purchase(2, "2024-03-20", 150_000.0, "1"),
        open,
        foreign,
    ];
    let f = check_splitting(&r, &RulesSettings::default());
    let by: Vec<(&str, Outcome)> = f.iter().map(|f| (f.ocid.as_str(), f.outcome)).collect();
    assert_eq!(
        by,
        [
            ("ocds-tuwhnz-split-1", Outcome::Met),
            ("ocds-tuwhnz-split-2", Outcome::NotApplicable),
            ("ocds-tuwhnz-split-3", Outcome::NotApplicable),
            ("ocds-tuwhnz-split-4", Outcome::NotApplicable),
        ]
    );
    assert!(
        f[1].reason
            .contains("at or over the NZ$100,000 threshold itself"),
        "{}",
        f[1].reason
    );
    assert!(f[2].reason.contains("openly advertised"), "{}", f[2].reason);
    assert!(f[3].reason.contains("USD"), "{}", f[3].reason);
}

#[test]
fn splitting_is_order_independent_and_streams() {
    let r: Vec<Value> = (0..12)
        .map(|i| {
            let day = 1 + (i * 7) % 28;
            purchase(
                i,
                &format!("2024-0{}-{day:02}", 3 + i % 3),
                30_000.0,
                &format!("{}", i % 2),
            )
        })
        .collect();
    let settings = RulesSettings::default();
    let parallel = check_splitting(&r, &settings);
    // Folded one by one, backwards, in two halves merged.
    let mut a = Splitting::new();
    let mut b = Splitting::new();
    for (i, release) in r.iter().rev().enumerate() {
        if i % 2 == 0 {
            a.fold(release, &settings);
        } else {
            b.fold(release, &settings);
        }
    }
    let mut merged = Splitting::new();
    merged.merge(b);
    let streamed = merged.reduce(a).finish(&settings);
    assert_eq!(parallel, streamed);
    assert_eq!(parallel.len(), 12);
}

#[test]
fn check_releases_runs_all_four() {
    let r = [base(), purchase(1, "2024-03-01", 40_000.0, "1")];
    let f = check_releases(&r, &RulesSettings::default());
    assert_eq!(f.len(), 3 + 3 + 2);
    assert!(f.iter().any(|f| f.code == "GPR-SPLITTING"));
}

// ---------------------------------------------------------------- docs

fn docs() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/indicators"
    ))
}

/// The fenced code blocks in `text`: (info string, body).
fn fenced(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// Numbers compared as f64, so `100000` and `100000.0` are equal.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

const SECTIONS: &[&str] = &[
    "Definition",
    "Why it matters",
    "Fields used",
    "Settings",
    "Example",
    "Source",
];

#[test]
fn docs_examples_match() {
    let mut pages = 0;
    for entry in std::fs::read_dir(docs()).expect("docs/indicators") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let Some(code) = name.strip_suffix(".md").filter(|n| n.starts_with("GPR-")) else {
            continue;
        };
        pages += 1;
        let text = std::fs::read_to_string(&path).expect("page");
        let title = CHECKS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| panic!("{code} not in CHECKS"));
        assert!(
            text.starts_with(&format!("# {code} — {title}\n")),
            "{name}: first line must be `# {code} — {title}`"
        );
        let mut at = 0;
        for s in SECTIONS {
            let found = text[at..]
                .find(&format!("\n## {s}\n"))
                .unwrap_or_else(|| panic!("{name}: section {s} missing or out of order"));
            at += found + 1;
        }
        let example = &text[text.find("\n## Example\n").expect("example")..];
        let example = &example[..example[1..].find("\n## ").map_or(example.len(), |e| e + 1)];
        let blocks = fenced(example);
        let jsonl = blocks
            .iter()
            .find(|(info, _)| info == "jsonl")
            .unwrap_or_else(|| panic!("{name}: no jsonl block"));
        let expected = blocks
            .iter()
            .find(|(info, _)| info == "json")
            .unwrap_or_else(|| panic!("{name}: no json block"));
        let settings = blocks
            .iter()
            .find(|(info, _)| info == "toml")
            .map(|(_, body)| toml::from_str::<RulesSettings>(body).expect("settings"))
            .unwrap_or_default();
        let releases: Vec<Value> = jsonl
            .1
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
            .collect();
        let got: Vec<Finding> = if code == "GPR-SPLITTING" {
            check_splitting(&releases, &settings)
        } else {
            releases
                .iter()
                .flat_map(|r| check_process(r, &settings))
                .filter(|f| f.code == code)
                .collect()
        };
        let got = serde_json::to_value(&got).expect("findings");
        let want: Value =
            serde_json::from_str(&expected.1).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            normalise(&got),
            normalise(&want),
            "{name}: the example's output changed; got:\n{}",
            serde_json::to_string_pretty(&got).unwrap_or_default()
        );
        // Both outcomes are shown.
        for outcome in ["met", "not-met"] {
            assert!(
                got.as_array()
                    .is_some_and(|a| a.iter().any(|f| f["outcome"] == outcome)),
                "{name}: the example shows no {outcome} finding"
            );
        }
    }
    assert_eq!(pages, CHECKS.len(), "one page per check");
}

// ---------------------------------------------------------------- sample data

#[test]
fn synthetic_sample_exercises_every_branch() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/ocds/synthetic-nz/releases.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("sample data");
    let releases: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("release"))
        .collect();
    assert!(releases.len() >= 35, "{} releases", releases.len());
    for r in &releases {
        let ocid = r["ocid"].as_str().expect("ocid");
        assert!(ocid.starts_with("ocds-tuwhnz-"), "{ocid}");
        let title = r["tender"]["title"].as_str().expect("title");
        assert!(title.starts_with("SYNTHETIC"), "{ocid}: {title}");
    }
    let findings = check_releases(&releases, &RulesSettings::default());
    for (code, _) in CHECKS {
        for outcome in [Outcome::Met, Outcome::NotMet] {
            assert!(
                findings
                    .iter()
                    .any(|f| f.code == *code && f.outcome == outcome),
                "no {code} {outcome:?} in the sample"
            );
        }
    }
    let editions: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.edition.as_str()).collect();
    assert!(editions.contains("4th edition (2019)") && editions.contains("5th edition (2025)"));
}
