#!/usr/bin/env python3
"""Writes releases.jsonl: SYNTHETIC OCDS 1.1 releases for the Government
Procurement Rules compliance checks (see README.md). Deterministic: run it
again and the file is the same.

    python3 data/ocds/synthetic-nz/generate.py
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def nzbn(base12):
    """A 13-digit NZBN (a GS1 GLN) from 12 digits, with its check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(base12))
    return base12 + str((10 - total % 10) % 10)


def org(n, name, street, locality, postcode):
    number = nzbn("94290009%04d" % n)
    return {
        "id": "NZ-NZBN-" + number,
        "name": name,
        "identifier": {"scheme": "NZ-NZBN", "id": number, "legalName": name},
        "address": {
            "streetAddress": street,
            "locality": locality,
            "postalCode": postcode,
            "countryName": "New Zealand",
        },
    }


# Agencies: plausible names, no real agency. Suppliers: plainly fictitious.
AGENCIES = {
    "coastal": org(1, "Ministry for Coastal Resilience", "10 Harbour Quay", "Wellington", "6011"),
    "records": org(2, "Department of Civic Records", "22 Lambton Terrace", "Wellington", "6011"),
    "transport": org(3, "Regional Transport Authority", "5 Victoria Street", "Hamilton", "3204"),
    "digital": org(4, "Office of Digital Services", "88 Cathedral Square", "Christchurch", "8011"),
    "water": org(5, "Coastal Water Services Board", "3 Esplanade", "Napier", "4110"),
}
SUPPLIERS = {
    "example": org(101, "Example Supplies Ltd", "1 Example Street", "Auckland", "1010"),
    "sample": org(102, "Sample Services Ltd", "2 Sample Road", "Wellington", "6012"),
    "demo": org(103, "Demonstration Construction Ltd", "3 Demo Avenue", "Tauranga", "3110"),
    "illustrative": org(104, "Illustrative IT Ltd", "4 Placeholder Lane", "Dunedin", "9016"),
    "mock": org(105, "Mock Maintenance Ltd", "5 Mock Crescent", "Nelson", "7010"),
    "fictional": org(106, "Fictional Furniture Ltd", "6 Fiction Place", "Palmerston North", "4410"),
    "dummy": org(107, "Dummy Catering Ltd", "7 Dummy Drive", "Rotorua", "3010"),
}
# An overseas supplier: no NZBN and no address recorded.
OVERSEAS = {"id": "XX-OVERSEAS-1", "name": "Overseas Example Corp"}

RELEASES = []


def nz(day, time="10:00:00"):
    """A New Zealand timestamp; +13:00 (NZDT) October–March, else +12:00."""
    month = int(day[5:7])
    offset = "+13:00" if month >= 10 or month <= 3 else "+12:00"
    return "%sT%s%s" % (day, time, offset)


