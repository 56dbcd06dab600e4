#!/usr/bin/env python3
"""Writes the SYNTHETIC linked sample (see README.md in this directory):

- bods-synthetic-nz.jsonl: BODS 0.4 statements for made-up New Zealand
  companies and their made-up owners;
- ocds-synthetic-suppliers.jsonl: OCDS 1.1 releases of made-up processes whose
  suppliers are those companies, one supplier with no declaration, and four
  real UK companies of data/bods/uk-psc-gleif-bods04/ (by GB-COH number);
- protected.json: the person records the register protects.

Nothing here is real except the four UK company numbers and names. Standard
library only; deterministic: run it again and every file is byte-identical.

    python3 data/linked/generate.py
"""

import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))

# statementIds are UUIDs derived from a fixed namespace and a key, so that
# they are stable across runs.
NAMESPACE = uuid.UUID("6f1c2a3e-9b7d-4e5f-8a61-747568776572")

SYNTHETIC_NOTE = (
    "SYNTHETIC: made up for the Tuwhera demo. Not a real declaration: "
    "the companies and people named do not exist."
)
PUBLISHER = {"name": "Tuwhera demo (SYNTHETIC data)"}
NZ = {"name": "New Zealand", "code": "NZ"}


def nzbn(base12):
    """A 13-digit NZBN (a GS1 GLN) from 12 digits, with its check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(base12))
    return base12 + str((10 - total % 10) % 10)


# --------------------------------------------------------------------------
# BODS
# --------------------------------------------------------------------------

STATEMENTS = []


def statement(key, record_id, record_type, status, date, declaration_subject, details):
    s = {
        "statementId": str(uuid.uuid5(NAMESPACE, key)),
        "declarationSubject": declaration_subject,
        "statementDate": date,
        "publicationDetails": {
            "publicationDate": date,
            "bodsVersion": "0.4",
            "publisher": PUBLISHER,
        },
        "source": {"type": ["selfDeclaration"], "description": SYNTHETIC_NOTE},
        "recordId": record_id,
        "recordType": record_type,
        "recordStatus": status,
        "recordDetails": details,
    }
    STATEMENTS.append(s)
    return s


class Company:
    """A made-up NZ company: NZBN 94290077NNNN + check digit, company number 99001NN."""

    def __init__(self, n, name, founded, town):
        self.nzbn = nzbn("94290077%04d" % n)
        self.number = "99001%02d" % n
        self.name = name
        self.founded = founded
        self.town = town
        self.record_id = "NZ-NZBN-" + self.nzbn

    def details(self, name=None):
        return {
            "isComponent": False,
            "entityType": {"type": "registeredEntity"},
            "name": name or self.name,
            "jurisdiction": NZ,
            "identifiers": [
                {"id": self.nzbn, "scheme": "NZ-NZBN", "schemeName": "New Zealand Business Number"},
                {"id": self.number, "scheme": "NZ-COY", "schemeName": "New Zealand Companies Office"},
            ],
            "foundingDate": self.founded,
            "addresses": [
                {
                    "type": "registered",
                    "address": "%s Example Street, %s" % (10 + len(self.name) % 80, self.town),
                    "country": NZ,
                }
            ],
        }

    def declare(self, date, name=None, status="new"):
        statement("entity:%s:%s" % (self.record_id, date), self.record_id, "entity", status, date,
                  self.record_id, self.details(name))


class Person:
    """A made-up person, with the restricted fields a register holds but never
    publishes: full birth date, home address, IRD (tax) number, tax residency."""

    def __init__(self, key, given, family, birth, ird, home, postcode):
        self.record_id = "NZ-SYNTH-PER-" + key
        self.given = given
        self.family = family
        self.birth = birth
        self.ird = ird
        self.home = home
        self.postcode = postcode

    @property
    def full_name(self):
        return "SYNTHETIC %s %s" % (self.given, self.family)

    def declare(self, date, declaration_subject):
        details = {
            "isComponent": False,
            "personType": "knownPerson",
            "names": [
                {
                    "type": "legal",
                    "fullName": self.full_name,
                    "givenName": self.given,
                    "familyName": self.family,
                }
            ],
            "nationalities": [NZ],
            "birthDate": self.birth,
            "addresses": [
                {"type": "residence", "address": self.home, "postCode": self.postcode, "country": NZ},
                {"type": "service", "address": "PO Box 9%s, Wellington" % self.ird[-3:], "country": NZ},
            ],
            "identifiers": [
                {"id": self.ird, "scheme": "NZ-IRD", "schemeName": "Inland Revenue (IRD number)"}
            ],
            "taxResidencies": [NZ],
        }
        statement("person:%s" % self.record_id, self.record_id, "person", "new", date,
                  declaration_subject, details)


def interest(share, beneficial, start, kind="shareholding", direct="direct", end=None):
    i = {
        "type": kind,
        "directOrIndirect": direct,
        "beneficialOwnershipOrControl": beneficial,
        "share": share,
        "startDate": start,
    }
    if end:
        i["endDate"] = end
    return i


def relationship(record_id, subject, party, interests, date, status="new"):
    """`subject` and `party` are Company/Person objects; `party` may also be a
    dict: an unspecified interested party with its reason."""
    details = {
        "isComponent": False,
        "subject": subject.record_id,
        "interestedParty": party if isinstance(party, dict) else party.record_id,
        "interests": interests,
    }
    statement("relationship:%s:%s:%s" % (record_id, status, date), record_id, "relationship",
              status, date, subject.record_id, details)


# The companies. Names say SYNTHETIC; numbers are made up.
HARBOUR = Company(1, "SYNTHETIC Harbour Freight Limited", "2012-03-14", "Auckland")
KOWHAI = Company(2, "SYNTHETIC Kowhai Transport Limited", "2018-05-02", "Hamilton")
KOWHAI_NEW_NAME = "SYNTHETIC Kōwhai Logistics Limited"
TOTARA = Company(3, "SYNTHETIC Tōtara Consulting Limited", "2015-09-21", "Wellington")
RIMU = Company(4, "SYNTHETIC Rimu Advisory Limited", "2019-02-11", "Wellington")
MATAI_WORKS = Company(5, "SYNTHETIC Mataī Civil Works Limited", "2016-07-04", "Napier")
MATAI_HOLDINGS = Company(6, "SYNTHETIC Mataī Holdings Limited", "2016-06-20", "Napier")
POHUTUKAWA_ENG = Company(7, "SYNTHETIC Pōhutukawa Engineering Limited", "2010-10-01", "Christchurch")
POHUTUKAWA_GROUP = Company(8, "SYNTHETIC Pōhutukawa Group Limited", "2009-04-15", "Christchurch")
KAURI = Company(9, "SYNTHETIC Kauri Capital Limited", "2008-01-28", "Christchurch")
# In the OCDS file only: a supplier with no BODS declaration.
UNDECLARED = Company(10, "SYNTHETIC Undeclared Supplies Limited", "2021-03-03", "Palmerston North")

COMPANIES = [HARBOUR, KOWHAI, TOTARA, RIMU, MATAI_WORKS, MATAI_HOLDINGS, POHUTUKAWA_ENG,
             POHUTUKAWA_GROUP, KAURI]

# The people. P1 owns two companies that bid against each other; P2 owns two
# companies that win from one buyer; P3 owns through a three-step chain; P4 is
# protected (protected.json) and holds a quarter of the losing bidder only, so
# that no awarded supplier has a withheld owner (BO-HIDDEN-OWNER is for the
# Mataī case alone); P5 is a former owner (relationship closed).
P1 = Person("P1", "Hemi", "Example", "1971-08-19", "999-001-011", "1 Imaginary Road, Remuera, Auckland", "1050")
P2 = Person("P2", "Ana", "Placeholder", "1983-02-07", "999-001-022", "2 Pretend Place, Karori, Wellington", "6012")
P3 = Person("P3", "Rawiri", "Sample", "1965-11-30", "999-001-033", "3 Fictional Terrace, Cashmere, Christchurch", "8022")
P4 = Person("P4", "Kiri", "Withheld", "1990-05-21", "999-001-044", "4 Hidden Lane, Ōtūmoetai, Tauranga", "3110")
P5 = Person("P5", "Sam", "Former", "1958-01-09", "999-001-055", "5 Bygone Street, Mornington, Dunedin", "9011")

# Declarations, in stream order: the records before the relationships that
# point at them; later updates and closures last.
HARBOUR.declare("2020-02-03")
KOWHAI.declare("2020-02-10")
TOTARA.declare("2020-03-02")
RIMU.declare("2020-03-02")
MATAI_WORKS.declare("2020-04-06")
MATAI_HOLDINGS.declare("2020-04-06")
POHUTUKAWA_ENG.declare("2020-05-04")
POHUTUKAWA_GROUP.declare("2020-05-04")
KAURI.declare("2020-05-04")

P1.declare("2020-02-03", HARBOUR.record_id)
P2.declare("2020-03-02", TOTARA.record_id)
P3.declare("2020-05-04", POHUTUKAWA_ENG.record_id)
P4.declare("2020-02-10", KOWHAI.record_id)
P5.declare("2020-02-03", HARBOUR.record_id)

# BO-SHARED-OWNER: P1 holds 60 % of Harbour Freight and 75 % of Kōwhai.
relationship("NZ-SYNTH-REL-HARBOUR-P1", HARBOUR, P1,
             [interest({"exact": 60}, True, "2012-03-14"),
              interest({"exact": 60}, True, "2012-03-14", kind="votingRights")], "2020-02-03")
# The closed record: P5's 40 % of Harbour Freight, sold on 31 March 2025.
P5_SHARES = [interest({"exact": 40}, True, "2012-03-14")]
relationship("NZ-SYNTH-REL-HARBOUR-P5", HARBOUR, P5, P5_SHARES, "2020-02-03")
relationship("NZ-SYNTH-REL-KOWHAI-P1", KOWHAI, P1,
             [interest({"exact": 75}, True, "2018-05-02"),
              interest({"exact": 75}, True, "2018-05-02", kind="votingRights")], "2020-02-10")
# The protected P4 holds the other 25 % of Kōwhai.
relationship("NZ-SYNTH-REL-KOWHAI-P4", KOWHAI, P4, [interest({"exact": 25}, True, "2018-05-02")],
             "2020-02-10")
# BO-OWNER-SAME-BUYER: P2 holds 60 % of Tōtara and 50–75 % of Rimu.
relationship("NZ-SYNTH-REL-TOTARA-P2", TOTARA, P2, [interest({"exact": 60}, True, "2015-09-21")],
             "2020-03-02")
relationship("NZ-SYNTH-REL-RIMU-P2", RIMU, P2,
             [interest({"minimum": 50, "maximum": 75}, True, "2019-02-11")], "2020-03-02")
# BO-HIDDEN-OWNER: Mataī Civil Works ← Mataī Holdings (100 %) ← an
# unspecified party that has not said who it is.
relationship("NZ-SYNTH-REL-MATAIWORKS-MATAIHOLDINGS", MATAI_WORKS, MATAI_HOLDINGS,
             [interest({"exact": 100}, False, "2016-07-04")], "2020-04-06")
HIDDEN_REASON = "interestedPartyHasNotProvidedInformation"
HIDDEN_DESCRIPTION = (
    "SYNTHETIC: the sole shareholder of SYNTHETIC Mataī Holdings Limited, a nominee company "
    "registered overseas, has not provided the information needed to identify its beneficial owner."
)
relationship("NZ-SYNTH-REL-MATAIHOLDINGS-UNSPECIFIED", MATAI_HOLDINGS,
             {"reason": HIDDEN_REASON, "description": HIDDEN_DESCRIPTION},
             [interest({"exact": 100}, True, "2016-06-20", direct="unknown")], "2020-04-06")
# A chain three relationships deep with share ranges:
# Pōhutukawa Engineering ← Pōhutukawa Group 50–75 % ← Kauri Capital 25–50 %
# ← P3 more than 75 % (exclusiveMinimum 75, maximum 100).
# P3's share of Pōhutukawa Engineering: (9.375 %, 37.5 %], lower bound exclusive.
relationship("NZ-SYNTH-REL-POHUTUKAWAENG-GROUP", POHUTUKAWA_ENG, POHUTUKAWA_GROUP,
             [interest({"minimum": 50, "maximum": 75}, False, "2010-10-01")], "2020-05-04")
relationship("NZ-SYNTH-REL-POHUTUKAWAGROUP-KAURI", POHUTUKAWA_GROUP, KAURI,
             [interest({"minimum": 25, "maximum": 50}, False, "2009-04-15")], "2020-05-04")
relationship("NZ-SYNTH-REL-KAURI-P3", KAURI, P3,
             [interest({"exclusiveMinimum": 75, "maximum": 100}, True, "2008-01-28")], "2020-05-04")

# History: Kowhai Transport renamed Kōwhai Logistics (a second version).
KOWHAI.declare("2024-06-12", name=KOWHAI_NEW_NAME, status="updated")
# The closure of P5's holding: interests end 31 March 2025.
relationship("NZ-SYNTH-REL-HARBOUR-P5", HARBOUR, P5,
             [dict(P5_SHARES[0], endDate="2025-03-31")], "2025-04-01", status="closed")

PROTECTED = {
    "description": (
        "SYNTHETIC. Person records whose details the register withholds: the platform publishes "
        "them only through tuwhera_bods::privacy::public_statement with "
        "Policy::protecting(every recordId below), which replaces the person by an "
        "anonymousPerson with reason interestedPartyExemptFromDisclosure. BODS 0.4 has no "
        "protection flag of its own, so the decision lives here, not in the statements."
    ),
    "protectedRecords": [
        {
            "recordId": P4.record_id,
            "reason": "SYNTHETIC: protection granted on application (risk of violence or "
                      "intimidation to the person or their household)",
        }
    ],
}

# --------------------------------------------------------------------------
# OCDS
# --------------------------------------------------------------------------


def nz(day, time="10:00:00"):
    """A New Zealand timestamp; +13:00 (NZDT) October–March, else +12:00."""
    month = int(day[5:7])
    offset = "+13:00" if month >= 10 or month <= 3 else "+12:00"
    return "%sT%s%s" % (day, time, offset)


class Buyer:
    def __init__(self, n, name, town):
        self.nzbn = nzbn("94290088%04d" % n)
        self.id = "NZ-NZBN-" + self.nzbn
        self.name = name
        self.town = town

    def party(self):
        return {
            "id": self.id,
            "name": self.name,
            "identifier": {"scheme": "NZ-NZBN", "id": self.nzbn, "legalName": self.name},
            "address": {"streetAddress": "1 Government Place", "locality": self.town,
                        "countryName": "New Zealand"},
            "roles": ["buyer", "procuringEntity"],
        }


MINISTRY = Buyer(1, "SYNTHETIC Ministry of Imaginary Infrastructure", "Wellington")
DEPARTMENT = Buyer(2, "SYNTHETIC Department of Example Services", "Wellington")
COUNCIL = Buyer(3, "SYNTHETIC Placeholder Bay Regional Council", "Napier")


def nz_supplier(company, name=None):
    name = name or company.name
    return {
        "id": company.record_id,
        "name": name,
        "identifier": {"scheme": "NZ-NZBN", "id": company.nzbn, "legalName": name},
        "additionalIdentifiers": [
            {"scheme": "NZ-COY", "id": company.number, "legalName": name}
        ],
        "address": {"streetAddress": "%s Example Street" % (10 + len(company.name) % 80),
                    "locality": company.town, "countryName": "New Zealand"},
    }


def uk_supplier(number, name):
    """A real UK company of the UK PSC + GLEIF sample, by its Companies House number."""
    return {
        "id": "GB-COH-" + number,
        "name": name,
        "identifier": {"scheme": "GB-COH", "id": number, "legalName": name},
        "address": {"countryName": "United Kingdom"},
    }


RELEASES = []


def release(title, description, buyer, tenderers, winner, amount, category, tender_start, awarded):
    n = len(RELEASES) + 1
    ocid = "ocds-synthnz-link-%06d" % n
    value = {"amount": amount, "currency": "NZD"}
    parties = [buyer.party()]
    for t in tenderers:
        roles = ["tenderer", "supplier"] if t is winner else ["tenderer"]
        parties.append(dict(t, roles=roles))
    ref = lambda p: {"id": p["id"], "name": p["name"]}  # noqa: E731
    text = "SYNTHETIC data for the Tuwhera demo, not a real procurement. " + description
    RELEASES.append({
        "ocid": ocid,
        "id": "%s-01" % ocid,
        "date": nz(awarded, "12:00:00"),
        "tag": ["tender", "award"],
        "initiationType": "tender",
        "language": "en",
        "parties": parties,
        "buyer": {"id": buyer.id, "name": buyer.name},
        "tender": {
            "id": "%s-tender" % ocid,
            "title": "SYNTHETIC " + title,
            "description": text,
            "status": "complete",
            "procuringEntity": {"id": buyer.id, "name": buyer.name},
            "value": value,
            "procurementMethod": "open",
            "mainProcurementCategory": category,
            "tenderPeriod": {"startDate": nz(tender_start, "09:00:00"),
                             "endDate": nz(tender_start[:8] + "28", "16:00:00")},
            "numberOfTenderers": len(tenderers),
            "tenderers": [ref(t) for t in tenderers],
        },
        "awards": [{
            "id": "%s-award-1" % ocid,
            "title": "SYNTHETIC " + title,
            "description": text,
            "status": "active",
            "date": nz(awarded, "00:00:00"),
            "value": value,
            "suppliers": [ref(winner)],
        }],
    })
    return ocid


# BO-SHARED-OWNER: P1's two companies bid in one process; Harbour Freight wins.
harbour = nz_supplier(HARBOUR)
kowhai = nz_supplier(KOWHAI, KOWHAI_NEW_NAME)
release("Freight services for regional depots", "Three years of freight between six depots.",
        MINISTRY, [harbour, kowhai], harbour, 540000, "services", "2025-05-05", "2025-07-14")
# BO-OWNER-SAME-BUYER: P2's two companies win from the Department.
release("Policy advice on service design", "Advice on the design of a new public service.",
        DEPARTMENT, [nz_supplier(TOTARA)], nz_supplier(TOTARA), 180000, "services",
        "2025-03-03", "2025-04-22")
release("Programme assurance review", "Independent assurance of a digital programme.",
        DEPARTMENT, [nz_supplier(RIMU)], nz_supplier(RIMU), 145000, "services",
        "2025-06-02", "2025-08-11")
# BO-HIDDEN-OWNER: the owner at the end of Mataī Civil Works' chain is unspecified.
release("Stormwater culvert renewal", "Renewal of 14 stormwater culverts.",
        COUNCIL, [nz_supplier(MATAI_WORKS)], nz_supplier(MATAI_WORKS), 1250000, "works",
        "2025-02-03", "2025-04-07")
# BO-UNDECLARED: an NZBN with no beneficial-ownership declaration.
release("Office consumables", "Paper, toner and consumables for two years.",
        MINISTRY, [nz_supplier(UNDECLARED)], nz_supplier(UNDECLARED), 96000, "goods",
        "2025-08-04", "2025-09-15")
# No flag meant: owners known, through a three-step chain of share ranges.
release("Bridge inspection engineering", "Inspection of 40 road bridges.",
        COUNCIL, [nz_supplier(POHUTUKAWA_ENG)], nz_supplier(POHUTUKAWA_ENG), 410000, "services",
        "2025-04-07", "2025-06-16")
# Real UK companies (the sample's anchors), so that their pages show real
# owners from the UK PSC + GLEIF data. The processes are made up: none of
# these companies bid for or won anything here.
UK = [
    ("00184594", "DAILY MAIL AND GENERAL TRUST P L C", MINISTRY,
     "Public information advertising campaign", "Advertising for a public safety campaign.",
     320000, "services"),
    ("10336040", "BIFFA LIMITED", DEPARTMENT,
     "Office waste and recycling collection", "Waste and recycling collection for 12 offices.",
     210000, "services"),
    ("07068789", "CARE UK SOCIAL CARE LIMITED", COUNCIL,
     "Respite care placements", "Short-term respite care placements for two years.",
     680000, "services"),
    ("07640868", "HORNSEA 1 LIMITED", MINISTRY,
     "Offshore wind feasibility advice", "Advice on the feasibility of an offshore wind zone.",
     450000, "services"),
]
for i, (number, name, buyer, title, description, amount, category) in enumerate(UK):
    supplier = uk_supplier(number, name)
    release(title, description, buyer, [supplier], supplier, amount, category,
            "2025-%02d-01" % (3 + 2 * i), "2025-%02d-20" % (4 + 2 * i))


def write_jsonl(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


write_jsonl("bods-synthetic-nz.jsonl", STATEMENTS)
write_jsonl("ocds-synthetic-suppliers.jsonl", RELEASES)
with open(os.path.join(HERE, "protected.json"), "w", encoding="utf-8", newline="\n") as out:
    out.write(json.dumps(PROTECTED, ensure_ascii=False, indent=2) + "\n")
print("wrote %d BODS statements, %d OCDS releases, %d protected records"
      % (len(STATEMENTS), len(RELEASES), len(PROTECTED["protectedRecords"])))
