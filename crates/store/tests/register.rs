//! The beneficial ownership register in the store, against SQLite and
//! PostgreSQL: ingest with quarantine, rerun after a crash, resolution of
//! ultimate owners, protection, links to procurement.

use std::fs::File;
use std::path::Path;

use tuwhera_bods::read::{self, Item, Limits};
use tuwhera_store::bods::{BodsPreparer, BodsSearch};
use tuwhera_store::Store;

mod common;
use common::{repo, stores};

fn items(path: &Path) -> Vec<Item> {
    read::read_all(
        &path.display().to_string(),
        File::open(path).expect("input"),
        Limits::default(),
    )
}

fn clone_items(items: &[Item]) -> Vec<Item> {
    items
        .iter()
        .map(|i| Item {
            place: i.place.clone(),
            statement: i.statement.clone(),
        })
        .collect()
}

async fn ingest(store: &Store, items: Vec<Item>) -> tuwhera_store::bods::BodsIngestSummary {
    let mut preparer = BodsPreparer::new().expect("schema");
    let prepared = preparer.prepare(items);
    let summary = store.bods_ingest(prepared, "test").await.expect("ingest");
    store
        .bods_record_findings(&preparer.finish())
        .await
        .expect("findings");
    summary
}

#[tokio::test(flavor = "multi_thread")]
async fn register_ingest_reruns_cleanly_and_resolves_owners() {
    let dir = tempfile::tempdir().expect("temp dir");
    let linked = items(&repo().join("data/linked/bods-synthetic-nz.jsonl"));
    let total = linked.len() as u64;
    for store in stores(dir.path(), "register").await {
        // A run that stopped after its first batch (a crash), then a full rerun.
        let first = ingest(&store, clone_items(&linked[..10])).await;
        assert_eq!((first.new, first.quarantined), (10, 0));
        let rerun = ingest(&store, clone_items(&linked)).await;
        assert_eq!(
            (rerun.new, rerun.unchanged, rerun.quarantined),
            (total - 10, 10, 0)
        );
        let again = ingest(&store, clone_items(&linked)).await;
        assert_eq!((again.new, again.unchanged), (0, total));
        assert_eq!(
            store.bods_counts().await.expect("counts").statements,
            total as i64
        );

        store
            .bods_protect("NZ-SYNTH-PER-P4", "test: protection granted")
            .await
            .expect("protect");
        let resolved = store.bods_resolve(false).await.expect("resolve");
        assert!(resolved.ran);
        assert!(
            store.bods_is_resolved().await.expect("resolved"),
            "the derived tables are up to date"
        );
        assert!(!store.bods_resolve(false).await.expect("resolve").ran);

        // A chain three deep with share ranges: 50–75 % × 25–50 % × more than 75 %.
        let owners = store
            .bods_ultimate_owners("NZ-NZBN-9429007700071")
            .await
            .expect("owners");
        assert_eq!(owners.len(), 1, "{owners:?}");
        assert_eq!(owners[0].owner_id.as_deref(), Some("NZ-SYNTH-PER-P3"));
        assert_eq!(owners[0].depth, 3);
        let (min, max) = (
            owners[0].share_min.expect("min"),
            owners[0].share_max.expect("max"),
        );
        assert!(
            (min - 9.375).abs() < 1e-9 && (max - 37.5).abs() < 1e-9,
            "{min}–{max}"
        );

        // A chain that ends in an unknown owner, with the reason.
        let owners = store
            .bods_ultimate_owners("NZ-NZBN-9429007700057")
            .await
            .expect("owners");
        assert!(
            owners.iter().any(|o| o.kind == "unknown"
                && o.reason.as_deref() == Some("interestedPartyHasNotProvidedInformation")),
            "{owners:?}"
        );

        // A closed relationship is history, not a current owner.
        let direct = store
            .bods_owners_direct("NZ-NZBN-9429007700019")
            .await
            .expect("direct");
        let closed = direct
            .iter()
            .find(|r| r.record_id == "NZ-SYNTH-REL-HARBOUR-P5")
            .expect("the closed relationship is kept");
        assert!(!closed.current);
        let owners = store
            .bods_ultimate_owners("NZ-NZBN-9429007700019")
            .await
            .expect("owners");
        assert!(!owners
            .iter()
            .any(|o| o.owner_id.as_deref() == Some("NZ-SYNTH-PER-P5")));

        // The protected person: no name in any derived table or public statement.
        let p4 = store
            .bods_record("NZ-SYNTH-PER-P4")
            .await
            .expect("record")
            .expect("P4");
        assert_eq!(p4.withheld_reason.as_deref(), Some("protected"));
        assert!(!p4.name.contains("Kiri"), "{p4:?}");
        for s in store
            .bods_statements_of("NZ-SYNTH-PER-P4")
            .await
            .expect("statements")
        {
            let text = s.to_string();
            assert!(
                !text.contains("Kiri")
                    && !text.contains("Hidden Lane")
                    && !text.contains("999-001-044"),
                "{text}"
            );
        }
        let found = store
            .bods_search(&BodsSearch {
                q: "Kiri".into(),
                record_type: None,
                limit: 20,
            })
            .await
            .expect("search");
        assert!(found.is_empty(), "a protected name is not searchable");

        // A statement id published again with other content is quarantined, not stored.
        let mut changed = linked[0].statement.clone().expect("statement");
        changed["statementDate"] = "2021-01-01".into();
        let conflict = ingest(
            &store,
            vec![Item {
                place: linked[0].place.clone(),
                statement: Ok(changed),
            }],
        )
        .await;
        assert_eq!((conflict.new, conflict.quarantined), (0, 1));
        let held = store.bods_quarantine(10).await.expect("quarantine");
        assert!(held.iter().any(|q| q.reason == "duplicate-statement-id"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legacy_file_with_defects_is_reported_and_the_rest_imported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let legacy = items(&repo().join("crates/bods/tests/data/legacy-0.2.json"));
    for store in stores(dir.path(), "legacy").await {
        let s = ingest(&store, clone_items(&legacy)).await;
        assert_eq!((s.new, s.quarantined), (3, 2), "{s:?}");
        assert!(
            s.findings >= 2,
            "the upgrade findings on kept statements are recorded: {s:?}"
        );
        let held = store.bods_quarantine(10).await.expect("quarantine");
        let mut reasons: Vec<(&str, &str, i64)> = held
            .iter()
            .map(|q| (q.reason.as_str(), q.path.as_str(), q.source_line))
            .collect();
        reasons.sort();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        // The string that is not a statement fails the schema's type; the relationship with no
        // interested party could not be upgraded, and that is the reason given.
        assert_eq!(reasons[0].0, "schema.type");
        assert_eq!(reasons[0].1, "$[4]");
        assert_eq!(reasons[1].0, "upgrade.missing-interested-party");
        assert_eq!(reasons[1].1, "$[3].recordDetails.interestedParty");
        assert!(held
            .iter()
            .all(|q| q.source_file.ends_with("legacy-0.2.json") && q.source_line > 0));
        store.bods_resolve(false).await.expect("resolve");
        let owners = store
            .bods_ultimate_owners("legacy-entity-0001-aaaaaaaaaaaaaaaaaaaa")
            .await
            .expect("owners");
        assert_eq!(owners.len(), 1, "{owners:?}");
        assert_eq!(
            owners[0].owner_id.as_deref(),
            Some("legacy-person-0001-bbbbbbbbbbbbbbbbbbbb")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suppliers_link_to_their_beneficial_owners() {
    use tuwhera_ocds::reader;
    let dir = tempfile::tempdir().expect("temp dir");
    let releases = repo().join("data/linked/ocds-synthetic-suppliers.jsonl");
    for store in stores(dir.path(), "links").await {
        let events = reader::read_all(
            "ocds-synthetic-suppliers.jsonl",
            File::open(&releases).expect("releases"),
            reader::Limits::default(),
        );
        store
            .ingest_prepared(tuwhera_store::Prepared::new(events, None))
            .await
            .expect("ingest releases");
        store
            .compile_dirty(&tuwhera_ocds::MergeRules::ocds_1_1())
            .await
            .expect("compile");
        ingest(
            &store,
            items(&repo().join("data/linked/bods-synthetic-nz.jsonl")),
        )
        .await;
        store.bods_resolve(false).await.expect("resolve");

        let links = store
            .bods_entities_of_org("NZ-NZBN-9429007700019")
            .await
            .expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].record_id, "NZ-NZBN-9429007700019");
        assert!(store
            .bods_entities_of_org("NZ-NZBN-9429007700101")
            .await
            .expect("links")
            .is_empty());

        // P2 owns two suppliers of one buyer: their contracts show on P2's page.
        let owned = store
            .bods_ultimately_owned("NZ-SYNTH-PER-P2")
            .await
            .expect("owned");
        let entities: Vec<String> = owned.iter().map(|o| o.subject_id.clone()).collect();
        let won = store.bods_contracts_won(&entities).await.expect("won");
        let mut ocids: Vec<&str> = won.iter().map(|c| c.ocid.as_str()).collect();
        ocids.sort();
        assert_eq!(
            ocids,
            ["ocds-synthnz-link-000002", "ocds-synthnz-link-000003"]
        );
        assert!(
            store
                .bods_counts()
                .await
                .expect("counts")
                .linked_organisations
                >= 5
        );
    }
}
