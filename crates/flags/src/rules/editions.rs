//! The editions of the Government Procurement Rules encoded here, with the
//! rule numbers and figures the checks cite. Each value was checked against
//! the Rules' text on procurement.govt.nz; what could not be checked is marked
//! in `docs/indicators/GPR-*.md` ("not verified against the text").

use jiff::civil::{date, Date};

/// One edition of the Rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Edition {
    /// The edition number: 4, 5.
    pub number: u8,
    /// As findings cite it: "4th edition (2019)".
    pub name: &'static str,
    /// As reasons cite it: "4th edition".
    pub short: &'static str,
    /// The first day the edition applies to.
    pub in_force: Date,
    /// The requirement to openly advertise on GETS.
    pub open_advertising: &'static str,
    pub opt_outs: &'static str,
    pub exemptions: &'static str,
    pub award_notice: &'static str,
    /// Where the edition forbids dividing a procurement to avoid the Rules.
    pub non_avoidance: &'static str,
    /// NZ$ (excluding GST) at or over which goods, services and refurbishment
    /// works must be openly advertised.
    pub goods_services_threshold: f64,
    /// NZ$ (excluding GST) for new construction works.
    pub new_construction_threshold: f64,
    /// The contract award notice is due within this many business days of all
    /// parties signing the contract.
    pub award_notice_business_days: i64,
    /// Whether an opt-out procurement needs a contract award notice: not in the
    /// 4th edition (Rule 48.1 excepts opt-outs under Rule 12), yes in the 5th
    /// (Rule 11: "Agencies must publish a Contract Award Notice (Rule 32) on
    /// GETS for a procurement that it has exercised an opt-out").
    pub opt_out_needs_award_notice: bool,
}

/// Every encoded edition, oldest first.
pub static EDITIONS: [Edition; 2] = [
    Edition {
        number: 4,
        name: "4th edition (2019)",
        short: "4th edition",
        in_force: date(2019, 10, 1),
        open_advertising: "Rule 13",
        opt_outs: "Rule 12",
        exemptions: "Rule 14",
        award_notice: "Rule 48",
        non_avoidance: "Rule 9",
        goods_services_threshold: 100_000.0,
        new_construction_threshold: 9_000_000.0,
        award_notice_business_days: 30,
        opt_out_needs_award_notice: false,
    },
    Edition {
        number: 5,
        name: "5th edition (2025)",
        short: "5th edition",
        in_force: date(2025, 12, 1),
        open_advertising: "Rule 10",
        opt_outs: "Rule 11",
        exemptions: "Rule 12",
        award_notice: "Rule 32",
        // Rule 7 (estimating the monetary value) asks for a good-faith
        // estimate of the whole procurement; an explicit ban on dividing it
        // was not found in the 5th edition's text we could read.
        non_avoidance: "Rule 7",
        goods_services_threshold: 100_000.0,
        new_construction_threshold: 9_000_000.0,
        award_notice_business_days: 30,
        opt_out_needs_award_notice: true,
    },
];

/// The edition in force on a date, or `None` before 1 October 2019 (earlier
/// editions, the Government Rules of Sourcing, are not encoded).
pub fn edition_for(day: Date) -> Option<&'static Edition> {
    EDITIONS.iter().rev().find(|e| day >= e.in_force)
}
