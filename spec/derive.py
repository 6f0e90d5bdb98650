#!/usr/bin/env python3
"""Derive spec/layouts/*.csv from the merged canonical layouts of the standard.

Usage: python3 spec/derive.py [spec/canonical]

The canonical files carry no, name_ja, name_en, type, max_len, required, format, v4_only and notes.
This script adds the three columns the validator needs and that are our decisions (see spec/README.md):

- code_table: the table in spec/codes.csv (or `service_type`, `service_code`) that a `code` item draws from;
- rule:       a named special rule (time_or_9999, date_or_zeros, month_or_zeros, equipment_code, detail_no,
              service_code_or_summary) implemented in src/validate/field.rs;
- binds:      `month`, `sender` or `recipient`, with `:error` or `:warn`: the item must equal that part
              of the file name when it is not empty.

Run it again whenever the canonical layouts change, then review the diff.
"""
import csv
import pathlib
import sys

CODE_TABLE_BY_NAME = {
    "user_sex": "sex",
    "over_30_days_flag": "applicable",
    "plan_category": "plan_category",
    "certification_status": "certification_status",
    "support_level": "support_level",
    "plan_kind": "plan_kind",
    "entrustment": "entrustment",
    "living_support_reason": "living_support_reason",
    "insurance_covered": "insurance_covered",
    "weekday": "weekday",
    "home_modification": "presence",
    "consultation_method": "consultation_method",
    "consultation_count_kind": "consultation_count",
    "user_current_status": "user_current_status",
    "housing_type": "housing_type",
    "disability_independence_level": "disability_independence",
    "dementia_independence_level": "dementia_independence",
    "basic_checklist_result": "checklist_result",
    "attending_doctor_flag": "attending_doctor",
    "course": "course",
    "service_type_code": "service_type",
    "service_code": "service_code",
}

RULES = {
    ("UPPLAN", 12): "time_or_9999", ("UPPLAN", 13): "time_or_9999",
    ("UPJSK", 12): "time_or_9999", ("UPJSK", 13): "time_or_9999",
    ("UPPLAN", 16): "equipment_code", ("UPPLAN", 17): "equipment_code",
    ("UPJSK", 16): "equipment_code", ("UPJSK", 17): "equipment_code",
    ("UPSIKYU", 10): "equipment_code", ("UPSIKYU", 11): "equipment_code",
    ("UPPLAN", 19): "detail_no", ("UPJSK", 19): "detail_no",
    ("UPSIKYU", 9): "service_code_or_summary",
    ("UPHOSOKU", 4): "date_or_zeros", ("UPHOSOKU", 63): "month_or_zeros",
}

BINDS = {
    ("UPPLAN", 5): "month:error", ("UPJSK", 5): "month:error", ("UPSIKYU", 5): "month:error",
    ("DLTPLAN", 4): "month:error", ("DLTJSK", 4): "month:error", ("UPHOSOKU", 63): "month:error",
    ("UPPLAN", 6): "sender:error", ("UPPLAN", 24): "sender:error",
    ("UPSIKYU", 36): "sender:error", ("UPHOSOKU", 61): "sender:error",
    ("UP1KYO", 13): "sender:error", ("UP1KYO", 27): "sender:error", ("UP2KYO", 21): "sender:error",
    ("UPJSK", 6): "recipient:warn", ("UPJSK", 24): "sender:warn", ("DLTJSK", 5): "sender:warn",
}

# UPKIHON uses 01 非該当 where the care-side files use 06 事業対象者.
CARE_LEVEL = {"UPKIHON": "care_level_kihon"}


def code_table(kind, row):
    name = row["name_en"]
    if row["type"] != "code":
        return ""
    if name in ("care_level", "previous_care_level"):
        return CARE_LEVEL.get(kind, "care_level")
    if name.endswith("_has_issue"):
        return "presence"
    if name.startswith("program_needed_"):
        return "needed"
    if name.startswith(("disability_cert_", "income_")):
        return "applicable"
    if name.startswith("limit") and name.endswith("_service_type_code"):
        return "service_type"
    table = CODE_TABLE_BY_NAME.get(name)
    if table is None:
        sys.exit(f"{kind} No.{row['no']} {name}: code item without a code table")
    return table


def main(src):
    out = pathlib.Path(__file__).parent / "layouts"
    out.mkdir(exist_ok=True)
    cols = ["no", "name_ja", "name_en", "type", "max_len", "required", "code_table", "rule", "binds",
            "v4_only", "format", "notes"]
    for path in sorted(pathlib.Path(src).glob("*.csv")):
        kind = path.stem
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        with (out / path.name).open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            for row in rows:
                no = int(row["no"])
                # A field that is not a code table item but was typed `code` in the source stays a code.
                row["code_table"] = code_table(kind, row)
                row["rule"] = RULES.get((kind, no), "")
                row["binds"] = BINDS.get((kind, no), "")
                w.writerow({c: row.get(c, "") for c in cols})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "spec/canonical")
