//! What a search needs to know of a contracting process, read off its compiled
//! release: the query columns of the store and the rows of the process page's
//! summary.
//!
//! Organisations are named the way org-id.guide names them (`SCHEME-ID`, e.g.
//! `DO-RPE-69095`, `GB-COH-00102498`) when the party's identifier has a scheme
//! in that form; otherwise by the party's own `id`, which is what the
//! publisher uses to link its parties and which is stable across its releases.

use serde_json::Value;

/// An organisation as a process refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
}

/// An organisation's part in a process, with the amount that part concerns:
/// for a buyer or procuring entity, the process's value; for a supplier, the
/// total of the awards it won (in the process's currency).
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub org: OrgRef,
    pub role: String,
    pub amount: Option<f64>,
}

/// A contracting process, summarised from its compiled release.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub title: Option<String>,
    pub description: Option<String>,
    /// The buyer; where the release names none, the procuring entity.
    pub buyer: Option<OrgRef>,
    pub procuring_entity: Option<OrgRef>,
    pub status: Option<String>,
    pub procurement_method: Option<String>,
    pub procurement_method_details: Option<String>,
    pub main_category: Option<String>,
    pub tender_amount: Option<f64>,
    pub tender_currency: Option<String>,
    /// Total of the awards' values that are in the first award's currency.
    pub awarded_amount: Option<f64>,
    pub awarded_currency: Option<String>,
    pub contracted_amount: Option<f64>,
    /// The amount a search by value compares: what was awarded if anything
    /// was, else the tender's estimate.
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub tender_start: Option<String>,
    pub tender_end: Option<String>,
    pub award_date: Option<String>,
    pub contract_date: Option<String>,
    /// The compiled release's `date`: when the process was last published.
    pub date: Option<String>,
    pub suppliers: Vec<OrgRef>,
    pub tenderers: Vec<OrgRef>,
    /// Item classifications, as `SCHEME-ID` (or the bare id without a scheme).
    pub classifications: Vec<String>,
    pub award_count: usize,
    pub contract_count: usize,
    /// Every organisation and its part in the process.
    pub roles: Vec<Role>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn amount(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        // Some publishers write amounts as strings; a number in a string is still the amount.
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// `SCHEME-ID` when the scheme is an org-id.guide code (two letters, a dash, letters or digits).
fn org_id_from_identifier(identifier: &Value) -> Option<String> {
    let scheme = identifier.get("scheme")?.as_str()?.trim();
    let id = text(identifier.get("id"))?;
    let (country, list) = scheme.split_once('-')?;
    let org_id_scheme = country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && !list.is_empty()
        && list
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    org_id_scheme.then(|| format!("{scheme}-{id}"))
}

struct Parties<'a> {
    list: Vec<&'a Value>,
}

impl<'a> Parties<'a> {
    fn new(release: &'a Value) -> Self {
        let list = release
            .get("parties")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|p| p.is_object()).collect())
            .unwrap_or_default();
        Parties { list }
    }

    fn by_id(&self, id: &str) -> Option<&'a Value> {
        self.list
            .iter()
            .copied()
            .find(|p| text(p.get("id")).as_deref() == Some(id))
    }

    fn org_of_party(party: &Value) -> Option<OrgRef> {
        let id = party
            .get("identifier")
            .and_then(org_id_from_identifier)
            .or_else(|| text(party.get("id")))?;
        let name = text(party.get("name"))
            .or_else(|| {
                party
                    .get("identifier")
                    .and_then(|i| text(i.get("legalName")))
            })
            .unwrap_or_else(|| id.clone());
        Some(OrgRef { id, name })
    }

    /// A reference whose id names no party, resolved to the one party that plays
    /// `role` (some publishers write the bare number in the reference and the
    /// prefixed id in the parties list: DGCP's `545` for `DO-UC-545`).
    fn resolve_in_role(&self, reference: &Value, role: &str) -> Option<OrgRef> {
        let id = text(reference.get("id"));
        if id.as_deref().and_then(|id| self.by_id(id)).is_none() {
            let mut in_role = self.list.iter().filter(|p| has_role(p, role));
            if let (Some(only), None) = (in_role.next(), in_role.next()) {
                return Self::org_of_party(only);
            }
        }
        self.resolve(reference)
    }

    /// An organisation reference (`{id, name}`) resolved through the parties list.
    fn resolve(&self, reference: &Value) -> Option<OrgRef> {
        let id = text(reference.get("id"));
        if let Some(party) = id.as_deref().and_then(|id| self.by_id(id)) {
            let mut org = Self::org_of_party(party)?;
            if let Some(name) = text(reference.get("name")) {
                if org.name == org.id {
                    org.name = name;
                }
            }
            return Some(org);
        }
        let name = text(reference.get("name"));
        match (id, name) {
            (Some(id), Some(name)) => Some(OrgRef { id, name }),
            (Some(id), None) => Some(OrgRef {
                name: id.clone(),
                id,
            }),
            // A reference by name only has no identity to link by.
            _ => None,
        }
    }
}

