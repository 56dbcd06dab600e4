//! A read-only view of one compiled release with the questions indicators ask
//! of it: which bids were submitted, which awards are final, who won, and bid
//! amounts in a comparable currency.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::settings::Settings;

/// A compiled release, by ocid.
pub struct Process<'a> {
    pub ocid: &'a str,
    pub release: &'a Map<String, Value>,
}

pub fn str_at<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

pub fn object_at<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    object.get(key).and_then(Value::as_object)
}

pub fn array_at<'a>(object: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The string `id` of each organisation reference in an array (tenderers,
/// suppliers), in order.
pub fn ids(refs: &[Value]) -> Vec<&str> {
    refs.iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str))
        .collect()
}

/// An amount with its currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Amount<'a> {
    pub amount: f64,
    pub currency: &'a str,
}

pub fn amount_of(value: Option<&Value>) -> Option<Amount<'_>> {
    let value = value?.as_object()?;
    Some(Amount {
        amount: value.get("amount")?.as_f64()?,
        currency: value.get("currency")?.as_str()?,
    })
}

impl<'a> Process<'a> {
    pub fn tender(&self) -> Option<&'a Map<String, Value>> {
        object_at(self.release, "tender")
    }

    pub fn procurement_method(&self) -> Option<&'a str> {
        self.tender().and_then(|t| str_at(t, "procurementMethod"))
    }

    pub fn procurement_method_details(&self) -> Option<&'a str> {
        self.tender()
            .and_then(|t| str_at(t, "procurementMethodDetails"))
    }

    pub fn buyer_id(&self) -> Option<&'a str> {
        object_at(self.release, "buyer").and_then(|b| str_at(b, "id"))
    }

    pub fn procuring_entity_id(&self) -> Option<&'a str> {
        self.tender()
            .and_then(|t| object_at(t, "procuringEntity"))
            .and_then(|p| str_at(p, "id"))
    }

    pub fn is_cancelled(&self) -> bool {
        self.tender().and_then(|t| str_at(t, "status")) == Some("cancelled")
    }

    /// `/bids/details`, or `None` when the release has no bid details at all.
    pub fn bid_details(&self) -> Option<&'a [Value]> {
        object_at(self.release, "bids")
            .and_then(|b| b.get("details"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
    }

    /// Bids submitted: with a status other than invited or withdrawn (pending,
    /// valid, disqualified, or a status outside the codelist).
    pub fn submitted_bids(&self) -> Vec<&'a Map<String, Value>> {
        self.bid_details()
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_object)
            .filter(|bid| matches!(str_at(bid, "status"), Some(s) if s != "invited" && s != "withdrawn"))
            .collect()
    }

    pub fn awards(&self) -> &'a [Value] {
        array_at(self.release, "awards")
    }

    /// The active awards, if every award with a status is final (active,
    /// cancelled or unsuccessful) and the release has bid details. A pending
    /// award means the result could still change, so price indicators wait.
    pub fn final_awards(&self) -> Option<Vec<&'a Map<String, Value>>> {
        if !self.release.get("awards").is_some_and(Value::is_array) {
            return None;
        }
        self.bid_details()?;
        let mut complete = Vec::new();
        for award in self.awards().iter().filter_map(Value::as_object) {
            match str_at(award, "status") {
                Some("active") => complete.push(award),
                Some("cancelled" | "unsuccessful") | None => {}
                Some(_) => return None,
            }
        }
        Some(complete)
    }

    /// The competitions in the process, each with its one winning supplier
    /// set and the bids that competed for it.
    ///
    /// A process divided into lots (`/tender/lots`) whose active awards and
    /// bids all name their lots (`relatedLots`, from the bids and lots
    /// extensions) is one competition per lot with exactly one active award;
    /// otherwise the whole process is one competition, when it has exactly
    /// one final, active award (Cardinal's rule: with several, which bids
    /// competed for which award is unknown). The winner may be a consortium:
    /// a bid is the winner's when its tenderers are exactly the suppliers.
    pub fn competitions(&self) -> Vec<Competition<'a>> {
        let Some(awards) = self.final_awards() else {
            return Vec::new();
        };
        let Some(details) = self.bid_details() else {
            return Vec::new();
        };
        let bids: Vec<&'a Map<String, Value>> =
            details.iter().filter_map(Value::as_object).collect();
        let lots: Vec<&'a str> = self
            .tender()
            .map(|t| array_at(t, "lots"))
            .unwrap_or(&[])
            .iter()
            .filter_map(|l| l.get("id").and_then(Value::as_str))
            .collect();
        let names_lots = |o: &Map<String, Value>| !array_at(o, "relatedLots").is_empty();
        if !lots.is_empty()
            && !awards.is_empty()
            && awards.iter().all(|a| names_lots(a))
            && bids.iter().all(|b| names_lots(b))
        {
            let in_lot = |o: &Map<String, Value>, lot: &str| {
                array_at(o, "relatedLots")
                    .iter()
                    .any(|l| l.as_str() == Some(lot))
            };
            return lots
                .into_iter()
                .filter_map(|lot| {
                    let won: Vec<_> = awards.iter().filter(|a| in_lot(a, lot)).collect();
                    let [award] = won.as_slice() else { return None };
                    let suppliers: BTreeSet<&str> =
                        ids(array_at(award, "suppliers")).into_iter().collect();
                    (!suppliers.is_empty()).then(|| Competition {
                        lot: Some(lot),
                        suppliers,
                        bids: bids.iter().copied().filter(|b| in_lot(b, lot)).collect(),
                    })
                })
                .collect();
        }
        let [award] = awards.as_slice() else {
            return Vec::new();
        };
        let suppliers: BTreeSet<&str> = ids(array_at(award, "suppliers")).into_iter().collect();
        if suppliers.is_empty() {
            return Vec::new();
        }
        vec![Competition {
            lot: None,
            suppliers,
            bids,
        }]
    }
}

