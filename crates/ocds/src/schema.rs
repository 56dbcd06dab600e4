//! The OCDS 1.1.5 schemas and codelists, compiled in so the tool works offline.

pub const RELEASE_SCHEMA: &str = include_str!("../schema/1.1.5/release-schema.json");
pub const RELEASE_PACKAGE_SCHEMA: &str =
    include_str!("../schema/1.1.5/release-package-schema.json");
pub const RECORD_PACKAGE_SCHEMA: &str = include_str!("../schema/1.1.5/record-package-schema.json");

/// Codelists by file name (without `.csv`), as CSV text.
pub const CODELISTS: &[(&str, &str)] = &[
    (
        "awardCriteria",
        include_str!("../schema/1.1.5/codelists/awardCriteria.csv"),
    ),
    (
        "awardStatus",
        include_str!("../schema/1.1.5/codelists/awardStatus.csv"),
    ),
    (
        "contractStatus",
        include_str!("../schema/1.1.5/codelists/contractStatus.csv"),
    ),
    (
        "currency",
        include_str!("../schema/1.1.5/codelists/currency.csv"),
    ),
    (
        "documentType",
        include_str!("../schema/1.1.5/codelists/documentType.csv"),
    ),
    (
        "extendedProcurementCategory",
        include_str!("../schema/1.1.5/codelists/extendedProcurementCategory.csv"),
    ),
    (
        "initiationType",
        include_str!("../schema/1.1.5/codelists/initiationType.csv"),
    ),
    (
        "itemClassificationScheme",
        include_str!("../schema/1.1.5/codelists/itemClassificationScheme.csv"),
    ),
    (
        "method",
        include_str!("../schema/1.1.5/codelists/method.csv"),
    ),
    (
        "milestoneStatus",
        include_str!("../schema/1.1.5/codelists/milestoneStatus.csv"),
    ),
    (
        "milestoneType",
        include_str!("../schema/1.1.5/codelists/milestoneType.csv"),
    ),
    (
        "partyRole",
        include_str!("../schema/1.1.5/codelists/partyRole.csv"),
    ),
    (
        "procurementCategory",
        include_str!("../schema/1.1.5/codelists/procurementCategory.csv"),
    ),
    (
        "relatedProcess",
        include_str!("../schema/1.1.5/codelists/relatedProcess.csv"),
    ),
    (
        "relatedProcessScheme",
        include_str!("../schema/1.1.5/codelists/relatedProcessScheme.csv"),
    ),
    (
        "releaseTag",
        include_str!("../schema/1.1.5/codelists/releaseTag.csv"),
    ),
    (
        "submissionMethod",
        include_str!("../schema/1.1.5/codelists/submissionMethod.csv"),
    ),
    (
        "tenderStatus",
        include_str!("../schema/1.1.5/codelists/tenderStatus.csv"),
    ),
    (
        "unitClassificationScheme",
        include_str!("../schema/1.1.5/codelists/unitClassificationScheme.csv"),
    ),
];