def release(
    title,
    description,
    agency,
    supplier,
    amount,
    category="goods",
    method="open",
    details=None,
    rationale=None,
    tender_start=None,
    awarded=None,
    signed=None,
    published=None,
    currency="NZD",
    term=("2024-07-01", "2025-06-30"),
    drop_supplier_detail=False,
    no_term=False,
):
    n = len(RELEASES) + 1
    ocid = "ocds-tuwhnz-%06d" % n
    buyer = AGENCIES[agency]
    seller = OVERSEAS if supplier == "overseas" else SUPPLIERS[supplier]
    buyer_party = dict(buyer, roles=["buyer", "procuringEntity"])
    seller_party = dict(seller, roles=["supplier", "tenderer"])
    if drop_supplier_detail:
        seller_party = {"id": seller["id"], "name": seller["name"], "roles": ["supplier", "tenderer"]}
    value = {"amount": amount, "currency": currency}
    tender = {
        "id": "%s-tender" % ocid,
        "title": "SYNTHETIC — " + title,
        "description": description,
        "status": "complete",
        "mainProcurementCategory": category,
        "procurementMethod": method,
        "value": value,
        "procuringEntity": {"id": buyer["id"], "name": buyer["name"]},
    }
    if details:
        tender["procurementMethodDetails"] = details
    if rationale:
        tender["procurementMethodRationale"] = rationale
    if tender_start:
        tender["tenderPeriod"] = {"startDate": nz(tender_start, "09:00:00")}
    award = {
        "id": "%s-award-1" % ocid,
        "title": title,
        "description": description,
        "status": "active",
        "date": nz(awarded, "00:00:00"),
        "value": value,
        "suppliers": [{"id": seller["id"], "name": seller["name"]}],
        "documents": [
            {
                "id": "%s-award-notice" % ocid,
                "documentType": "awardNotice",
                "title": "Contract award notice",
                "url": "https://example.org/synthetic/%s/award-notice" % ocid,
                "datePublished": nz(published),
                "format": "text/html",
                "language": "en",
            }
        ],
    }
    contract = {
        "id": "%s-contract-1" % ocid,
        "awardID": award["id"],
        "title": title,
        "description": description,
        "status": "active",
        "value": value,
        "dateSigned": nz(signed, "15:00:00"),
    }
    if not no_term:
        period = {"startDate": nz(term[0], "00:00:00"), "endDate": nz(term[1], "23:59:59")}
        award["contractPeriod"] = period
        contract["period"] = period
    RELEASES.append(
        {
            "ocid": ocid,
            "id": "%s-01" % ocid,
            "date": nz(published),
            "tag": ["tender", "award", "contract"],
            "initiationType": "tender",
            "language": "en",
            "parties": [buyer_party, seller_party],
            "buyer": {"id": buyer["id"], "name": buyer["name"]},
            "tender": tender,
            "awards": [award],
            "contracts": [contract],
        }
    )


# ---- 4th edition (2019): open, timely, complete (all Met).
release("Office furniture for the Wellington office", "Desks, chairs and storage for 120 staff.",
        "coastal", "fictional", 185000, tender_start="2024-02-05", awarded="2024-04-10",
        signed="2024-04-16", published="2024-04-24")
release("Coastal monitoring sensors", "Supply of 40 tide and wave sensors with installation.",
        "coastal", "example", 420000, tender_start="2024-05-06", awarded="2024-07-15",
        signed="2024-07-22", published="2024-08-01")
release("Records digitisation services", "Scanning and indexing of 2 million paper records.",
        "records", "illustrative", 960000, category="services", tender_start="2024-03-04",
        awarded="2024-05-20", signed="2024-05-27", published="2024-06-05")
release("Bus shelter maintenance", "Cleaning and repair of 300 bus shelters over three years.",
        "transport", "mock", 640000, category="services", tender_start="2023-08-07",
        awarded="2023-10-02", signed="2023-10-09", published="2023-10-20")
release("Regional depot construction", "New construction of a bus depot and workshop.",
        "transport", "demo", 14500000, category="works", tender_start="2023-03-06",
        awarded="2023-06-12", signed="2023-06-20", published="2023-07-05")
release("Cloud hosting services", "Hosting of the public records portal for three years.",
        "digital", "illustrative", 350000, category="services", tender_start="2024-09-02",
        awarded="2024-11-04", signed="2024-11-11", published="2024-11-20")
release("Water meter replacement", "Supply and installation of 5,000 water meters.",
        "water", "example", 780000, tender_start="2025-01-13", awarded="2025-03-17",
        signed="2025-03-24", published="2025-04-02")
release("Catering for training courses", "Catering for 60 training days a year.",
        "records", "dummy", 120000, category="services", tender_start="2024-06-03",
        awarded="2024-08-05", signed="2024-08-12", published="2024-08-20")

# ---- 4th edition: exemption and opt-out recorded (GPR-ADVERTISE Met).
release("Emergency seawall repair", "Urgent refurbishment of a storm-damaged seawall.", "coastal", "demo",
        450000, category="works", method="limited",
        details="Direct source (exemption from open advertising: emergency)",
        rationale="Genuine emergency after the storm of 12 March: the seawall protected the road "
                  "and had to be repaired within days (refurbishment works).",
        awarded="2024-03-14", signed="2024-03-15", published="2024-03-28")
