//! Query parameters, read and checked once for the API and the pages alike.
//!
//! Parsed by hand from the raw query so that every mistake gets the API's own
//! error (with the parameter named), and an unknown parameter is refused
//! rather than silently ignored: a misspelt filter would otherwise return
//! unfiltered results that look filtered.

use tuwhera_store::SearchQuery;

use crate::ApiError;

/// The longest query string accepted.
pub const MAX_QUERY: usize = 4096;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// The closed codelists of OCDS 1.1: what the search form offers.
pub const METHODS: &[&str] = &["open", "selective", "limited", "direct"];
pub const STATUSES: &[&str] = &[
    "planning",
    "planned",
    "active",
    "cancelled",
    "unsuccessful",
    "complete",
    "withdrawn",
];
pub const CATEGORIES: &[&str] = &["goods", "works", "services"];

/// Key–value pairs of a query string, refusing what is too long or malformed.
pub fn pairs(raw: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY {
        return Err(ApiError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            "query-too-long",
            format!("the query string is longer than {MAX_QUERY} bytes"),
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::invalid("query", format!("the query string is malformed: {e}")))?;
    for (k, _) in &pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::invalid(
                k,
                format!(
                    "unknown parameter {k:?}; this endpoint takes: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(pairs)
}

/// The last non-empty value of `key`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

pub fn limit(pairs: &[(String, String)]) -> Result<u32, ApiError> {
    match get(pairs, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                "limit",
                format!("limit must be a whole number from 1 to {MAX_LIMIT}, not {v:?}"),
            )),
        },
    }
}

pub fn date(pairs: &[(String, String)], key: &str) -> Result<Option<String>, ApiError> {
    let Some(v) = get(pairs, key) else {
        return Ok(None);
    };
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && (1..=12).contains(&v[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&v[8..10].parse::<u8>().unwrap_or(0));
    if ok {
        Ok(Some(v.to_owned()))
    } else {
        Err(ApiError::invalid(
            key,
            format!("{key} must be a date written YYYY-MM-DD, not {v:?}"),
        ))
    }
}

fn number(pairs: &[(String, String)], key: &str) -> Result<Option<f64>, ApiError> {
    match get(pairs, key) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(ApiError::invalid(
                key,
                format!("{key} must be a number, not {v:?}"),
            )),
        },
    }
}

pub fn text(pairs: &[(String, String)], key: &str, max: usize) -> Result<Option<String>, ApiError> {
    match get(pairs, key) {
        Some(v) if v.chars().count() > max => Err(ApiError::invalid(
            key,
            format!("{key} is longer than {max} characters"),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

pub const SEARCH_PARAMS: &[&str] = &[
    "q",
    "buyer",
    "supplier",
    "org",
    "method",
    "status",
    "category",
    "date_from",
    "date_to",
    "value_min",
    "value_max",
    "limit",
    "cursor",
];

/// A process search from its query parameters.
pub fn search(pairs: &[(String, String)]) -> Result<SearchQuery, ApiError> {
    let query = SearchQuery {
        q: text(pairs, "q", 200)?,
        buyer: text(pairs, "buyer", 200)?,
        supplier: text(pairs, "supplier", 200)?,
        org: text(pairs, "org", 200)?,
        // Codes are matched exactly, but not limited to the codelists: publishers
        // use their own (Moldova's methods are in Romanian), and the facets offer them.
        method: text(pairs, "method", 100)?,
        status: text(pairs, "status", 100)?,
        category: text(pairs, "category", 100)?,
        date_from: date(pairs, "date_from")?,
        date_to: date(pairs, "date_to")?,
        value_min: number(pairs, "value_min")?,
        value_max: number(pairs, "value_max")?,
        limit: limit(pairs)?,
        cursor: text(pairs, "cursor", 4000)?,
        facets: true,
    };
    if let (Some(a), Some(b)) = (&query.date_from, &query.date_to) {
        if a > b {
            return Err(ApiError::invalid("date_to", "date_to is before date_from"));
        }
    }
    if let (Some(a), Some(b)) = (query.value_min, query.value_max) {
        if a > b {
            return Err(ApiError::invalid(
                "value_max",
                "value_max is less than value_min",
            ));
        }
    }
    Ok(query)
}

/// The query string of a search, without its cursor (for links that change one filter).
pub fn search_link(q: &SearchQuery) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut push = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            out.push((k, v.clone()));
        }
    };
    push("q", &q.q);
    push("buyer", &q.buyer);
    push("supplier", &q.supplier);
    push("org", &q.org);
    push("method", &q.method);
    push("status", &q.status);
    push("category", &q.category);
    push("date_from", &q.date_from);
    push("date_to", &q.date_to);
    push("value_min", &q.value_min.map(|v| v.to_string()));
    push("value_max", &q.value_max.map(|v| v.to_string()));
    if q.limit != DEFAULT_LIMIT {
        out.push(("limit", q.limit.to_string()));
    }
    out
}

/// The link to the page after this one: the same parameters, the new cursor.
pub fn next_page(path: &str, pairs: &[(String, String)], cursor: &str) -> String {
    let mut link: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, v)| k != "cursor" && !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    link.push(("cursor", cursor.to_owned()));
    format!("{path}?{}", encode(&link))
}

pub fn encode(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_each_parameter_and_names_it() {
        let p = pairs(
            Some("method=open&date_from=2024-01-31&value_min=10&limit=5"),
            SEARCH_PARAMS,
        )
        .expect("pairs");
        let q = search(&p).expect("valid");
        assert_eq!(
            (q.method.as_deref(), q.limit, q.value_min),
            (Some("open"), 5, Some(10.0))
        );
        let long_method = format!("method={}", "x".repeat(101));
        let cases: Vec<(&str, &str)> = vec![
            (&long_method, "method"),
            ("date_from=2024-13-01", "date_from"),
            ("date_to=yesterday", "date_to"),
            ("value_min=lots", "value_min"),
            ("value_min=NaN", "value_min"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("date_from=2024-02-01&date_to=2024-01-01", "date_to"),
        ];
        for (bad, field) in cases {
            let p = pairs(Some(bad), SEARCH_PARAMS).expect("pairs");
            let e = search(&p).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some(field), "{bad}");
        }
        let e = pairs(Some("methd=open"), SEARCH_PARAMS).expect_err("unknown");
        assert_eq!(e.field.as_deref(), Some("methd"));
    }
}
