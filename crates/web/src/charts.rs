//! Charts drawn on the server as inline SVG, each with the same data as an
//! HTML table and as CSV.
//!
//! No chart library and no JavaScript: the content security policy forbids
//! scripts, and a chart here is a few rectangles and labels. Drawing them
//! ourselves is what lets the charts meet WCAG 2.1 AA:
//!
//! - the SVG is `role="img"`, named by its `<title>` and described by its
//!   `<desc>`, which states the finding in words (see [`summary_sentence`]);
//! - every chart comes with its data as a table and as CSV: some readers
//!   cannot use a picture at all, and a table reflows at any zoom;
//! - colours are the site's palette: bars `#0b3d5c` (11:1 against white,
//!   3:1 needed), text `#1b1b1b` and `#4a4a4a` (4.5:1 needed), white text
//!   only on a bar. They are presentation attributes rather than `style`
//!   attributes because the policy's `style-src 'self'` blocks the latter,
//!   and so that a copied SVG keeps them; the stylesheet overrides them in
//!   forced-colours mode;
//! - the SVG has a `viewBox` and `width="100%"`, so it scales to its
//!   container with crisp text at any zoom.
//!
//! Values are drawn from zero. Negative values are drawn as zero-length bars:
//! these charts show amounts, counts and rates, which are not negative in sound
//! data, and a two-sided axis is not worth its complexity here. Labels, the
//! table and the CSV still show the real value, so nothing is hidden.
//!
//! The few interface words ("No data", "Data table", "Download CSV") and the
//! number formats are English; [`Chart`]'s own texts come from the caller.

use std::borrow::Cow;

use maud::{html, Markup};

/// What the values measure; decides how numbers are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Unit {
    /// Things counted: whole numbers on the axis.
    #[default]
    Count,
    /// Amounts in the currency with this code, e.g. `DOP`.
    Money(String),
    /// Percentages already multiplied by 100: 12.5 means 12.5%.
    Percent,
}

/// How [`figure`] draws a chart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kind {
    /// Horizontal bars: for categories with long names (suppliers, shares).
    #[default]
    Bars,
    /// Vertical columns: for a series over time (spend per month).
    Columns,
}

/// One chart's data and words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    /// Identifies the chart on its page; element ids derive from it.
    pub id: String,
    pub title: String,
    /// The main finding in words. When empty, [`summary_sentence`] is used.
    pub description: String,
    /// Heading of the labels' column in the table and CSV, e.g. "Supplier".
    pub label_heading: String,
    /// Heading of the values' column, e.g. "Spend (DOP)"; also the axis title.
    pub value_heading: String,
    pub rows: Vec<(String, f64)>,
    pub unit: Unit,
    pub kind: Kind,
}

/// Width of every chart's coordinate system; the SVG scales to its container.
/// Narrow enough that the text stays legible when a phone shrinks the chart
/// to its width; the data table is there for anyone who still finds it small.
const WIDTH: f64 = 540.0;
const FONT: f64 = 15.0;
/// Rough advance of one character, so that labels can be fitted without a
/// font to measure. Generous, because an overlap is worse than a gap.
const CHAR_WIDTH: f64 = 0.6 * FONT;
const BAR: &str = "#0b3d5c";
const INK: &str = "#1b1b1b";
const MUTED: &str = "#4a4a4a";
const GRID: &str = "#b1b4b6";
const ON_BAR: &str = "#ffffff";
/// Longest label drawn beside a bar or under a column; the table has them whole.
const BAR_LABEL_CHARS: usize = 22;
const COLUMN_LABEL_CHARS: usize = 14;
/// Largest value drawn: beyond it the ticks would overflow to infinity.
const LARGEST: f64 = 1e300;
const NBSP: char = '\u{a0}';

const NO_DATA: &str = "No data";
const DATA_TABLE: &str = "Data table";
const DOWNLOAD_CSV: &str = "Download CSV";