release("Licence renewal for the records system", "Renewal of the records management software licence.",
        "records", "illustrative", 210000, category="services", method="limited",
        details="Direct source (exemption: unique supplier)",
        rationale="Only the licensor can renew the licence of the records system in use.",
        awarded="2024-10-07", signed="2024-10-10", published="2024-10-18")
release("Office space from another agency", "Lease of floor space from another government agency.",
        "digital", "sample", 300000, category="services", method="direct",
        details="Opt-out: procurement from another government agency",
        awarded="2025-02-03", signed="2025-02-05", published="2025-02-14")

# ---- 4th edition: not advertised, nothing recorded (GPR-ADVERTISE NotMet;
# GPR-NOTICE-CONTENT NotMet: no justification).
release("Communications advice", "Strategic communications advice for a public campaign.",
        "coastal", "sample", 180000, category="services", method="limited",
        awarded="2024-09-09", signed="2024-09-12", published="2024-09-25")
release("Vehicle fleet servicing", "Servicing of 80 fleet vehicles for two years.",
        "transport", "mock", 260000, category="services", method="selective",
        awarded="2025-05-05", signed="2025-05-08", published="2025-05-20")
release("Refurbishment of the public counter", "Refurbishment of the ground floor public counter.",
        "records", "demo", 390000, category="works", method="direct",
        awarded="2023-11-06", signed="2023-11-10", published="2023-11-24")

# ---- 4th edition: award notices late (GPR-AWARD-NOTICE NotMet).
release("Laptops for field staff", "Supply of 150 rugged laptops.", "water", "illustrative", 330000,
        tender_start="2023-10-02", awarded="2024-01-26", signed="2024-01-31",
        published="2024-03-15")  # 31 business days across Waitangi Day
release("Survey services", "Topographic survey of 40 km of coastline.", "coastal", "sample",
        275000, category="services", tender_start="2023-12-04", awarded="2024-03-22",
        signed="2024-03-27", published="2024-05-14")  # 31 across Easter and Anzac Day
release("Road marking", "Road marking on regional routes for two years.", "transport", "mock",
        500000, category="services", tender_start="2024-08-05", awarded="2024-11-25",
        signed="2024-12-02", published="2025-02-28")  # across the Christmas close
# ... and exactly on time.
release("Printing services", "Printing of annual reports and forms.", "records", "example", 140000,
        category="services", tender_start="2023-10-09", awarded="2024-01-26", signed="2024-01-31",
        published="2024-03-14")  # 30 business days: on time

# ---- 4th edition: award notices missing content (GPR-NOTICE-CONTENT NotMet).
release("Specialist data licence", "Licence for overseas satellite imagery data.", "coastal",
        "overseas", 230000, category="services", tender_start="2024-04-08", awarded="2024-06-10",
        signed="2024-06-14", published="2024-06-25")  # supplier address and NZBN
release("Call centre services", "Overflow call centre services.", "records", "sample", 410000,
        category="services", tender_start="2024-07-01", awarded="2024-09-02", signed="2024-09-05",
        published="2024-09-13", no_term=True)  # contract term
release("Pump station upgrade design", "Engineering design for a pump station upgrade.", "water",
        "demo", 380000, category="services", tender_start="2024-10-07", awarded="2024-12-09",
        signed="2024-12-12", published="2024-12-20", drop_supplier_detail=True)

# ---- Not applicable: under threshold, new construction under $9 million,
# another currency, before the 4th edition.
release("Stationery", "Office stationery for a year.", "digital", "example", 45000,
        method="limited", awarded="2024-05-13", signed="2024-05-15", published="2024-05-22")
release("Footpath construction", "New construction of 2 km of footpath.", "transport", "demo",
        4200000, category="works", method="selective", awarded="2024-02-12", signed="2024-02-19",
        published="2024-03-01")
release("Conference registration overseas", "Registration for an international conference.",
        "digital", "overseas", 150000, category="services", method="direct", currency="USD",
        awarded="2024-07-08", signed="2024-07-09", published="2024-07-16")
