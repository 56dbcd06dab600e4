//! The figures behind the dashboards: spend over time, procurement methods,
//! competition, flag and compliance rates, top suppliers and buyers.
//!
//! Money is never summed across currencies: each money series is in one
//! currency (by default the one most processes use), and the dashboard lists
//! the others with their process counts so nothing is hidden.

use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// A labelled number.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: f64,
}

/// An organisation with the money and processes behind its rank.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranked {
    pub org_id: String,
    pub name: String,
    pub amount: f64,
    pub processes: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dashboard {
    pub processes: i64,
    /// The currency of every money figure here.
    pub currency: Option<String>,
    /// Processes with an awarded amount, per currency.
    pub currencies: Vec<Point>,
    /// Awarded amount per month (`YYYY-MM`) of award, in `currency`.
    pub spend_by_month: Vec<Point>,
    /// Processes per procurement method.
    pub methods: Vec<Point>,
    /// Processes per number of tenderers (1, 2, 3, 4, 5+), of those with any.
    pub bidders: Vec<Point>,
    /// Share of processes with tenderers that had exactly one (0–100).
    pub single_bid_share: Option<f64>,
    /// Share of all processes flagged, per indicator (0–100).
    pub flag_rates: Vec<Point>,
    /// Share of applicable findings met, per Procurement Rules check (0–100).
    pub compliance_rates: Vec<Point>,
    pub top_suppliers: Vec<Ranked>,
    pub top_buyers: Vec<Ranked>,
}

impl Store {
    /// Every dashboard figure, money in `currency` (or the commonest).
    pub async fn dashboard(&self, currency: Option<&str>) -> Result<Dashboard, StoreError> {
        let processes: i64 = sqlx::query("SELECT COUNT(*) FROM records")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let currencies = points(
            sqlx::query("SELECT awarded_currency, COUNT(*) AS n FROM records WHERE awarded_currency IS NOT NULL AND awarded_amount IS NOT NULL GROUP BY awarded_currency ORDER BY n DESC, awarded_currency")
                .fetch_all(&self.pool)
                .await?,
        )?;
        let currency = currency
            .map(str::to_owned)
            .or_else(|| currencies.first().map(|p| p.label.clone()));
        let cur = currency.clone().unwrap_or_default();

        let spend_by_month = points(
            sqlx::query(&self.sql(
                "SELECT SUBSTR(COALESCE(award_date, date), 1, 7) AS month, SUM(awarded_amount) FROM records WHERE awarded_currency = ? AND awarded_amount IS NOT NULL GROUP BY month ORDER BY month",
            ))
            .bind(&cur)
            .fetch_all(&self.pool)
            .await?,
        )?;
        let methods = points(
            sqlx::query("SELECT COALESCE(procurement_method, 'not stated') AS m, COUNT(*) AS n FROM records GROUP BY m ORDER BY n DESC, m")
                .fetch_all(&self.pool)
                .await?,
        )?;
        let bidders = points(
            sqlx::query("SELECT CASE WHEN tenderer_count >= 5 THEN '5+' ELSE CAST(tenderer_count AS TEXT) END AS b, COUNT(*) FROM records WHERE tenderer_count > 0 GROUP BY b ORDER BY b")
                .fetch_all(&self.pool)
                .await?,
        )?;
        let with_bids: f64 = bidders.iter().map(|p| p.value).sum();
        let single_bid_share = bidders
            .iter()
            .find(|p| p.label == "1")
            .filter(|_| with_bids > 0.0)
            .map(|p| p.value * 100.0 / with_bids);
        let flag_rates = self
            .flag_counts()
            .await?
            .into_iter()
            .map(|c| Point {
                label: c.code,
                value: if processes > 0 {
                    c.processes as f64 * 100.0 / processes as f64
                } else {
                    0.0
                },
            })
            .collect();
        let compliance_rates = sqlx::query(
            "SELECT code, SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END), COUNT(*) FROM findings WHERE outcome <> 'not-applicable' GROUP BY code ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let met: i64 = r.try_get(1)?;
            let all: i64 = r.try_get(2)?;
            Ok(Point {
                label: r.try_get(0)?,
                value: if all > 0 { met as f64 * 100.0 / all as f64 } else { 0.0 },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let top_suppliers = ranked(
            sqlx::query(&self.sql(
                "SELECT org_id, MAX(name), SUM(amount) AS total, COUNT(DISTINCT ocid) FROM process_parties WHERE role = 'supplier' AND currency = ? AND amount IS NOT NULL GROUP BY org_id ORDER BY total DESC, org_id LIMIT 10",
            ))
            .bind(&cur)
            .fetch_all(&self.pool)
            .await?,
        )?;
        let top_buyers = ranked(
            sqlx::query(&self.sql(
                "SELECT buyer_id, MAX(buyer_name), SUM(awarded_amount) AS total, COUNT(*) FROM records WHERE buyer_id IS NOT NULL AND awarded_currency = ? AND awarded_amount IS NOT NULL GROUP BY buyer_id ORDER BY total DESC, buyer_id LIMIT 10",
            ))
            .bind(&cur)
            .fetch_all(&self.pool)
            .await?,
        )?;
        Ok(Dashboard {
            processes,
            currency,
            currencies,
            spend_by_month,
            methods,
            bidders,
            single_bid_share,
            flag_rates,
            compliance_rates,
            top_suppliers,
            top_buyers,
        })
    }
}

fn number(r: &sqlx::any::AnyRow, i: usize) -> Result<f64, sqlx::Error> {
    // Counts come back as integers, sums as reals, depending on the backend.
    match r.try_get::<f64, _>(i) {
        Ok(v) => Ok(v),
        Err(_) => Ok(r.try_get::<i64, _>(i)? as f64),
    }
}

fn points(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Point>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Point {
                label: r.try_get(0)?,
                value: number(r, 1)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

fn ranked(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Ranked>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Ranked {
                org_id: r.try_get(0)?,
                name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                amount: number(r, 2)?,
                processes: r.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}