/// The complete block a dashboard shows: caption, chart, data table and CSV link.
pub fn figure(chart: &Chart, csv_href: &str) -> Markup {
    let id = dom_id(&chart.id);
    html! {
        figure.chart id=(id) {
            figcaption {
                p.chart-title { (chart.title) }
                // An empty chart says "No data" once, in its body.
                @if !chart.rows.is_empty() || !chart.description.trim().is_empty() {
                    p.chart-desc { (description(chart)) }
                }
            }
            (match chart.kind {
                Kind::Bars => bar_chart(chart),
                Kind::Columns => column_chart(chart),
            })
            details.chart-data {
                summary { (DATA_TABLE) }
                (table(chart))
            }
            p.chart-csv {
                a href=(csv_href) download {
                    (DOWNLOAD_CSV)
                    // Several charts share a page: the hidden title tells their links apart.
                    span.visually-hidden { ": " (chart.title) }
                }
            }
        }
    }
}

/// Horizontal bars, one per row, in the rows' order. Every row gets its own
/// line, so pass the top few (up to 20 or so) and the rest as "Other".
pub fn bar_chart(chart: &Chart) -> Markup {
    if chart.rows.is_empty() {
        return no_data();
    }
    const TOP: f64 = 8.0;
    const ROW: f64 = 32.0;
    const BAR_HEIGHT: f64 = 22.0;
    let (ticks, axis_max) = axis(chart);
    let tick_text = tick_labels(&ticks, &chart.unit);
    let labels: Vec<String> = chart
        .rows
        .iter()
        .map(|(l, _)| truncate(l, BAR_LABEL_CHARS))
        .collect();
    let label_width = labels
        .iter()
        .map(|l| text_width(l))
        .fold(0.0, f64::max)
        .clamp(FONT, BAR_LABEL_CHARS as f64 * CHAR_WIDTH);
    let x0 = label_width + 12.0;
    // The last tick's label is centred on the axis end and must not be cut off.
    let last_tick_half = tick_text.last().map_or(0.0, |t| text_width(t) / 2.0);
    let x1 = WIDTH - last_tick_half.max(8.0) - 4.0;
    let plot_width = x1 - x0;
    let bottom = TOP + chart.rows.len() as f64 * ROW;
    let height = bottom + 56.0;
    // Side by side, tick labels can collide on a narrow plot: then every
    // other one is labelled, and every gridline still drawn.
    let spacing = plot_width / (ticks.len().max(2) - 1) as f64;
    let widest = tick_text.iter().map(|t| text_width(t)).fold(0.0, f64::max);
    let every = ((widest + 8.0) / spacing).ceil().max(1.0) as usize;
    let body = html! {
        @for (i, (t, text)) in ticks.iter().zip(&tick_text).enumerate() {
            @let x = x0 + t / axis_max * plot_width;
            line x1=(num(x)) x2=(num(x)) y1=(num(TOP)) y2=(num(bottom)) stroke=(GRID) stroke-width="1" {}
            @if i % every == 0 {
                text x=(num(x)) y=(num(bottom + 20.0)) text-anchor="middle" fill=(MUTED) { (text) }
            }
        }
        line x1=(num(x0)) x2=(num(x0)) y1=(num(TOP)) y2=(num(bottom)) stroke=(INK) stroke-width="1" {}
        @for (i, ((label, value), short)) in chart.rows.iter().zip(&labels).enumerate() {
            @let y = TOP + i as f64 * ROW;
            @let length = plotted(*value) / axis_max * plot_width;
            @let shown = format_compact(*value, &chart.unit);
            @let width = text_width(&shown);
            // Outside the bar when there is room, else inside it in white.
            @let inside = x0 + length + 6.0 + width > WIDTH && length > width + 12.0;
            g {
                title { (label) ": " (format_value(*value, &chart.unit)) }
                text x=(num(x0 - 8.0)) y=(num(y + ROW / 2.0)) dy="0.35em" text-anchor="end" fill=(INK) { (short) }
                rect.chart-bar x=(num(x0)) y=(num(y + (ROW - BAR_HEIGHT) / 2.0)) width=(num(length)) height=(num(BAR_HEIGHT)) fill=(BAR) {}
                @if inside {
                    text.chart-on-bar x=(num(x0 + length - 6.0)) y=(num(y + ROW / 2.0)) dy="0.35em" text-anchor="end" fill=(ON_BAR) { (shown) }
                } @else {
                    text x=(num(x0 + length + 6.0)) y=(num(y + ROW / 2.0)) dy="0.35em" fill=(INK) { (shown) }
                }
            }
        }
        text x=(num(x0 + plot_width / 2.0)) y=(num(bottom + 46.0)) text-anchor="middle" fill=(INK) { (chart.value_heading) }
    };
    svg(chart, height, body)
}

