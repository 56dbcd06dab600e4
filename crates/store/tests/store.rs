//! The store's behaviour, run against SQLite and against PostgreSQL: the same
//! tests, through the same interface. PostgreSQL comes from
//! `TUWHERA_TEST_POSTGRES` (a server URL), which `scripts/test.sh` sets after
//! starting a throwaway server; each test makes its own database on it.

use std::fs::File;
use std::path::{Path, PathBuf};

use tuwhera_ocds::reader::{self, Event, Limits};
use tuwhera_ocds::MergeRules;

mod common;
use common::{repo, stores};

fn items_of(path: &Path) -> Vec<Event> {
    reader::read_all(
        &path.display().to_string(),
        File::open(path).expect("input"),
        Limits::default(),
    )
}

fn items_from(name: &str, text: &str) -> Vec<Event> {
    reader::read_all(name, text.as_bytes(), Limits::default())
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_is_idempotent_and_compiles_changed_processes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<PathBuf> = {
        let d = repo().join("data/ocds/real-examples/mexico/jalisco/releases");
        let mut f: Vec<PathBuf> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("e").path())
            .collect();
        f.sort();
        f
    };
    for store in stores(dir.path(), "idem").await {
        let rules = MergeRules::ocds_1_1();
        let mut first = tuwhera_store::IngestSummary::default();
        for f in &files {
            let s = store.ingest(items_of(f)).await.expect("ingest");
            first.new += s.new;
            first.unchanged += s.unchanged;
            first.quarantined += s.quarantined;
        }
        assert_eq!((first.new, first.unchanged, first.quarantined), (10, 0, 0));
        assert_eq!(store.compile_dirty(&rules).await.expect("compile"), 3);
        let before = store.counts().await.expect("counts");
        assert_eq!(before, [10, 0, 3, 0]);
        // The same files again: nothing changes, nothing to compile.
        for f in &files {
            let s = store.ingest(items_of(f)).await.expect("ingest");
            assert_eq!((s.new, s.quarantined), (0, 0));
            assert_eq!(s.unchanged, 1);
        }
        assert_eq!(store.compile_dirty(&rules).await.expect("compile"), 0);
        assert_eq!(store.counts().await.expect("counts"), before);
        // The stored record is the merge of the files (checked against ocdskit elsewhere).
        let compiled = store
            .compiled("ocds-xs1qbl-SFIN-03-0001-00-2017")
            .await
            .expect("query")
            .expect("record");
        assert_eq!(compiled["tag"], serde_json::json!(["compiled"]));
        assert!(compiled["parties"]
            .as_array()
            .is_some_and(|p| !p.is_empty()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_kept_is_quarantined_with_its_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "quar").await {
        let text = r#"{"ocid":"ocds-aaaaaa-1","id":"1","date":"2024-01-01T00:00:00Z","tender":{"title":"A"}}
{"ocid":"ocds-aaaaaa-1","id":"1","date":"2024-01-01T00:00:00Z","tender":{"title":"B"}}
{"id":"2","date":"2024-01-01T00:00:00Z"}
{"ocid":"ocds-aaaaaa-3","date":"2024-01-01T00:00:00Z"}
{"ocid":"ocds-aaaaaa-4","id":"4"}
{"ocid": "ocds-aaaaaa-5", "id": "5", oops}
{"ocid":"ocds-aaaaaa-6","id":"6","date":"not-a-date"}
"#;
        let s = store
            .ingest(items_from("batch.jsonl", text))
            .await
            .expect("ingest");
        assert_eq!((s.new, s.unchanged, s.quarantined), (1, 0, 6));
        let mut reasons: Vec<(String, i64)> = store
            .quarantined()
            .await
            .expect("list")
            .into_iter()
            .map(|q| (q.reason, q.source_line))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            vec![
                ("bad-date".to_owned(), 7),
                ("conflict".to_owned(), 2),
                ("no-date".to_owned(), 5),
                ("no-id".to_owned(), 4),
                ("no-ocid".to_owned(), 3),
                ("read.json-syntax".to_owned(), 6),
            ]
        );
        // Again: the quarantine does not grow.
        let again = store
            .ingest(items_from("batch.jsonl", text))
            .await
            .expect("ingest");
        assert_eq!((again.new, again.unchanged, again.quarantined), (0, 1, 0));
        assert_eq!(store.counts().await.expect("counts")[1], 6);
        // The first version was kept and compiled; the conflicting one was not merged.
        store
            .compile_dirty(&MergeRules::ocds_1_1())
            .await
            .expect("compile");
        let c = store
            .compiled("ocds-aaaaaa-1")
            .await
            .expect("q")
            .expect("record");
        assert_eq!(c["tender"]["title"], "A");
    }
}