fn push_unique(list: &mut Vec<OrgRef>, org: OrgRef) {
    if !list.iter().any(|o| o.id == org.id) {
        list.push(org);
    }
}

fn array(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array)
        .into_iter()
        .flat_map(|a| a.iter())
}

fn earliest(current: &mut Option<String>, candidate: Option<String>) {
    if let Some(c) = candidate {
        if current.as_ref().is_none_or(|cur| c < *cur) {
            *current = Some(c);
        }
    }
}

impl Summary {
    /// Summarise a compiled release. Never fails: what is missing or malformed is left out.
    pub fn of(compiled: &Value) -> Summary {
        let parties = Parties::new(compiled);
        let tender = compiled.get("tender");
        let tget = |k: &str| tender.and_then(|t| t.get(k));
        let mut s = Summary {
            title: text(tget("title")),
            description: text(tget("description")),
            status: text(tget("status")),
            procurement_method: text(tget("procurementMethod")),
            procurement_method_details: text(tget("procurementMethodDetails")),
            main_category: text(tget("mainProcurementCategory")),
            tender_amount: amount(tget("value").and_then(|v| v.get("amount"))),
            tender_currency: text(tget("value").and_then(|v| v.get("currency"))),
            tender_start: text(tget("tenderPeriod").and_then(|p| p.get("startDate"))),
            tender_end: text(tget("tenderPeriod").and_then(|p| p.get("endDate"))),
            date: text(compiled.get("date")),
            ..Summary::default()
        };
        if s.title.is_none() {
            // Processes without a tender (direct awards, some planning notices) are still named.
            s.title = text(compiled.pointer("/planning/project"))
                .or_else(|| array(compiled.get("awards")).find_map(|a| text(a.get("title"))))
                .or_else(|| array(compiled.get("contracts")).find_map(|c| text(c.get("title"))));
        }
        s.buyer = compiled
            .get("buyer")
            .and_then(|b| parties.resolve_in_role(b, "buyer"))
            .or_else(|| {
                parties
                    .list
                    .iter()
                    .find(|p| has_role(p, "buyer"))
                    .and_then(|p| Parties::org_of_party(p))
            });
        s.procuring_entity = tget("procuringEntity")
            .and_then(|b| parties.resolve_in_role(b, "procuringEntity"))
            .or_else(|| {
                parties
                    .list
                    .iter()
                    .find(|p| has_role(p, "procuringEntity"))
                    .and_then(|p| Parties::org_of_party(p))
            });
        if s.buyer.is_none() {
            // Where a publisher names no buyer, the procuring entity is the public body that
            // bought: searches by buyer would otherwise miss every process it ran.
            s.buyer = s.procuring_entity.clone();
        }
        for t in array(tget("tenderers")) {
            if let Some(org) = parties.resolve(t) {
                push_unique(&mut s.tenderers, org);
            }
        }

        // Awards: suppliers, what each won, the total awarded in one currency.
        let mut won: Vec<(String, f64)> = Vec::new();
        for award in array(compiled.get("awards")) {
            s.award_count += 1;
            let value = award.get("value");
            let mut a = amount(value.and_then(|v| v.get("amount")));
            let mut currency = text(value.and_then(|v| v.get("currency")));
            if a.is_none() {
                // An award without a value (DGCP's) is worth what its contracts are.
                let award_id = text(award.get("id"));
                for c in array(compiled.get("contracts"))
                    .filter(|c| award_id.is_some() && text(c.get("awardID")) == award_id)
                {
                    let v = c.get("value");
                    if let Some(x) = amount(v.and_then(|v| v.get("amount"))) {
                        *a.get_or_insert(0.0) += x;
                        currency = currency.or_else(|| text(v.and_then(|v| v.get("currency"))));
                    }
                }
            }
            let status = text(award.get("status"));
            // Cancelled and unsuccessful awards were never money given to anyone.
            let counts = !matches!(status.as_deref(), Some("cancelled" | "unsuccessful"));
            if counts {
                if let Some(a) = a {
                    if s.awarded_currency.is_none() {
                        s.awarded_currency = currency.clone();
                    }
                    if currency == s.awarded_currency {
                        *s.awarded_amount.get_or_insert(0.0) += a;
                    }
                }
            }
            earliest(&mut s.award_date, text(award.get("date")));
            let suppliers: Vec<OrgRef> = array(award.get("suppliers"))
                .filter_map(|r| parties.resolve(r))
                .collect();
            for org in suppliers.iter() {
                if counts {
                    if let Some(a) = a.filter(|_| currency == s.awarded_currency) {
                        // Shared awards are split evenly: the data rarely says who got what.
                        let share = a / suppliers.len() as f64;
                        match won.iter_mut().find(|(id, _)| *id == org.id) {
                            Some((_, total)) => *total += share,
                            None => won.push((org.id.clone(), share)),
                        }
                    }
                }
                push_unique(&mut s.suppliers, org.clone());
            }
        }
        for contract in array(compiled.get("contracts")) {
            s.contract_count += 1;
            let value = contract.get("value");
            if let Some(a) = amount(value.and_then(|v| v.get("amount"))) {
                let currency = text(value.and_then(|v| v.get("currency")));
                if s.awarded_currency.is_none() || currency == s.awarded_currency {
                    *s.contracted_amount.get_or_insert(0.0) += a;
                }
            }
            earliest(&mut s.contract_date, text(contract.get("dateSigned")));
        }
        // Suppliers named only in the parties list still supplied.
        for p in parties.list.iter().filter(|p| has_role(p, "supplier")) {
            if let Some(org) = Parties::org_of_party(p) {
                push_unique(&mut s.suppliers, org);
            }
        }
        (s.amount, s.currency) = match s.awarded_amount {
            Some(a) => (Some(a), s.awarded_currency.clone()),
            None => (s.tender_amount, s.tender_currency.clone()),
        };

        let mut classifications = Vec::new();
        let mut add_items = |items: Option<&Value>| {
            for item in array(items) {
                let Some(c) = item.get("classification") else {
                    continue;
                };
                let Some(id) = text(c.get("id")) else {
                    continue;
                };
                let key = match text(c.get("scheme")) {
                    Some(scheme) => format!("{scheme}-{id}"),
                    None => id,
                };
                if !classifications.contains(&key) {
                    classifications.push(key);
                }
            }
        };
        add_items(tget("items"));
        for a in array(compiled.get("awards")) {
            add_items(a.get("items"));
        }
        for c in array(compiled.get("contracts")) {
            add_items(c.get("items"));
        }
        s.classifications = classifications;

        // Roles: one row per organisation and part it played.
        let mut roles: Vec<Role> = Vec::new();
        let mut add = |org: &OrgRef, role: &str, amount: Option<f64>| {
            if !roles.iter().any(|r| r.org.id == org.id && r.role == role) {
                roles.push(Role {
                    org: org.clone(),
                    role: role.to_owned(),
                    amount,
                });
            }
        };
        if let Some(b) = &s.buyer {
            add(b, "buyer", s.amount);
        }
        if let Some(p) = &s.procuring_entity {
            add(p, "procuringEntity", s.amount);
        }
        for org in &s.suppliers {
            let amount = won.iter().find(|(id, _)| *id == org.id).map(|(_, a)| *a);
            add(org, "supplier", amount);
        }
        for org in &s.tenderers {
            add(org, "tenderer", None);
        }
        for p in &parties.list {
            let Some(org) = Parties::org_of_party(p) else {
                continue;
            };
            // Parts already added from the sections that say what they were keep their amounts.
            for role in array(p.get("roles")).filter_map(Value::as_str) {
                add(&org, role, None);
            }
        }
        s.roles = roles;
        s
    }