/// Vertical columns, one per row, left to right in the rows' order. Up to
/// 40 or so stay legible (three years of months); beyond that, aggregate.
pub fn column_chart(chart: &Chart) -> Markup {
    if chart.rows.is_empty() {
        return no_data();
    }
    const HEADING: f64 = 28.0;
    const PLOT_HEIGHT: f64 = 220.0;
    const BOTTOM: f64 = 32.0;
    let (ticks, axis_max) = axis(chart);
    let tick_text = tick_labels(&ticks, &chart.unit);
    let n = chart.rows.len() as f64;
    let left = tick_text.iter().map(|t| text_width(t)).fold(FONT, f64::max) + 14.0;
    let labels: Vec<String> = chart
        .rows
        .iter()
        .map(|(l, _)| truncate(l, COLUMN_LABEL_CHARS))
        .collect();
    let label_width = labels.iter().map(|l| text_width(l)).fold(0.0, f64::max);
    // The last column's label is centred on it and must not be cut off.
    let rough_band = (WIDTH - left - 12.0) / n;
    let right = (label_width / 2.0 - rough_band / 2.0 + 4.0).max(12.0);
    let plot_width = WIDTH - left - right;
    let band = plot_width / n;
    let column_width = (band * 0.7).min(64.0);
    // Label every k-th column when the labels would otherwise collide; the
    // table and each column's tooltip have them all.
    let every = ((label_width + 10.0) / band).ceil().max(1.0) as usize;
    let values: Vec<String> = chart
        .rows
        .iter()
        .map(|(_, v)| format_compact(*v, &chart.unit))
        .collect();
    let value_width = values.iter().map(|v| text_width(v)).fold(0.0, f64::max);
    // Value labels that are wider than a column are turned to run upwards.
    let upright = value_width + 4.0 > band;
    let top = HEADING + if upright { value_width + 10.0 } else { 22.0 };
    let base = top + PLOT_HEIGHT;
    let height = base + BOTTOM;
    let body = html! {
        text x="0" y="16" fill=(INK) { (chart.value_heading) }
        @for (t, text) in ticks.iter().zip(&tick_text) {
            @let y = base - t / axis_max * PLOT_HEIGHT;
            line x1=(num(left)) x2=(num(WIDTH - right)) y1=(num(y)) y2=(num(y)) stroke=(GRID) stroke-width="1" {}
            text x=(num(left - 8.0)) y=(num(y)) dy="0.35em" text-anchor="end" fill=(MUTED) { (text) }
        }
        @for (i, (((label, value), short), shown)) in chart.rows.iter().zip(&labels).zip(&values).enumerate() {
            @let cx = left + band * (i as f64 + 0.5);
            @let h = plotted(*value) / axis_max * PLOT_HEIGHT;
            @let y = base - h - 6.0;
            g {
                title { (label) ": " (format_value(*value, &chart.unit)) }
                rect.chart-bar x=(num(cx - column_width / 2.0)) y=(num(base - h)) width=(num(column_width)) height=(num(h)) fill=(BAR) {}
                @if upright {
                    text x=(num(cx)) y=(num(y)) dy="0.35em" transform=(format!("rotate(-90 {} {})", num(cx), num(y))) fill=(INK) { (shown) }
                } @else {
                    text x=(num(cx)) y=(num(y)) text-anchor="middle" fill=(INK) { (shown) }
                }
                @if i % every == 0 {
                    text x=(num(cx)) y=(num(base + 22.0)) text-anchor="middle" fill=(INK) { (short) }
                }
            }
        }
        line x1=(num(left)) x2=(num(WIDTH - right)) y1=(num(base)) y2=(num(base)) stroke=(INK) stroke-width="1" {}
    };
    svg(chart, height, body)
}

/// The chart's data as a table, complete: every label whole, every value exact.
pub fn table(chart: &Chart) -> Markup {
    html! {
        div.table-scroll {
            table.chart-table {
                caption { (chart.title) }
                thead {
                    tr {
                        th scope="col" { (chart.label_heading) }
                        th.num scope="col" { (chart.value_heading) }
                    }
                }
                tbody {
                    @for (label, value) in &chart.rows {
                        tr {
                            th scope="row" { (label) }
                            td.num { (format_value(*value, &chart.unit)) }
                        }
                    }
                    @if chart.rows.is_empty() {
                        tr { td colspan="2" { (NO_DATA) } }
                    }
                }
            }
        }
    }
}

