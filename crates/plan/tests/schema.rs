//! The schema and the typed parse reject what is wrong, and say where.

mod common;

use common::data_text;
use serde_json::{json, Value};
use tuwhera_plan::{validate, Finding, Plan, PlanError, SCHEMA};

fn data() -> Value {
    serde_json::from_str(&data_text()).unwrap()
}

fn paths(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn the_schema_is_draft_2020_12_and_describes_every_property() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    // Every property of every object in the schema has a description.
    fn walk(node: &Value, at: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        if prop.get("description").is_none() {
                            missing.push(format!("{at}/properties/{name}"));
                        }
                    }
                }
                for (key, value) in map {
                    walk(value, &format!("{at}/{key}"), missing);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&schema, "#", &mut missing);
    assert!(missing.is_empty(), "no description: {missing:?}");
}

#[test]
fn a_missing_lead_agency_is_named() {
    let mut plan = data();
    plan["commitments"][0]
        .as_object_mut()
        .unwrap()
        .remove("leadAgency");
    let findings = validate(&plan);
    assert_eq!(
        paths(&findings),
        ["$.commitments[0].leadAgency"],
        "{findings:?}"
    );
    assert!(findings[0].message.contains("leadAgency"));
}

#[test]
fn an_unknown_status_is_named() {
    let mut plan = data();
    plan["commitments"][3]["progress"][0]["status"] = json!("abandoned");
    let findings = validate(&plan);
    assert_eq!(
        paths(&findings),
        ["$.commitments[3].progress[0].status"],
        "{findings:?}"
    );
    assert!(findings[0].message.contains("abandoned"), "{findings:?}");
}

#[test]
fn commitment_number_zero_is_named() {
    let mut plan = data();
    plan["commitments"][0]["number"] = json!(0);
    let findings = validate(&plan);
    assert_eq!(
        paths(&findings),
        ["$.commitments[0].number"],
        "{findings:?}"
    );
}

#[test]
fn rules_across_fields_are_checked_too() {
    let mut plan = data();
    plan["commitments"][1]["number"] = json!(1);
    plan["commitments"][7]["milestones"][2]["number"] = json!(1);
    plan["commitments"][4]["progress"][0]["period"] = json!("2025");
    plan["commitments"][5]["progress"][0]["status"] = json!("completed");
    plan["commitments"][5]["progress"][0]
        .as_object_mut()
        .unwrap()
        .remove("statusQuote");
    plan["commitments"][6]["colour"] = json!("blue");
    let findings = validate(&plan);
    let mut got = paths(&findings);
    got.sort();
    assert_eq!(
        got,
        [
            "$.commitments[1].number",
            "$.commitments[4].progress[0].period",
            "$.commitments[5].progress[0].statusQuote",
            "$.commitments[6].colour",
            "$.commitments[7].milestones[2].number",
        ],
        "{findings:#?}"
    );
}

#[test]
fn dates_must_look_like_dates() {
    let mut plan = data();
    plan["period"]["start"] = json!("2023-13");
    plan["commitments"][7]["milestones"][0]["dueDate"] = json!("June 2023");
    let findings = validate(&plan);
    assert_eq!(
        paths(&findings),
        ["$.period.start", "$.commitments[7].milestones[0].dueDate"],
        "{findings:?}"
    );
}

/// Where `needle` starts in `text`, as serde_json counts: line and column from 1.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap();
    text[..at].matches('\n').count() + 1
}

#[test]
fn the_typed_parse_names_path_and_line() {
    let text = data_text().replacen("\"paused\"", "\"abandoned\"", 1);
    let Err(PlanError::Json {
        path,
        line,
        message,
        ..
    }) = Plan::from_json(&text)
    else {
        panic!("an unknown status must not parse");
    };
    assert_eq!(path, "$.commitments[3].progress[0].status");
    assert_eq!(line, line_of(&text, "\"abandoned\""));
    assert!(message.contains("abandoned"), "{message}");

    let text = data_text().replacen("\"number\": 5,", "\"number\": \"five\",", 1);
    let error = Plan::from_json(&text).unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.starts_with("$.commitments[4].number (line "),
        "{shown}"
    );

    let text = data_text().replacen("\"leadAgency\": \"Serious Fraud Office\",", "", 1);
    let Err(PlanError::Json { path, message, .. }) = Plan::from_json(&text) else {
        panic!("a missing lead agency must not parse");
    };
    assert_eq!(path, "$.commitments[3]");
    assert!(message.contains("leadAgency"), "{message}");

    let Err(PlanError::Json { path, line, .. }) = Plan::from_json("{\"id\": 1") else {
        panic!("truncated JSON must not parse");
    };
    assert_eq!((path.as_str(), line), ("$.id", 1));
    assert!(Plan::from_json(&format!("{} []", data_text())).is_err());
}

#[test]
fn a_progress_update_is_checked_in_the_plan_with_paths_of_its_own() {
    let plan = common::plan();
    let mut report = plan.commitment(3).unwrap().progress[0].clone();
    assert!(tuwhera_plan::validate_progress(&plan, 3, &report).is_empty());

    report.status = Some(tuwhera_plan::Status::OnTrack);
    report.status_quote = None;
    report.progress.push(String::new());
    let findings = tuwhera_plan::validate_progress(&plan, 3, &report);
    assert_eq!(
        paths(&findings),
        ["$.statusQuote", "$.progress[1]"],
        "{findings:#?}"
    );

    let mut later = plan.commitment(3).unwrap().progress[0].clone();
    later.period = "2031".into();
    let findings = tuwhera_plan::validate_progress(&plan, 3, &later);
    assert_eq!(paths(&findings), ["$.period"], "{findings:#?}");
    assert!(findings[0].message.contains("not among the plan's reports"));

    let findings = tuwhera_plan::validate_progress(&plan, 42, &later);
    assert_eq!(findings[0].message, "the plan has no commitment 42");
}