/// Flags, Procurement Rules findings and data quality are computed from the
/// stored records, agree with the flags crate run on the same records, and are
/// recomputed only when the data changes.
#[tokio::test(flavor = "multi_thread")]
async fn flags_findings_and_quality_follow_the_data() {
    use std::collections::{BTreeMap, BTreeSet};
    use tuwhera_store::SearchQuery;

    let dir = tempfile::tempdir().expect("temp dir");
    let nz = repo().join("data/ocds/synthetic-nz/releases.jsonl");
    let dgcp = repo().join("data/ocds/dgcp-1000.jsonl.gz");
    for store in stores(dir.path(), "risk").await {
        let rules = MergeRules::ocds_1_1();
        store.ingest(items_of(&nz)).await.expect("ingest nz");
        store.ingest(items_of(&dgcp)).await.expect("ingest dgcp");
        store.compile_dirty(&rules).await.expect("compile");
        assert!(!store.risk_is_current().await.expect("version"));
        let first = store.refresh_risk(false).await.expect("refresh");
        assert!(first.ran);
        assert_eq!(first.publishers, 2, "{first:?}");
        assert!(first.flags > 100 && first.findings > 50, "{first:?}");
        assert!(store.risk_is_current().await.expect("version"));
        // Nothing changed: nothing recomputed.
        assert!(!store.refresh_risk(false).await.expect("again").ran);

        // The stored flags are exactly what the flags crate finds on the stored
        // records, publisher by publisher.
        let mut ocids = Vec::new();
        let mut query = SearchQuery {
            limit: 500,
            ..SearchQuery::default()
        };
        loop {
            let page = store.search(&query).await.expect("search");
            ocids.extend(page.results.iter().map(|r| r.ocid.clone()));
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        let mut by_publisher: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        let mut stored: BTreeSet<(String, String, String)> = BTreeSet::new();
        for ocid in &ocids {
            let compiled = store
                .compiled(ocid)
                .await
                .expect("compiled")
                .expect("record");
            by_publisher
                .entry(tuwhera_store::risk::publisher_of(ocid).to_string())
                .or_default()
                .push(compiled);
            for f in store.process_flags(ocid).await.expect("flags") {
                stored.insert((f.code, f.subject_kind, f.subject_id));
            }
        }
        let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
        for releases in by_publisher.values() {
            let outcome =
                tuwhera_flags::Engine::new(tuwhera_flags::Settings::default()).run(releases);
            for f in outcome.flags.into_iter().filter(|f| !f.ocids.is_empty()) {
                expected.insert((
                    f.code,
                    f.subject.kind().to_string(),
                    f.subject.id().to_string(),
                ));
            }
        }
        assert!(!expected.is_empty());
        assert_eq!(stored, expected);
        let r003 = store
            .risk_page(&tuwhera_store::risk::RiskQuery {
                code: Some("R003".into()),
                limit: 5,
                ..Default::default()
            })
            .await
            .expect("risk list");
        assert!(
            r003.total > 0
                && r003
                    .results
                    .iter()
                    .all(|r| r.codes.contains(&"R003".to_string()))
        );

        // Procurement Rules: the New Zealand processes have met and unmet checks.
        let rates = store.compliance_rates().await.expect("rates");
        assert!(
            rates.iter().any(|r| r.not_met > 0) && rates.iter().any(|r| r.met > 0),
            "{rates:?}"
        );
        assert!(
            rates.iter().all(|r| r.buyer_id.starts_with("NZ-NZBN-")),
            "only NZD processes are checked"
        );
        let agency = store
            .agency_findings(&rates[0].buyer_id)
            .await
            .expect("agency");
        assert!(!agency.is_empty());

        // Quality: one snapshot per publisher now, two after the data changes.
        let latest = store.quality_latest().await.expect("quality");
        assert_eq!(latest.len(), 2);
        assert!(latest.iter().all(|q| (0.0..=100.0).contains(&q.score)));
        let changed = r#"{"ocid":"ocds-tuwhnz-000001","id":"ocds-tuwhnz-000001-99","date":"2025-01-01T00:00:00Z","tag":["tenderUpdate"],"tender":{"title":"SYNTHETIC changed title"}}"#;
        store
            .ingest(items_from("change.json", changed))
            .await
            .expect("ingest change");
        store.compile_dirty(&rules).await.expect("compile change");
        assert!(!store.risk_is_current().await.expect("version"));
        assert!(
            store
                .refresh_risk(false)
                .await
                .expect("refresh after change")
                .ran
        );
        assert_eq!(
            store
                .quality_history("ocds-tuwhnz")
                .await
                .expect("history")
                .len(),
            2
        );
    }
}

fn nap4() -> tuwhera_plan::Plan {
    let text = std::fs::read_to_string(repo().join("data/plan/nap4.json")).expect("nap4.json");
    tuwhera_plan::Plan::from_json(&text).expect("nap4.json parses")
}

/// Importing the same plan twice changes nothing; a changed plan is a new version of the
/// document and of the reports that changed; another plan is refused.
#[tokio::test(flavor = "multi_thread")]
async fn plan_import_is_idempotent_and_keeps_every_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "plan_import").await {
        assert!(store.plan_current().await.expect("current").is_none());
        let plan = nap4();
        let first = store
            .plan_import(&plan, "nap4.json", "plan import")
            .await
            .expect("import");
        assert_eq!(
            (
                first.version,
                first.plan_changed,
                first.progress_new,
                first.progress_unchanged
            ),
            (1, true, 8, 0)
        );
        let again = store
            .plan_import(&plan, "nap4.json", "plan import")
            .await
            .expect("import again");
        assert_eq!(
            (
                again.version,
                again.plan_changed,
                again.progress_new,
                again.progress_unchanged
            ),
            (1, false, 0, 8)
        );
        let current = store
            .plan_current()
            .await
            .expect("current")
            .expect("a plan");
        assert_eq!(current.plan, plan, "the plan as it stands is the file");
        assert_eq!(current.latest.len(), 8);

        let mut changed = plan.clone();
        changed.commitments[2].progress[0]
            .next_steps
            .push("A new step.".into());
        let second = store
            .plan_import(&changed, "nap4-v2.json", "plan import")
            .await
            .expect("import changed");
        assert_eq!(
            (
                second.version,
                second.plan_changed,
                second.progress_new,
                second.progress_unchanged
            ),
            (2, true, 1, 7)
        );
        let versions = store.plan_versions().await.expect("versions");
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.version, v.source.as_str()))
                .collect::<Vec<_>>(),
            [(1, "nap4.json"), (2, "nap4-v2.json")]
        );
        let history = store.plan_history(3).await.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].report, plan.commitments[2].progress[0]);
        assert_eq!(history[1].report, changed.commitments[2].progress[0]);
        assert_eq!(
            (history[1].version, history[1].kind.as_str()),
            (2, "import")
        );
        let current = store
            .plan_current()
            .await
            .expect("current")
            .expect("a plan");
        assert_eq!(current.plan, changed);

        let mut other = plan.clone();
        other.id = "nz-nap5".into();
        let refused = store.plan_import(&other, "nap5.json", "plan import").await;
        assert!(
            matches!(refused, Err(tuwhera_store::StoreError::Conflict(ref m)) if m.contains("nz-nap4")),
            "{refused:?}"
        );
    }
}