/// The chart's data as CSV: a header row of the two headings, then one row
/// per data row with the value as a plain number (no separators, no unit),
/// so that spreadsheets read it as a number. RFC 4180 with CRLF row ends and
/// a UTF-8 byte order mark, like the bulk downloads: without the mark, Excel
/// on Windows mangles accented names.
pub fn csv(chart: &Chart) -> String {
    match write_csv(chart) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            // Writing to memory cannot fail; should the crate ever report an
            // error anyway, an empty file is better than a broken page.
            tracing::error!(error = %e, chart = %chart.id, "writing a chart's CSV");
            String::new()
        }
    }
}

fn write_csv(chart: &Chart) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record([&chart.label_heading, &chart.value_heading])?;
    for (label, value) in &chart.rows {
        // An unknown value is an empty cell, not "NaN" for a spreadsheet to choke on.
        let value = if value.is_finite() {
            // Sums of amounts carry float noise (1513284.5999999999); cents
            // are the finest unit any currency here publishes.
            ((value * 100.0).round() / 100.0).to_string()
        } else {
            String::new()
        };
        out.write_record([label, &value])?;
    }
    Ok(out.into_inner()?)
}

/// A default text alternative: the highest and lowest rows and the total,
/// e.g. "Highest: March 2022 (DOP 1.2 bn). Lowest: July 2021 (DOP 3.4 M).
/// Total: DOP 12 bn." Percentages get no total: rates and shares do not add
/// up to anything meaningful. Values that are not numbers are left out.
pub fn summary_sentence(chart: &Chart) -> String {
    let rows: Vec<(&str, f64)> = chart
        .rows
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(l, v)| (l.as_str(), *v))
        .collect();
    let unit = &chart.unit;
    let (first, rest) = match rows.as_slice() {
        [] => return format!("{NO_DATA}."),
        [(label, value)] => return format!("{label}: {}.", format_compact(*value, unit)),
        [first, rest @ ..] => (*first, rest),
    };
    // The first of equal values wins, so the sentence follows the rows' order.
    let (mut high, mut low) = (first, first);
    for &row in rest {
        if row.1 > high.1 {
            high = row;
        }
        if row.1 < low.1 {
            low = row;
        }
    }
    let mut s = if high.1 == low.1 {
        format!(
            "All {} values are {}.",
            rows.len(),
            format_compact(high.1, unit)
        )
    } else {
        format!(
            "Highest: {} ({}). Lowest: {} ({}).",
            high.0,
            format_compact(high.1, unit),
            low.0,
            format_compact(low.1, unit)
        )
    };
    if *unit != Unit::Percent {
        let total: f64 = rows.iter().map(|(_, v)| v).sum();
        s.push_str(&format!(" Total: {}.", format_compact(total, unit)));
    }
    s
}

/// Axis ticks from 0 to at least `max`, 4 to 6 of them, spaced by 1, 2, 2.5
/// or 5 × 10ⁿ (2.5 gives 0, 250 … 1250 for 1234 where 5 would leave only
/// four ticks). With `whole`, the spacing is a whole number, since half a
/// contract makes no sense; small counts then get 0, 1, 2, 3.
pub fn nice_ticks(max: f64, whole: bool) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max.min(LARGEST)
    } else {
        1.0
    };
    // Starting a decade below the answer guarantees the first fitting step
    // leaves at least three intervals; two decades above it always fits.
    let start = (max / 5.0).log10().floor() as i32 - 1;
    let step = (start..=start.max(0) + 3)
        .flat_map(|e| [1.0, 2.0, 2.5, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|s| !whole || (*s >= 1.0 && s.fract() == 0.0))
        .find(|s| (max / s).ceil() <= 5.0)
        .unwrap_or(max);
    let intervals = (max / step).ceil().max(if whole { 3.0 } else { 1.0 }) as usize;
    (0..=intervals).map(|i| i as f64 * step).collect()
}

/// A value written in full, for the table and tooltips: "1,234",
/// "DOP 1,234,567.50", "12.5%".
pub fn format_value(value: f64, unit: &Unit) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    match unit {
        Unit::Count => trim_zeros(grouped(value, 2)),
        Unit::Money(currency) => {
            let n = grouped(value, 2);
            // Cents only when there are some, as on the rest of the site.
            let n = n.strip_suffix(".00").map(str::to_owned).unwrap_or(n);
            with_currency(currency, n)
        }
        Unit::Percent => format!("{}%", grouped(value, 1)),
    }
}