release("Archive shelving", "Mobile shelving for the archive.", "records", "fictional", 200000,
        tender_start="2019-06-03", awarded="2019-08-05", signed="2019-08-09", published="2019-08-20")

# ---- GPR-SPLITTING: Department of Civic Records buys from Sample Services
# Ltd three times in 62 days, each under $100,000, together $105,000.
release("Records policy review (part 1)", "Review of records retention policy.", "records",
        "sample", 35000, category="services", method="direct", awarded="2024-02-12",
        signed="2024-02-14", published="2024-02-21")
release("Records policy review (part 2)", "Review of records disposal policy.", "records",
        "sample", 38000, category="services", method="direct", awarded="2024-03-11",
        signed="2024-03-13", published="2024-03-20")
release("Records policy review (part 3)", "Review of records access policy.", "records",
        "sample", 32000, category="services", method="direct", awarded="2024-04-15",
        signed="2024-04-17", published="2024-04-24")
# The same buyer and supplier months apart: no split.
release("Records training", "Training for records staff.", "records", "sample", 40000,
        category="services", method="direct", awarded="2024-10-14", signed="2024-10-16",
        published="2024-10-23")
# Another buyer: two purchases 120 days apart, under the threshold together in any 90 days.
release("Catering for workshops (spring)", "Catering for stakeholder workshops.", "water", "dummy",
        48000, category="services", method="direct", awarded="2024-09-02", signed="2024-09-04",
        published="2024-09-11")
release("Catering for workshops (summer)", "Catering for stakeholder workshops.", "water", "dummy",
        48000, category="services", method="direct", awarded="2024-12-31", signed="2025-01-06",
        published="2025-01-13")

# ---- 5th edition (2025), in force 1 December 2025.
release("Coastal hazard mapping", "Mapping of coastal inundation hazards.", "coastal", "sample",
        520000, category="services", tender_start="2025-12-08", awarded="2026-02-16",
        signed="2026-02-20", published="2026-03-02")
release("Transport planning software", "Software for regional transport planning.", "transport",
        "illustrative", 240000, category="services", method="limited",
        awarded="2026-01-19", signed="2026-01-22", published="2026-02-02")  # NotMet
release("Emergency culvert replacement", "Urgent refurbishment works to replace a collapsed culvert.",
        "transport", "demo", 700000, category="works", method="limited",
        details="Closed competitive (exemption: emergency)",
        rationale="A collapsed culvert closed a state highway detour route; refurbishment works "
                  "were needed within a week.",
        awarded="2026-01-12", signed="2026-01-13", published="2026-01-21")
release("Shared services from another agency", "Payroll services bought from another agency.",
        "digital", "sample", 260000, category="services", method="direct",
        details="Opt-out: purchase from another government agency",
        rationale="Opt-out: payroll bought from another government agency's shared service.",
        awarded="2025-12-08", signed="2025-12-10", published="2026-02-27")  # notice late
release("Water treatment chemicals", "Supply of water treatment chemicals for two years.", "water",
        "example", 310000, tender_start="2025-12-01", awarded="2026-02-02", signed="2026-02-05",
        published="2026-02-13")
release("Depot extension", "New construction of a depot extension.", "water", "demo", 9800000,
        category="works", tender_start="2025-12-15", awarded="2026-03-02", signed="2026-03-09",
        published="2026-03-17")
release("Website accessibility audit", "Accessibility audit of 12 websites.", "digital",
        "illustrative", 60000, category="services", method="direct", awarded="2026-01-26",
        signed="2026-01-28", published="2026-02-04")
release("Website accessibility fixes", "Fixes from the accessibility audit.", "digital",
        "illustrative", 55000, category="services", method="direct", awarded="2026-03-02",
        signed="2026-03-04", published="2026-03-11")  # with the audit: $115,000 in 35 days

with open(os.path.join(HERE, "releases.jsonl"), "w", encoding="utf-8") as out:
    for r in RELEASES:
        out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
print("wrote %d releases" % len(RELEASES))
