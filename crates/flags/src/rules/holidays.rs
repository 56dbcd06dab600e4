//! New Zealand public holidays and the Government Procurement Rules' business
//! day, written by hand.
//!
//! Why by hand: the holiday crates we looked at either leave out Matariki
//! (its dates come from a schedule in an Act, not from a formula), or do not
//! "Mondayise" Waitangi Day and Anzac Day (only since 2014), or pull in a large
//! multi-country dependency for eleven dates a year. The rules are short and
//! stable, and a test pins each one to known dates.
//!
//! Sources: Holidays Act 2003 ss 43–45A (the national holidays and their
//! transfer to a Monday or Tuesday), Te Kāhui o Matariki Public Holiday Act
//! 2022 (schedule of Matariki dates 2022–2052), and Rule 32 of the Government
//! Procurement Rules, 4th edition ("Business day"), which also excludes "all
//! days between Boxing Day and the day after New Year's Day". Provincial
//! anniversary days are not national holidays and the Rule counts only
//! national ones, so they are left out.

use std::collections::BTreeMap;

use jiff::civil::{self, date, Date, Weekday};
use jiff::tz::Offset;
use jiff::Timestamp;

/// One observed public holiday: the weekday on which it is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: &'static str,
}

/// Matariki, from the schedule of Te Kāhui o Matariki Public Holiday Act 2022.
/// Dates after 2052 are to be set by Order in Council and are not known yet, so
/// a year outside the table has no Matariki holiday here.
const MATARIKI: [(i16, i8, i8); 31] = [
    (2022, 6, 24),
    (2023, 7, 14),
    (2024, 6, 28),
    (2025, 6, 20),
    (2026, 7, 10),
    (2027, 6, 25),
    (2028, 7, 14),
    (2029, 7, 6),
    (2030, 6, 21),
    (2031, 7, 11),
    (2032, 7, 2),
    (2033, 6, 24),
    (2034, 7, 7),
    (2035, 6, 29),
    (2036, 7, 18),
    (2037, 7, 10),
    (2038, 6, 25),
    (2039, 7, 15),
    (2040, 7, 6),
    (2041, 7, 19),
    (2042, 7, 11),
    (2043, 7, 3),
    (2044, 6, 24),
    (2045, 7, 7),
    (2046, 6, 29),
    (2047, 7, 19),
    (2048, 7, 3),
    (2049, 6, 25),
    (2050, 7, 15),
    (2051, 6, 30),
    (2052, 6, 21),
];

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian computus,
/// Meeus/Jones/Butcher). `None` before 1583, when the calendar did not exist.
pub fn easter_sunday(year: i16) -> Option<Date> {
    if year < 1583 {
        return None;
    }
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The Matariki public holiday of a year, if the Act's schedule has one.
pub fn matariki(year: i16) -> Option<Date> {
    MATARIKI
        .iter()
        .find(|(y, _, _)| *y == year)
        .and_then(|&(y, m, d)| Date::new(y, m, d).ok())
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn add_days(d: Date, days: i64) -> Option<Date> {
    d.checked_add(jiff::Span::new().try_days(days).ok()?).ok()
}

/// The Monday on or after a weekend day (Waitangi Day and Anzac Day rule).
fn monday_after(d: Date) -> Option<Date> {
    match d.weekday() {
        Weekday::Saturday => add_days(d, 2),
        Weekday::Sunday => add_days(d, 1),
        _ => Some(d),
    }
}

/// Christmas/Boxing Day and New Year/2 January: a day falling on a weekend is
/// taken on the next weekday not already a holiday (Holidays Act 2003 s 45).
/// Days already on a weekday keep their place first, so 25 December on a
/// Sunday is taken on Tuesday 27 December (Boxing Day keeps Monday 26).
fn pair(first: Date, second: Date, names: [&'static str; 2]) -> Vec<Holiday> {
    let mut taken: Vec<Holiday> = Vec::new();
    let days = [(first, names[0]), (second, names[1])];
    for &(date, name) in days.iter().filter(|(d, _)| !is_weekend(*d)) {
        taken.push(Holiday { date, name });
    }
    for &(d, name) in days.iter().filter(|(d, _)| is_weekend(*d)) {
        let mut next = d;
        // At most a few steps: past the weekend and past the other day.
        for _ in 0..7 {
            let Some(n) = add_days(next, 1) else { break };
            next = n;
            if !is_weekend(next) && !taken.iter().any(|h| h.date == next) {
                taken.push(Holiday { date: next, name });
                break;
            }
        }
    }
    taken
}

/// The national public holidays of a year, on the weekdays they are observed,
/// sorted by date. A holiday falling on a weekend and not transferred (Waitangi
/// Day and Anzac Day before 2014) is left out: it is not a business day anyway.
pub fn public_holidays(year: i16) -> Vec<Holiday> {
    let mut out = Vec::new();
    let mut push = |d: Option<Date>, name: &'static str| {
        if let Some(d) = d.filter(|d| !is_weekend(*d)) {
            out.push(Holiday { date: d, name });
        }
    };
    let fixed = |m: i8, d: i8| Date::new(year, m, d).ok();
    // Waitangi Day and Anzac Day move to the Monday since 1 January 2014
    // (Holidays (Full Recognition of Waitangi Day and ANZAC Day) Amendment Act
    // 2013, s 45A).
    let transfer = |d: Option<Date>| {
        if year >= 2014 {
            d.and_then(monday_after)
        } else {
            d
        }
    };
    push(transfer(fixed(2, 6)), "Waitangi Day");
    let easter = easter_sunday(year);
    push(easter.and_then(|e| add_days(e, -2)), "Good Friday");
    push(easter.and_then(|e| add_days(e, 1)), "Easter Monday");
    push(transfer(fixed(4, 25)), "Anzac Day");
    push(
        fixed(6, 1).and_then(|d| d.nth_weekday_of_month(1, Weekday::Monday).ok()),
        "Sovereign's Birthday",
    );
    push(matariki(year), "Matariki");
    push(
        fixed(10, 1).and_then(|d| d.nth_weekday_of_month(4, Weekday::Monday).ok()),
        "Labour Day",
    );
    if let (Some(a), Some(b)) = (fixed(1, 1), fixed(1, 2)) {
        out.extend(pair(a, b, ["New Year's Day", "Day after New Year's Day"]));
    }
    if let (Some(a), Some(b)) = (fixed(12, 25), fixed(12, 26)) {
        out.extend(pair(a, b, ["Christmas Day", "Boxing Day"]));
    }
    out.sort_by_key(|h| h.date);
    out
}

/// Whether a day is in the Rules' Christmas–New Year close: 25 December to
/// 2 January. Rule 32 (4th edition) excludes the two holiday pairs and "all
/// days between Boxing Day and the day after New Year's Day".
pub fn in_christmas_close(d: Date) -> bool {
    (d.month() == 12 && d.day() >= 25) || (d.month() == 1 && d.day() <= 2)
}

/// Answers "is this a business day?" for many days, computing each year's
/// holidays once.
#[derive(Default)]
pub struct Calendar {
    years: BTreeMap<i16, Vec<Date>>,
}

impl Calendar {
    pub fn new() -> Calendar {
        Calendar::default()
    }

    pub fn is_public_holiday(&mut self, d: Date) -> bool {
        self.years
            .entry(d.year())
            .or_insert_with(|| public_holidays(d.year()).iter().map(|h| h.date).collect())
            .contains(&d)
    }

    /// A business day as Rule 32 (4th edition) defines it: not a Saturday or
    /// Sunday, not a national public holiday (as observed), not in the
    /// Christmas–New Year close.
    pub fn is_business_day(&mut self, d: Date) -> bool {
        !is_weekend(d) && !in_christmas_close(d) && !self.is_public_holiday(d)
    }

    /// The business days after `from` up to and including `to`: the count of
    /// "clear" business days Rule 32 asks for, the day of the event itself not
    /// counted. Zero when `to` is not after `from`.
    pub fn business_days_after(&mut self, from: Date, to: Date) -> i64 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            let Some(next) = add_days(d, 1) else { break };
            d = next;
            if self.is_business_day(d) {
                count += 1;
            }
        }
        count
    }
}