/// A value written short, for labels in a chart: "1,234", "56.8 k",
/// "DOP 1.2 M", "12.5%". Spaces are non-breaking so a value never wraps.
pub fn format_compact(value: f64, unit: &Unit) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    match unit {
        Unit::Count => compact_number(value),
        Unit::Money(currency) => with_currency(currency, compact_number(value)),
        Unit::Percent => format!("{}%", grouped(value, 1)),
    }
}

const SCALES: [(f64, &str); 4] = [(1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")];

fn compact_number(value: f64) -> String {
    let a = value.abs();
    let sign = if value < 0.0 { "-" } else { "" };
    // Below ten thousand the whole number is short enough.
    if a < 1e4 {
        let n = if a >= 100.0 {
            grouped(a, 0)
        } else {
            trim_zeros(grouped(a, 2))
        };
        return if n == "0" { n } else { format!("{sign}{n}") };
    }
    let mut i = SCALES.iter().position(|(s, _)| a >= *s).unwrap_or(3);
    let mut r = (a / SCALES[i].0 * 10.0).round() / 10.0;
    // 999,950 rounds to "1000 k"; it reads better as "1 M".
    if r >= 1000.0 && i > 0 {
        i -= 1;
        r = (a / SCALES[i].0 * 10.0).round() / 10.0;
    }
    format!("{sign}{}{NBSP}{}", trim_zeros(grouped(r, 1)), SCALES[i].1)
}

/// Tick labels, without the currency (the axis title carries it), all at one
/// scale and with as many decimals as the spacing needs: "0", "250 k", "500 k".
fn tick_labels(ticks: &[f64], unit: &Unit) -> Vec<String> {
    let top = ticks.last().copied().unwrap_or(0.0);
    let step = ticks.get(1).copied().unwrap_or(1.0);
    let (scale, suffix) = match unit {
        Unit::Percent => (1.0, "%".to_owned()),
        _ if top < 1e4 => (1.0, String::new()),
        _ => SCALES
            .iter()
            .find(|(s, _)| top >= *s)
            .map_or((1.0, String::new()), |(s, name)| {
                (*s, format!("{NBSP}{name}"))
            }),
    };
    let decimals = decimals_for(step / scale);
    ticks
        .iter()
        .map(|t| {
            if *t == 0.0 {
                "0".to_owned()
            } else {
                format!("{}{suffix}", trim_zeros(grouped(t / scale, decimals)))
            }
        })
        .collect()
}

/// Decimals needed to write `x` exactly, at most three.
fn decimals_for(x: f64) -> usize {
    (0..3)
        .find(|d| {
            let p = x * 10f64.powi(*d as i32);
            (p - p.round()).abs() < 1e-6 * p.abs().max(1.0)
        })
        .unwrap_or(3)
}

/// `value` with `decimals` decimals and thousands separators: 1234567.5 → "1,234,567.50".
fn grouped(value: f64, decimals: usize) -> String {
    let fixed = format!("{:.*}", decimals, value.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let mut out = String::with_capacity(fixed.len() + int.len() / 3 + 1);
    // "-0" is what rounding a tiny negative gives; it should read "0".
    if value < 0.0 && fixed.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn with_currency(currency: &str, n: String) -> String {
    if currency.is_empty() {
        n
    } else {
        format!("{currency}{NBSP}{n}")
    }
}

/// The ticks for the chart's values, and the top of the axis.
fn axis(chart: &Chart) -> (Vec<f64>, f64) {
    let max = chart
        .rows
        .iter()
        .map(|(_, v)| plotted(*v))
        .fold(0.0, f64::max);
    let ticks = nice_ticks(max, chart.unit == Unit::Count);
    // nice_ticks always gives a positive top; the fallback only keeps the
    // divisions by it safe should that ever change.
    let top = ticks.last().copied().filter(|t| *t > 0.0).unwrap_or(1.0);
    (ticks, top)
}

/// The length a value is drawn at: negatives and non-numbers as zero (see the
/// module's documentation), huge values capped so the geometry stays finite.
fn plotted(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value.min(LARGEST)
    } else {
        0.0
    }
}

fn svg(chart: &Chart, height: f64, body: Markup) -> Markup {
    let id = dom_id(&chart.id);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        svg.chart-svg role="img" aria-labelledby=(format!("{title_id} {desc_id}"))
            viewBox=(format!("0 0 {} {}", num(WIDTH), num(height))) width="100%"
            font-size=(num(FONT)) {
            title id=(title_id) { (chart.title) }
            desc id=(desc_id) { (description(chart)) }
            (body)
        }
    }
}

fn no_data() -> Markup {
    html! { p.chart-empty { (NO_DATA) } }
}

fn description(chart: &Chart) -> Cow<'_, str> {
    if chart.description.trim().is_empty() {
        Cow::Owned(summary_sentence(chart))
    } else {
        Cow::Borrowed(&chart.description)
    }
}

/// An id usable in `id` and in the space-separated `aria-labelledby`: the
/// caller's id may hold spaces or start with a digit.
fn dom_id(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.starts_with(|c: char| c.is_ascii_alphabetic()) {
        clean
    } else {
        format!("chart-{clean}")
    }
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_WIDTH
}

/// A coordinate with one decimal at most: enough at any size, and shorter pages.
fn num(x: f64) -> String {
    trim_zeros(format!("{x:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind, unit: Unit, rows: &[(&str, f64)]) -> Chart {
        Chart {
            id: "spend".into(),
            title: "Spend by month".into(),
            description: String::new(),
            label_heading: "Month".into(),
            value_heading: "Spend (DOP)".into(),
            rows: rows.iter().map(|(l, v)| (l.to_string(), *v)).collect(),
            unit,
            kind,
        }
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() < 1e-9 * y.max(1.0))
    }

    #[test]
    fn ticks_are_nice_and_cover_the_max() {
        assert!(close(
            &nice_ticks(1234.0, false),
            &[0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0]
        ));
        assert!(close(
            &nice_ticks(100.0, false),
            &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        ));
        assert!(close(
            &nice_ticks(1.0, false),
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ));
        assert!(close(&nice_ticks(1.0, true), &[0.0, 1.0, 2.0, 3.0]));
        assert!(close(&nice_ticks(0.0, true), &[0.0, 1.0, 2.0, 3.0]));
        assert!(close(&nice_ticks(f64::NAN, false), &nice_ticks(1.0, false)));
        for max in [
            0.003, 0.7, 1.0, 3.0, 7.0, 9.9, 10.0, 11.0, 49.0, 51.0, 99.0, 101.0, 1234.0, 9999.0,
            12_345.0, 987_654.0, 1.2e9, 3.3e12, 1e300, 1e308,
        ] {
            for whole in [false, true] {
                let t = nice_ticks(max, whole);
                let step = t[1] - t[0];
                let mantissa = step / 10f64.powf(step.log10().floor());
                assert!(
                    [1.0, 2.0, 2.5, 5.0]
                        .iter()
                        .any(|m| (m - mantissa).abs() < 1e-9),
                    "{max}: step {step}"
                );
                assert!(t.iter().all(|x| x.is_finite()), "{max}: {t:?}");
                assert!(
                    t.last().is_some_and(|top| *top >= max.min(LARGEST)),
                    "{max}: {t:?}"
                );
                if whole {
                    assert!(step >= 1.0 && step.fract() == 0.0, "{max}: {t:?}");
                }
                if !whole || max >= 3.0 {
                    assert!((4..=6).contains(&t.len()), "{max} {whole}: {t:?}");
                }
            }
        }
    }

    #[test]
    fn formats_per_unit() {
        let dop = Unit::Money("DOP".into());
        assert_eq!(format_value(1234.0, &Unit::Count), "1,234");
        assert_eq!(format_value(2.5, &Unit::Count), "2.5");
        assert_eq!(format_value(1234567.5, &dop), "DOP\u{a0}1,234,567.50");
        assert_eq!(format_value(1_000_000.0, &dop), "DOP\u{a0}1,000,000");
        assert_eq!(format_value(0.999, &dop), "DOP\u{a0}1");
        assert_eq!(format_value(12.345, &Unit::Percent), "12.3%");
        assert_eq!(format_value(7.0, &Unit::Percent), "7.0%");
        assert_eq!(format_value(-1500.0, &Unit::Count), "-1,500");
        assert_eq!(format_value(f64::NAN, &Unit::Count), "n/a");

        assert_eq!(format_compact(0.0, &Unit::Count), "0");
        assert_eq!(format_compact(1234.0, &Unit::Count), "1,234");
        assert_eq!(format_compact(56_789.0, &Unit::Count), "56.8\u{a0}k");
        assert_eq!(format_compact(1_234_567.0, &dop), "DOP\u{a0}1.2\u{a0}M");
        assert_eq!(format_compact(2e9, &dop), "DOP\u{a0}2\u{a0}bn");
        assert_eq!(format_compact(999_950.0, &Unit::Count), "1\u{a0}M");
        assert_eq!(format_compact(3.2e15, &Unit::Count), "3,200\u{a0}tn");
        assert_eq!(format_compact(0.25, &Unit::Count), "0.25");
        assert_eq!(format_compact(-20_000.0, &Unit::Count), "-20\u{a0}k");
        assert_eq!(format_compact(1234.56, &Unit::Percent), "1,234.6%");

        let t = |max: f64, unit: &Unit| tick_labels(&nice_ticks(max, *unit == Unit::Count), unit);
        assert_eq!(
            t(1234.0, &Unit::Count),
            ["0", "250", "500", "750", "1,000", "1,250"]
        );
        assert_eq!(
            t(1.4e6, &dop),
            ["0", "0.5\u{a0}M", "1\u{a0}M", "1.5\u{a0}M"]
        );
        assert_eq!(
            t(42.0, &Unit::Percent),
            ["0", "10%", "20%", "30%", "40%", "50%"]
        );
        assert_eq!(
            t(0.9, &Unit::Percent),
            ["0", "0.2%", "0.4%", "0.6%", "0.8%", "1%"]
        );
    }

    #[test]
    fn svg_is_an_image_named_by_its_title_and_description() {
        let rows = [("Jan 2022", 10.0), ("Feb 2022", 0.0), ("Mar 2022", 1234.0)];
        for kind in [Kind::Bars, Kind::Columns] {
            let c = chart(kind, Unit::Money("DOP".into()), &rows);
            let html = figure(&c, "/spend.csv").into_string();
            assert!(html.contains(r#"role="img""#), "{html}");
            assert!(html.contains(r#"aria-labelledby="spend-title spend-desc""#));
            assert!(html.contains(r#"<title id="spend-title">Spend by month</title>"#));
            assert!(html.contains(r#"<desc id="spend-desc">Highest: Mar 2022"#));
            assert!(html.contains(r#"width="100%""#) && html.contains("viewBox=\"0 0 540 "));
            assert_eq!(html.matches("<rect").count(), rows.len(), "{html}");
            // In HTML, an SVG element written `<rect …>` would swallow the
            // next one; every element must be closed.
            assert_eq!(
                html.matches("<rect").count(),
                html.matches("</rect>").count()
            );
            assert_eq!(
                html.matches("<line").count(),
                html.matches("</line>").count()
            );
            assert!(html.contains(r#"<a href="/spend.csv" download>Download CSV"#));
            assert!(html.contains("<summary>Data table</summary>"));
            assert!(!html.contains("NaN") && !html.contains("inf"), "{html}");
        }
    }

    #[test]
    fn table_has_a_row_per_data_row() {
        let c = chart(
            Kind::Bars,
            Unit::Count,
            &[("A", 1.0), ("B", 2.0), ("C", 3.0), ("D", 0.0)],
        );
        let html = table(&c).into_string();
        assert!(html.contains("<caption>Spend by month</caption>"));
        assert_eq!(html.matches(r#"scope="col""#).count(), 2);
        let body = html.split("<tbody>").nth(1).unwrap_or_default();
        assert_eq!(body.matches("<tr>").count(), 4);
        assert_eq!(body.matches(r#"<td class="num">"#).count(), 4);
    }

    #[test]
    fn long_labels_are_shortened_in_the_svg_only() {
        let long = "Constructora e Inversiones del Caribe, S.R.L.";
        let c = chart(Kind::Bars, Unit::Count, &[(long, 5.0), ("Short", 1.0)]);
        let svg = bar_chart(&c).into_string();
        assert!(svg.contains(">Constructora e Invers…</text>"), "{svg}");
        assert!(svg.contains(&format!("<title>{long}: 5</title>")));
        assert!(table(&c).into_string().contains(&format!(">{long}</th>")));
    }

    #[test]
    fn user_text_is_escaped() {
        let mut c = chart(
            Kind::Columns,
            Unit::Count,
            &[("<script>alert(1)</script>", 3.0)],
        );
        c.title = "<b>t</b>".into();
        c.id = "x\" onload=\"y".into();
        let html = figure(&c, "/x.csv?a=1&b=\"2\"").into_string();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("onload=\""));
        assert!(html.contains(r#"id="x--onload--y-title""#), "{html}");
    }

    #[test]
    fn csv_round_trips_commas_and_quotes() {
        let c = chart(
            Kind::Bars,
            Unit::Money("DOP".into()),
            &[
                ("Acme, S.R.L.", 1234.5),
                ("The \"Best\" Builders", 0.0),
                ("Línea\nnueva", 1e9),
                ("Unknown", f64::NAN),
            ],
        );
        let text = csv(&c);
        assert!(text.starts_with('\u{feff}') && text.contains("\r\n"));
        let mut reader = ::csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().cloned().unwrap_or_default();
        assert_eq!(headers, vec!["Month", "Spend (DOP)"]);
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| {
                r.map(|r| r.iter().map(str::to_owned).collect())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            rows,
            [
                ["Acme, S.R.L.", "1234.5"],
                ["The \"Best\" Builders", "0"],
                ["Línea\nnueva", "1000000000"],
                ["Unknown", ""],
            ]
        );
    }

    #[test]
    fn empty_data_says_so_and_keeps_the_table() {
        for kind in [Kind::Bars, Kind::Columns] {
            let c = chart(kind, Unit::Count, &[]);
            let html = figure(&c, "/e.csv").into_string();
            assert!(html.contains("No data"));
            assert!(!html.contains("<svg"));
            assert!(html.contains("<table") && html.contains("<caption>"));
            assert_eq!(summary_sentence(&c), "No data.");
        }
    }

    #[test]
    fn zero_and_negative_values_draw_empty_bars() {
        let c = chart(Kind::Bars, Unit::Count, &[("a", 0.0), ("b", -5.0)]);
        let svg = bar_chart(&c).into_string();
        assert_eq!(svg.matches(r#"width="0""#).count(), 2, "{svg}");
        assert!(svg.contains(">-5</text>"));
        let c = Chart {
            kind: Kind::Columns,
            ..c
        };
        assert_eq!(
            column_chart(&c)
                .into_string()
                .matches(r#"height="0""#)
                .count(),
            2
        );
    }

    #[test]
    fn summary_names_the_extremes_and_the_total() {
        let dop = Unit::Money("DOP".into());
        let c = chart(
            Kind::Columns,
            dop,
            &[
                ("Jan", 3.4e6),
                ("Mar 2022", 1.2e9),
                ("Feb", 3.4e6),
                ("Apr", f64::NAN),
            ],
        );
        assert_eq!(
            summary_sentence(&c),
            "Highest: Mar 2022 (DOP\u{a0}1.2\u{a0}bn). Lowest: Jan (DOP\u{a0}3.4\u{a0}M). \
             Total: DOP\u{a0}1.2\u{a0}bn."
        );
        let c = chart(Kind::Bars, Unit::Percent, &[("a", 5.0), ("b", 5.0)]);
        assert_eq!(summary_sentence(&c), "All 2 values are 5.0%.");
        let c = Chart {
            description: "Spend peaked in March.".into(),
            ..c
        };
        assert!(figure(&c, "/c.csv")
            .into_string()
            .contains("<desc id=\"spend-desc\">Spend peaked in March.</desc>"));
    }

    #[test]
    fn palette_meets_contrast_against_white() {
        fn luminance(hex: &str) -> f64 {
            let channel = |i: usize| {
                let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
                if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
        }
        let against = |a: &str, b: &str| {
            let (x, y) = (luminance(a), luminance(b));
            (x.max(y) + 0.05) / (x.min(y) + 0.05)
        };
        assert!(against(BAR, "#ffffff") >= 3.0);
        assert!(against(INK, "#ffffff") >= 4.5);
        assert!(against(MUTED, "#ffffff") >= 4.5);
        assert!(against(ON_BAR, BAR) >= 4.5);
    }

    #[test]
    fn ids_are_safe_for_aria_lists() {
        assert_eq!(dom_id("spend"), "spend");
        assert_eq!(dom_id("top suppliers"), "top-suppliers");
        assert_eq!(dom_id("2022"), "chart-2022");
        assert_eq!(dom_id(""), "chart-");
    }
}