/// An agency's token changes only its own commitment; every version is kept; an import of
/// an unchanged file does not undo the agency's update.
#[tokio::test(flavor = "multi_thread")]
async fn progress_updates_are_scoped_and_kept() {
    use tuwhera_store::StoreError;
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "plan_update").await {
        let plan = nap4();
        store
            .plan_import(&plan, "nap4.json", "plan import")
            .await
            .expect("import");
        let dia = store
            .create_token_scoped("Department of Internal Affairs", None, &["plan:3".into()])
            .await
            .expect("token")
            .info;
        let mut report = plan.commitment(3).expect("3").progress[0].clone();
        report.progress = vec!["DIA has resumed work on commitment 3.".into()];
        let update = store
            .plan_update_progress(3, &report, &dia, "API", Some("resumed"), Some(1))
            .await
            .expect("update");
        assert!(update.changed);
        assert_eq!(update.version.version, 2);
        assert_eq!(update.version.publisher, "Department of Internal Affairs");
        assert_eq!(
            update.version.token_id.as_deref(),
            Some(dia.token_id.as_str())
        );

        // Not its commitment: refused, nothing stored.
        let mut other = plan.commitment(4).expect("4").progress[0].clone();
        other.progress = vec!["Not DIA's to say.".into()];
        let refused = store
            .plan_update_progress(4, &other, &dia, "API", None, None)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Forbidden(_))),
            "{refused:?}"
        );
        assert_eq!(store.plan_history(4).await.expect("history").len(), 1);

        // The same again records nothing; an edit of an old version is a conflict.
        let same = store
            .plan_update_progress(3, &report, &dia, "API", None, None)
            .await
            .expect("same");
        assert!(!same.changed);
        assert_eq!(same.version.version, 2);
        let stale = store
            .plan_update_progress(
                3,
                &plan.commitment(3).expect("3").progress[0],
                &dia,
                "web form",
                None,
                Some(1),
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        // A status without the report's sentence for it is not valid.
        let mut bad = report.clone();
        bad.status_quote = None;
        let invalid = store
            .plan_update_progress(3, &bad, &dia, "API", None, None)
            .await;
        assert!(
            matches!(invalid, Err(StoreError::Invalid { ref message, .. }) if message.contains("statusQuote")),
            "{invalid:?}"
        );

        let history = store.plan_history(3).await.expect("history");
        assert_eq!(history.len(), 2, "both versions kept");
        assert_eq!(
            history[0].report,
            plan.commitment(3).expect("3").progress[0]
        );
        assert_eq!(history[1].report, report);
        assert_eq!(history[1].note.as_deref(), Some("resumed"));

        // Importing the unchanged file again keeps the agency's update standing.
        let again = store
            .plan_import(&plan, "nap4.json", "plan import")
            .await
            .expect("import");
        assert_eq!(again.progress_new, 0);
        let current = store.plan_current().await.expect("current").expect("plan");
        assert_eq!(current.plan.commitment(3).expect("3").progress[0], report);
        assert_eq!(current.latest(3, "2024").expect("latest").version, 2);
    }
}