/// See [`Calendar::is_business_day`].
pub fn is_business_day(d: Date) -> bool {
    Calendar::new().is_business_day(d)
}

/// See [`Calendar::business_days_after`].
pub fn business_days_after(from: Date, to: Date) -> i64 {
    Calendar::new().business_days_after(from, to)
}

/// New Zealand's UTC offset in hours at an instant: NZDT (+13) from the last
/// Sunday of September at 02:00 NZST to the first Sunday of April at 03:00
/// NZDT, NZST (+12) otherwise — the rule in force since 2007, enough for the
/// editions encoded here (from 2019). Written out rather than read from a time
/// zone database so the result does not depend on the machine.
fn nz_offset_hours(ts: Timestamp) -> i8 {
    let standard = Offset::constant(12).to_datetime(ts);
    let year = standard.year();
    let sunday = |m: i8, nth: i8| {
        date(year, m, 1)
            .nth_weekday_of_month(nth, Weekday::Sunday)
            .ok()
            .map(|d| d.at(2, 0, 0, 0))
    };
    // Both changes happen at 02:00 standard time (03:00 NZDT is 02:00 NZST).
    match (sunday(4, 1), sunday(9, -1)) {
        (Some(end), Some(start)) if standard < end || standard >= start => 13,
        _ => 12,
    }
}

/// The New Zealand calendar date of an OCDS date: a timestamp with an offset
/// (`Z` or `+13:00`) is converted to New Zealand time; a date or date-time
/// without an offset is taken as already in New Zealand time.
pub fn nz_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(Offset::constant(nz_offset_hours(ts)).to_datetime(ts).date());
    }
    if let Ok(dt) = text.parse::<civil::DateTime>() {
        return Some(dt.date());
    }
    text.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nz_dates_cross_midnight_in_utc() {
        // 11:30 UTC on 31 Jan is 00:30 NZDT on 1 Feb.
        assert_eq!(nz_date("2024-01-31T11:30:00Z"), Some(date(2024, 2, 1)));
        // 12:30 UTC on 30 Jun is 00:30 NZST on 1 Jul.
        assert_eq!(nz_date("2024-06-30T12:30:00Z"), Some(date(2024, 7, 1)));
        assert_eq!(nz_date("2024-06-30T11:30:00Z"), Some(date(2024, 6, 30)));
        assert_eq!(nz_date("2024-02-01"), Some(date(2024, 2, 1)));
        assert_eq!(nz_date("not a date"), None);
    }
}
