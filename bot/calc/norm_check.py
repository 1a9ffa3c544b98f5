"""The admin's yearly check of a new riksnorm table, before the robot uses it (`casebot norms check FILE`).

Each November the government sets next year's norm; an admin types the amounts into `<year>.yaml` in the
norms folder. A typo there would underpay every household for a year, so a table is checked against what the
government publishes with it: the structure (every age band and household size given or explicitly null, its
sources), the headline totals (single and cohabiting, personal + common) and the published uplift on last
year's figures (each figure within ±10 kr of last year's × (1 + uplift), the rounding the government uses).
Errors stop the table from being used; warnings (a figure no source gives, a check that cannot be made) are
for the admin to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bot.calc.errors import NormFileError
from bot.calc.money import format_num
from bot.calc.norms import NormFile, NormTable, NormTables, read_norm_file, status_of, table_from
from bot.errors import ConfigError
from bot.yamlload import YamlDoc, load_yaml

# The government rounds each uplifted figure to whole tens: a correct figure is within 10 kr of the exact product.
UPLIFT_TOLERANCE_KR = 10
HEADLINE_KEYS = ("headline.single_total", "headline.cohabiting_total")


@dataclass
class NormCheck:
    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    table: NormTable | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.table is None:
            return f"{self.path}: NOT USABLE ({len(self.errors)} error(s))"
        given = len(self.table.figures) - len(self.table.missing_keys)
        verdict = "OK" if self.ok else f"NOT USABLE ({len(self.errors)} error(s))"
        return (f"{self.path}: {verdict}: riksnorm {self.table.year}, {status_of(self.table)}, "
                f"{given} of {len(self.table.figures)} figures given")


def _where(doc: YamlDoc, key: str) -> str:
    return doc.where(tuple(int(p) if p.isdigit() else p for p in key.split(".")))


def check_norm_file(path: Path, known: NormTables) -> NormCheck:
    """Check `path` against the tables the robot already has (`known`: last year's comes from there)."""
    result = NormCheck(path)
    try:
        data = read_norm_file(path)
        doc = load_yaml(path)
    except (NormFileError, ConfigError) as exc:
        result.errors.extend(str(exc).splitlines())
        return result
    # Derived with the known years, so a missing figure shows the proposal a caseworker would see.
    others = {t.year: t for t in known.tables() if t.year != data.year}
    table = NormTables({**others, data.year: table_from(data, path)}).for_year(data.year)
    result.table = table
    _check_sources(data, doc, result)
    _check_missing(data, doc, table, result)
    _check_headline(data, doc, result)
    _check_uplift(data, doc, table, known, result)
    return result


def _check_sources(data: NormFile, doc: YamlDoc, result: NormCheck) -> None:
    keys = set(data.figures()) | set(HEADLINE_KEYS)
    for i, source in enumerate(data.sources):
        if not source.url.startswith(("http://", "https://")):
            result.errors.append(f"{doc.where(('sources', i, 'url'))}: sources.{i}.url: not a web address "
                                 f"({source.url!r}); give where the figures can be read")
        for key in source.covers:
            if key not in keys:
                result.errors.append(f"{doc.where(('sources', i, 'covers'))}: sources.{i}.covers: {key!r} is not a "
                                     "figure of the table (e.g. adults.single, children.age_3, common.4)")


def _check_missing(data: NormFile, doc: YamlDoc, table: NormTable, result: NormCheck) -> None:
    if data.children_without_lunch is None:
        result.warnings.append(f"{doc.where(('children_without_lunch',))}: children_without_lunch: null: no \"utan "
                               "lunch\" figure is given; a child 0–6 eating lunch at preschool is left to the "
                               "caseworker")
    lunch = [k for k in table.missing_keys if k.startswith("children_without_lunch.")]
    others = [k for k in table.missing_keys if k not in lunch]
    for key in others:
        proposal = table.derived.get(key)
        result.warnings.append(f"{_where(doc, key)}: {key}: null (no source gives it): households that need it are "
                               "left to the caseworker" + (f"; derived proposal {format_num(proposal.amount)}"
                                                           if proposal else ""))
    if data.children_without_lunch is not None:
        for key in lunch:
            result.warnings.append(f"{_where(doc, key)}: {key}: null (no source gives it)")


def _check_headline(data: NormFile, doc: YamlDoc, result: NormCheck) -> None:
    if data.headline is None:
        result.warnings.append(f"{doc.path}:1: headline: not given: the published totals (single and cohabiting, "
                               "personal + common) are not compared")
        return
    pairs = (("single_total", "adults.single", "common.1", data.headline.single_total),
             ("cohabiting_total", "adults.cohabiting_pair", "common.2", data.headline.cohabiting_total))
    figures = data.figures()
    for name, personal_key, common_key, total in pairs:
        where = doc.where(("headline", name))
        if total is None:
            result.warnings.append(f"{where}: headline.{name}: null: the published total is not compared")
            continue
        personal, common = figures[personal_key], figures[common_key]
        if personal is None or common is None:
            result.warnings.append(f"{where}: headline.{name}: {format_num(total)} cannot be checked: "
                                   f"{personal_key if personal is None else common_key} is null")
            continue
        if personal + common != total:
            result.errors.append(f"{where}: headline.{name}: {format_num(total)} is not reproduced: {personal_key} "
                                 f"{format_num(personal)} + {common_key} {format_num(common)} = "
                                 f"{format_num(personal + common)}")


def _check_uplift(data: NormFile, doc: YamlDoc, table: NormTable, known: NormTables, result: NormCheck) -> None:
    if data.uplift_percent is None:
        result.warnings.append(f"{doc.path}:1: uplift_percent: not given: the figures are not compared with "
                               f"{data.year - 1}'s")
        return
    if data.year - 1 not in known.years:
        result.warnings.append(f"{doc.where(('uplift_percent',))}: uplift_percent: no {data.year - 1} table to "
                               "compare with")
        return
    before = known.for_year(data.year - 1)
    factor = 1 + data.uplift_percent / 100
    factor_text = f"{factor:f}".rstrip("0").replace(".", ",")
    compared = 0
    for key, amount in table.figures.items():
        if amount is None:
            continue
        last = before.figures.get(key)
        how = f"{data.year - 1}'s {format_num(last)}" if last is not None else ""
        if last is None and key in before.derived:
            last = before.derived[key].amount
            how = f"{data.year - 1}'s derived {format_num(last)}"
        if last is None:
            continue
        compared += 1
        exact = Decimal(last) * factor
        if abs(Decimal(amount) - exact) > UPLIFT_TOLERANCE_KR:
            exact_text = f"{exact:.2f}".replace(".", ",")
            result.errors.append(f"{_where(doc, key)}: {key}: {format_num(amount)} is not within ±"
                                 f"{UPLIFT_TOLERANCE_KR} kr of {how} × {factor_text} = {exact_text}")
    if compared == 0:
        result.warnings.append(f"{doc.where(('uplift_percent',))}: uplift_percent: no figure could be compared with "
                               f"{data.year - 1}'s")