/// A question is held until moderated, answered only by the lead agency, and every step is kept.
#[tokio::test(flavor = "multi_thread")]
async fn questions_are_moderated_then_answered() {
    use tuwhera_store::StoreError;
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "plan_questions").await {
        store
            .plan_import(&nap4(), "nap4.json", "plan import")
            .await
            .expect("import");
        let asked = store
            .question_ask(
                6,
                Some("  Aroha  "),
                "When will the 2025 data be published?\r\nThanks.",
            )
            .await
            .expect("ask");
        assert_eq!(asked.status, "pending");
        assert_eq!(asked.name.as_deref(), Some("Aroha"));
        assert_eq!(
            asked.question,
            "When will the 2025 data be published?\nThanks."
        );
        assert!(store
            .questions(Some(6), "published")
            .await
            .expect("list")
            .is_empty());
        assert_eq!(
            store.questions(None, "pending").await.expect("list").len(),
            1
        );

        for (name, text, field) in [
            (None, "   ".to_owned(), "question"),
            (None, "x".repeat(2001), "question"),
            (Some("n".repeat(101)), "ok".to_owned(), "name"),
            (Some("two\nlines".to_owned()), "ok".to_owned(), "name"),
            (None, "bell\u{7}".to_owned(), "question"),
        ] {
            let e = store.question_ask(6, name.as_deref(), &text).await;
            assert!(
                matches!(e, Err(StoreError::Invalid { field: f, .. }) if f == field),
                "{name:?} {text:?}: {e:?}"
            );
        }
        assert!(matches!(
            store.question_ask(99, None, "?").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(store.question_ask(6, None, &"x".repeat(2000)).await.is_ok());

        let token = |scope: &str| {
            let store = store.clone();
            let scope = scope.to_owned();
            async move {
                store
                    .create_token_scoped("Agency", None, &[scope])
                    .await
                    .expect("token")
                    .info
            }
        };
        let moderator = token("plan:moderate").await;
        let mbie = token("plan:6").await;
        let other = token("plan:4").await;
        assert!(matches!(
            store.question_moderate(&asked.id, true, None, &other).await,
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            store.question_answer(&asked.id, "Soon.", &moderator).await,
            Err(StoreError::Forbidden(_))
        ));
        let published = store
            .question_moderate(&asked.id, true, None, &moderator)
            .await
            .expect("moderate");
        assert_eq!(published.status, "published");
        assert_eq!(
            store
                .questions(Some(6), "published")
                .await
                .expect("list")
                .len(),
            1
        );
        let answered = store
            .question_answer(&asked.id, "In March 2025.", &mbie)
            .await
            .expect("answer");
        assert_eq!(answered.answer.as_deref(), Some("In March 2025."));
        let revised = store
            .question_answer(&asked.id, "In April 2025.", &mbie)
            .await
            .expect("revise");
        assert_eq!(revised.answer.as_deref(), Some("In April 2025."));
        let events: Vec<String> = store
            .question_events(&asked.id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(events, ["asked", "published", "answered", "answered"]);
        assert_eq!(
            store.questions_answered(10).await.expect("answered").len(),
            1
        );

        // Rejected: never public, cannot be answered until published.
        let spam = store
            .question_ask(6, None, "Buy cheap watches")
            .await
            .expect("ask");
        store
            .question_moderate(&spam.id, false, Some("advertising"), &mbie)
            .await
            .expect("reject");
        assert!(matches!(
            store.question_answer(&spam.id, "No.", &mbie).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.question_counts(6).await.expect("counts"), (1, 1, 1));
    }
}

/// A session is found by its id until it ends, expires, or its token is revoked; only
/// the id's hash is stored.
#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_with_their_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    for store in stores(dir.path(), "sessions").await {
        let token = store
            .create_token_scoped("DIA", None, &["plan:3".into()])
            .await
            .expect("token");
        let (id, session) = store.session_start(&token.info, 3600).await.expect("start");
        assert_eq!(id.len(), 64);
        assert_ne!(session.csrf, id);
        let found = store.session(&id).await.expect("lookup").expect("found");
        assert_eq!(found.token.token_id, token.info.token_id);
        assert_eq!(found.csrf, session.csrf);
        assert!(store
            .session("0".repeat(64).as_str())
            .await
            .expect("lookup")
            .is_none());
        let (expired, _) = store.session_start(&token.info, 0).await.expect("start");
        assert!(store.session(&expired).await.expect("lookup").is_none());

        let (other, _) = store.session_start(&token.info, 3600).await.expect("start");
        assert!(store.session_end(&other).await.expect("end"));
        assert!(store.session(&other).await.expect("lookup").is_none());

        assert!(store
            .revoke_token(&token.info.token_id)
            .await
            .expect("revoke"));
        assert!(store.session(&id).await.expect("lookup").is_none());
    }
}