/// One award's competition: a lot, or a whole process not divided into lots.
pub struct Competition<'a> {
    pub lot: Option<&'a str>,
    pub suppliers: BTreeSet<&'a str>,
    pub bids: Vec<&'a Map<String, Value>>,
}

/// Converts amounts so bids in different currencies can be compared, or says
/// why they cannot.
pub struct Money<'s> {
    main: Option<&'s str>,
    rates: &'s BTreeMap<String, f64>,
}

/// Why a process's prices were not compared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Incomparable {
    /// Bids in several currencies and no rate to convert one of them.
    NoRate(String),
}

impl<'s> Money<'s> {
    pub fn new(settings: &'s Settings) -> Money<'s> {
        Money {
            main: settings.currency.as_deref(),
            rates: &settings.currency_rates,
        }
    }

    fn rate(&self, currency: &str) -> Option<f64> {
        if Some(currency) == self.main {
            Some(1.0)
        } else {
            self.rates.get(currency).copied().filter(|r| *r > 0.0)
        }
    }

    /// The amounts in one currency: their own, when they share one; otherwise
    /// the main currency through the configured rates.
    pub fn comparable(&self, amounts: &[Amount<'_>]) -> Result<Vec<f64>, Incomparable> {
        let Some(first) = amounts.first() else {
            return Ok(Vec::new());
        };
        if amounts.iter().all(|a| a.currency == first.currency) {
            return Ok(amounts.iter().map(|a| a.amount).collect());
        }
        amounts
            .iter()
            .map(|a| match self.rate(a.currency) {
                Some(rate) if self.main.is_some() => Ok(a.amount * rate),
                _ => Err(Incomparable::NoRate(a.currency.to_string())),
            })
            .collect()
    }
}

/// The winner's lowest valid bid and the lowest valid bid of anyone else,
/// for a process with one active award. Used by R024 and R058.
#[derive(Clone, Debug)]
pub struct SecondLowest {
    pub winner: String,
    pub winner_amount: f64,
    pub runner_up: String,
    pub runner_up_amount: f64,
}

impl SecondLowest {
    /// (runner-up − winner) / winner.
    pub fn ratio(&self) -> f64 {
        (self.runner_up_amount - self.winner_amount) / self.winner_amount
    }
}

/// Finds the winner's and the runner-up's bids. `Ok(None)` when the process
/// does not qualify (no single award, no valid priced bid from both, or the
/// lowest bid did not win, so the award was not on price alone).
pub fn second_lowest(
    competition: &Competition<'_>,
    money: &Money<'_>,
) -> Result<Option<SecondLowest>, Incomparable> {
    let suppliers = &competition.suppliers;
    let mut bids: Vec<(BTreeSet<&str>, Amount<'_>)> = Vec::new();
    for bid in competition.bids.iter().copied() {
        if str_at(bid, "status") != Some("valid") {
            continue;
        }
        let tenderers: BTreeSet<&str> = ids(array_at(bid, "tenderers")).into_iter().collect();
        if tenderers.is_empty() {
            continue;
        }
        // A zero amount is a placeholder (prepare reports it), not a price: a
        // zero "winning bid" would make the gap infinite.
        if let Some(amount) = amount_of(bid.get("value")).filter(|a| a.amount != 0.0) {
            bids.push((tenderers, amount));
        }
    }
    let amounts: Vec<Amount<'_>> = bids.iter().map(|(_, a)| *a).collect();
    let values = money.comparable(&amounts)?;
    let mut winner: Option<(String, f64)> = None;
    let mut runner_up: Option<(String, f64)> = None;
    for ((tenderers, _), value) in bids.iter().zip(values) {
        let label = tenderers.iter().copied().collect::<Vec<_>>().join("+");
        let slot = if tenderers == suppliers {
            &mut winner
        } else {
            &mut runner_up
        };
        if slot.as_ref().is_none_or(|(_, v)| value < *v) {
            *slot = Some((label, value));
        }
    }
    Ok(match (winner, runner_up) {
        (Some((winner, winner_amount)), Some((runner_up, runner_up_amount)))
            if runner_up_amount >= winner_amount =>
        {
            Some(SecondLowest {
                winner,
                winner_amount,
                runner_up,
                runner_up_amount,
            })
        }
        _ => None,
    })
}
