//! Validation: the embedded JSON Schema, then the rules a schema cannot say (uniqueness,
//! references between fields).

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

/// The plan's JSON Schema (draft 2020-12), as shipped in `schema/plan.schema.json`.
pub const SCHEMA: &str = include_str!("../schema/plan.schema.json");

/// One problem with a plan: where (a JSONPath such as `$.commitments[0].leadAgency`) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn compiled() -> &'static Result<jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            // 2020-12 treats `format` as an annotation; the schema uses patterns instead, but
            // asserting keeps any format that is added meaningful.
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| e.to_string())
    })
}

/// Every finding about a plan in its JSON form: schema violations first (in the schema
/// validator's order), then the cross-field rules. Empty means valid.
pub fn validate(value: &Value) -> Vec<Finding> {
    let validator = match compiled() {
        Ok(validator) => validator,
        // The schema ships in the crate and a test compiles it, so this is a broken build;
        // say so as a finding rather than bring the caller down.
        Err(message) => {
            return vec![Finding {
                path: "$".to_owned(),
                message: format!("the plan schema does not compile: {message}"),
            }]
        }
    };
    let mut findings: Vec<Finding> = validator
        .iter_errors(value)
        .flat_map(|error| {
            let at = pointer_to_path(error.instance_path().as_str());
            let short = matches!(
                error.instance().as_ref(),
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
            );
            // A whole object in the message would drown the point; the path says which one.
            let message = if short {
                error.to_string()
            } else {
                error.masked().to_string()
            };
            match error.kind() {
                // Point at the missing or extra member itself, not at the object holding it.
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    vec![Finding {
                        path: child(&at, name),
                        message: format!("required property {name:?} is missing"),
                    }]
                }
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    unexpected
                        .iter()
                        .map(|name| Finding {
                            path: child(&at, name),
                            message: format!("unknown property {name:?}"),
                        })
                        .collect()
                }
                _ => vec![Finding { path: at, message }],
            }
        })
        .collect();
    cross_field_rules(value, &mut findings);
    findings
}

fn cross_field_rules(value: &Value, findings: &mut Vec<Finding>) {
    let mut report_periods = HashSet::new();
    let reports = value.get("reports").and_then(Value::as_array);
    for (i, report) in reports.into_iter().flatten().enumerate() {
        if let Some(period) = report.get("period").and_then(Value::as_str) {
            if !report_periods.insert(period) {
                findings.push(Finding {
                    path: format!("$.reports[{i}].period"),
                    message: format!("period {period:?} has more than one report"),
                });
            }
        }
    }
    let mut numbers = HashSet::new();
    let commitments = value.get("commitments").and_then(Value::as_array);
    for (i, commitment) in commitments.into_iter().flatten().enumerate() {
        if let Some(number) = commitment.get("number").and_then(Value::as_u64) {
            if !numbers.insert(number) {
                findings.push(Finding {
                    path: format!("$.commitments[{i}].number"),
                    message: format!("commitment number {number} is used more than once"),
                });
            }
        }
        let mut milestones = HashSet::new();
        let listed = commitment.get("milestones").and_then(Value::as_array);
        for (j, milestone) in listed.into_iter().flatten().enumerate() {
            if let Some(number) = milestone.get("number").and_then(Value::as_u64) {
                if !milestones.insert(number) {
                    findings.push(Finding {
                        path: format!("$.commitments[{i}].milestones[{j}].number"),
                        message: format!("milestone number {number} is used more than once"),
                    });
                }
            }
        }
        let mut periods = HashSet::new();
        let progress = commitment.get("progress").and_then(Value::as_array);
        for (j, entry) in progress.into_iter().flatten().enumerate() {
            let Some(period) = entry.get("period").and_then(Value::as_str) else {
                continue;
            };
            let path = format!("$.commitments[{i}].progress[{j}].period");
            if !periods.insert(period) {
                findings.push(Finding {
                    path: path.clone(),
                    message: format!("period {period:?} is reported more than once"),
                });
            }
            // Without a report entry the period has no title to be rendered under.
            if reports.is_some() && !report_periods.contains(period) {
                findings.push(Finding {
                    path,
                    message: format!("period {period:?} is not among the plan's reports"),
                });
            }
        }
    }
}

/// A JSON pointer (as the schema validator reports places) as a JSONPath.
fn pointer_to_path(pointer: &str) -> String {
    let mut path = String::from("$");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path = child(&path, &segment);
        }
    }
    path
}

pub(crate) fn child(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{name}")
    } else {
        format!("{path}[{}]", Value::String(name.to_owned()))
    }
}

/// Every finding about `report` as commitment `number`'s progress in `plan` (replacing the
/// commitment's report for the same period, or added after its others): the schema's rules for
/// a progress report and the rules across fields (the period must be one of the plan's
/// reports). Paths are relative to the report: `$.statusQuote`, `$.progress[2]`.
pub fn validate_progress(
    plan: &crate::Plan,
    number: u32,
    report: &crate::ProgressReport,
) -> Vec<Finding> {
    let mut plan = plan.clone();
    let Some(index) = plan.commitments.iter().position(|c| c.number == number) else {
        return vec![Finding {
            path: "$".to_owned(),
            message: format!("the plan has no commitment {number}"),
        }];
    };
    let progress = &mut plan.commitments[index].progress;
    let at = match progress.iter().position(|p| p.period == report.period) {
        Some(at) => {
            progress[at] = report.clone();
            at
        }
        None => {
            progress.push(report.clone());
            progress.len() - 1
        }
    };
    let value = match serde_json::to_value(&plan) {
        Ok(value) => value,
        Err(e) => {
            return vec![Finding {
                path: "$".to_owned(),
                message: e.to_string(),
            }]
        }
    };
    let prefix = format!("$.commitments[{index}].progress[{at}]");
    validate(&value)
        .into_iter()
        .filter_map(|finding| {
            let rest = finding.path.strip_prefix(&prefix)?;
            if !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')) {
                return None;
            }
            Some(Finding {
                path: format!("${rest}"),
                message: finding.message,
            })
        })
        .collect()
}