    /// The words a full-text search looks in.
    pub fn search_text(&self) -> String {
        let mut out = String::new();
        let mut push = |t: &str| {
            if !t.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(t);
            }
        };
        for t in [
            &self.title,
            &self.description,
            &self.procurement_method_details,
        ]
        .into_iter()
        .flatten()
        {
            push(t);
        }
        for org in self
            .buyer
            .iter()
            .chain(&self.procuring_entity)
            .chain(&self.suppliers)
        {
            push(&org.name);
        }
        out
    }
}

fn has_role(party: &Value, role: &str) -> bool {
    array(party.get("roles")).any(|r| r.as_str() == Some(role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summarises_a_dgcp_like_process() {
        let c = json!({
            "ocid": "ocds-x-1", "date": "2021-11-09T14:02:51Z",
            "parties": [
                {"id": "DO-UC-140", "name": "Oficina", "roles": ["procuringEntity", "buyer"],
                 "identifier": {"id": "140", "scheme": "Oficina de Ingenieros"}},
                {"id": "DO-RPE-69095", "name": "Coral, SRL", "roles": ["tenderer", "supplier"],
                 "identifier": {"id": "69095", "scheme": "DO-RPE"}},
                {"id": "p2", "name": "Diesel, SRL", "roles": ["tenderer"]}
            ],
            "buyer": {"id": "DO-UC-140", "name": "Oficina"},
            "tender": {"title": "Gasoil", "status": "complete", "procurementMethod": "open",
                       "value": {"amount": 383800, "currency": "DOP"},
                       "items": [{"id": "1", "classification": {"id": "15101505", "scheme": "UNSPSC"}}],
                       "tenderers": [{"id": "DO-RPE-69095"}, {"id": "p2", "name": "Diesel, SRL"}]},
            "awards": [
                {"id": "a1", "date": "2021-11-05T10:00:00Z", "status": "active",
                 "value": {"amount": 1000, "currency": "DOP"}, "suppliers": [{"id": "DO-RPE-69095"}]},
                {"id": "a2", "status": "cancelled", "value": {"amount": 5, "currency": "DOP"},
                 "suppliers": [{"id": "DO-RPE-69095"}]}
            ],
            "contracts": [{"id": "c1", "dateSigned": "2021-11-09T14:02:51Z", "value": {"amount": "900", "currency": "DOP"}}]
        });
        let s = Summary::of(&c);
        assert_eq!(s.title.as_deref(), Some("Gasoil"));
        assert_eq!(s.buyer.as_ref().map(|b| b.id.as_str()), Some("DO-UC-140"));
        assert_eq!(
            s.awarded_amount,
            Some(1000.0),
            "cancelled awards are not counted"
        );
        assert_eq!(s.amount, Some(1000.0));
        assert_eq!(
            s.contracted_amount,
            Some(900.0),
            "a number in a string is still read"
        );
        assert_eq!(s.award_date.as_deref(), Some("2021-11-05T10:00:00Z"));
        assert_eq!(s.suppliers.len(), 1);
        assert_eq!(s.suppliers[0].id, "DO-RPE-69095");
        assert_eq!(s.tenderers.len(), 2);
        assert_eq!(s.classifications, vec!["UNSPSC-15101505"]);
        let supplier = s
            .roles
            .iter()
            .find(|r| r.role == "supplier")
            .expect("supplier role");
        assert_eq!(supplier.amount, Some(1000.0));
        assert!(s
            .roles
            .iter()
            .any(|r| r.role == "procuringEntity" && r.org.id == "DO-UC-140"));
        assert!(s.search_text().contains("Coral, SRL"));
    }

    #[test]
    fn a_bare_reference_resolves_to_the_party_in_that_role() {
        // DGCP: the reference says `140`, the party is `DO-UC-140`, and no buyer is named.
        let c = json!({
            "parties": [{"id": "DO-UC-140", "name": "Oficina", "roles": ["procuringEntity"]},
                        {"id": "DO-RPE-1", "name": "Supplier", "roles": ["supplier"]}],
            "tender": {"procuringEntity": {"id": "140", "name": "Oficina"}}
        });
        let s = Summary::of(&c);
        assert_eq!(
            s.procuring_entity.as_ref().map(|o| o.id.as_str()),
            Some("DO-UC-140")
        );
        assert_eq!(
            s.buyer, s.procuring_entity,
            "no buyer named: the procuring entity bought"
        );
    }

    #[test]
    fn an_award_without_a_value_is_worth_its_contracts() {
        let c = json!({
            "parties": [{"id": "S1", "name": "Supplier", "roles": ["supplier"]}],
            "awards": [{"id": "a1", "status": "active", "suppliers": [{"id": "S1"}]}],
            "contracts": [{"id": "c1", "awardID": "a1", "value": {"amount": 850, "currency": "DOP"}},
                          {"id": "c2", "awardID": "other", "value": {"amount": 1, "currency": "DOP"}}]
        });
        let s = Summary::of(&c);
        assert_eq!(
            (s.awarded_amount, s.awarded_currency.as_deref()),
            (Some(850.0), Some("DOP"))
        );
        let supplier = s
            .roles
            .iter()
            .find(|r| r.role == "supplier")
            .expect("supplier");
        assert_eq!(supplier.amount, Some(850.0));
    }

    #[test]
    fn org_ids_follow_org_id_guide_only_for_real_schemes() {
        assert_eq!(
            org_id_from_identifier(&json!({"scheme": "GB-COH", "id": "00102498"})).as_deref(),
            Some("GB-COH-00102498")
        );
        assert_eq!(
            org_id_from_identifier(&json!({"scheme": "Some Agency", "id": "1"})),
            None
        );
        assert_eq!(org_id_from_identifier(&json!({"scheme": "GB-COH"})), None);
    }

    #[test]
    fn malformed_values_are_left_out() {
        let s = Summary::of(&json!({"tender": "x", "awards": {"a": 1}, "parties": [1, "x"]}));
        assert_eq!(s, Summary::default());
    }
}
