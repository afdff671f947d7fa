"""Shared fixtures: small registries built from Python dicts, on top of the real scheme data."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import yaml

from certreg.publish.public import plain

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "registry"
SAMPLE_AS_OF = dt.date(2026, 11, 21)  # the day the sample registry was last brought up to date


def dump(value) -> str:
    # Dates are written as YYYY-MM-DD (unquoted), as staff would write them.
    text = yaml.safe_dump(plain(value), allow_unicode=True, sort_keys=False)
    return text


ZWL_CONTENT = {
    "product_name": "高温冷凝回用水",
    "specification": "初始温度 ≥ 60 ℃",
    "certification_unit": "冷凝水回收装置",
    "functional_unit": "1 m³ 回用水",
    "client": {"name": "测试化工有限公司", "address": "江苏省南京市江北新区 1 号"},
    "manufacturer": {"name": "测试化工有限公司", "address": "江苏省南京市江北新区 1 号"},
    "factory": {"name": "测试化工有限公司 南京工厂", "address": "江苏省南京市江北新区 1 号"},
    "raw_material_source": "蒸汽冷凝水",
    "waste_reduction_m3": "1000.5",
    "ghg_reduction_tco2e": "80.25",
    "reporting_period": {"start": "2023-01-01", "end": "2023-12-31"},
    "data_collection": {
        row: {"quantity": "10", "unit": "t", "source": "台账", "method": "流量计"}
        for row in ("steam_for_heating", "electricity", "steam", "replaced_tap_water")
    },
    "contact": {"name": "王小明", "phone": "025-58881234", "email": "wang@example.com"},
}

ZCF_CONTENT = {
    "factory_name": "测试纺织有限公司",
    "credit_code": "91330600MA2BXXXXXD",
    "address": "浙江省绍兴市柯桥区 2 号",
    "industry": "纺织业",
    "boundary": "厂区内全部生产及辅助设施",
    "reporting_period": {"start": "2024-01-01", "end": "2024-12-31"},
    "emissions_tco2e": "1200.5",
    "offsets_tco2e": "1300",
    "contact": {"name": "陈芳", "phone": "13800001111"},
}


def zwl_issue(number, date, **extra):
    return {"certificate": number, "action": "issue", "date": date,
            "application": {"received": "2024-09-02", "accepted": "2024-09-04"},
            "person_days": "2",
            "team": [{"name": "李静", "role": "leader", "qualifications": ["product-inspector"]}],
            "technical_reviewer": "孙楠", **extra}


def zcf_issue(number, date, **extra):
    return {"certificate": number, "action": "issue", "date": date,
            "application": {"received": "2025-01-06", "accepted": "2025-01-10"},
            "person_days": "2.5",
            "team": [{"name": "甲", "role": "leader", "qualifications": ["ghg-verifier"]}],
            "technical_reviewer": "乙",
            "prerequisites_checked": ["lawfully_established", "no_major_accident_3_years",
                                      "energy_better_than_limits", "commitment_and_ghg_system"], **extra}


def reason(zh="决定", en="Decision"):
    return {"zh": zh, "en": en}


class RegistryBuilder:
    """Writes a registry folder: the real settings and schemes, plus the certificates a test adds."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(REGISTRY / "registry.yml", root / "registry.yml")
        shutil.copytree(REGISTRY / "schemes", root / "schemes")
        shutil.copytree(REGISTRY / "schemas", root / "schemas")
        shutil.copytree(REGISTRY / "marks", root / "marks")
        (root / "certificates").mkdir()

    def certificate(self, number, scheme, valid_from, valid_until, content, follows=None):
        folder = self.root / "certificates" / number
        (folder / "decisions").mkdir(parents=True)
        record = {"number": number, "scheme": scheme}
        if follows:
            record["follows"] = follows
        record.update({"valid_from": valid_from, "valid_until": valid_until, "content": content})
        (folder / "certificate.yml").write_text(dump(record), encoding="utf-8")
        return folder

    def zwl(self, number="CEC-ZWL-2024-0001", valid_from="2024-10-08", **content):
        from certreg.rules.dates import anniversary

        valid_until = (anniversary(dt.date.fromisoformat(valid_from), 3) - dt.timedelta(days=1)).isoformat()
        self.certificate(number, "zero-waste-low-carbon-water", valid_from, valid_until,
                         {**ZWL_CONTENT, **content})
        self.decision(number, zwl_issue(number, valid_from))
        return number

    def zcf(self, number="CEC-ZCF-2025-0001", valid_from="2025-04-15", valid_until="2025-12-31", **content):
        self.certificate(number, "zero-carbon-factory", valid_from, valid_until, {**ZCF_CONTENT, **content})
        self.decision(number, zcf_issue(number, valid_from))
        return number

    def decision(self, number, record, name=None):
        """Writes a decision record; an announced one gets the next announcement number free on its date, as
        certreg decide gives it (``announcement=None`` writes none)."""
        from certreg.records.model import Decision
        from certreg.staff.write import next_announcement
        from certreg.status import announced

        name = name or f"{record['date']}-{record['action']}.yml"
        path = self.root / "certificates" / number / "decisions" / name
        if "announcement" not in record and announced(Decision(path, record["action"], record["date"], record)):
            day = record["date"] if isinstance(record["date"], dt.date) else dt.date.fromisoformat(str(record["date"]))
            record = {**record, "announcement": next_announcement(self.root, day)}
        elif record.get("announcement", "") is None:
            record = {k: v for k, v in record.items() if k != "announcement"}
        path.write_text(dump(record), encoding="utf-8")
        return path

    def decide(self, number, action, date, **fields):
        record = {"certificate": number, "action": action, "date": date, **fields}
        if action in ("change", "suspend", "restore", "revoke", "cancel") and "reason" not in fields:
            record["reason"] = reason()
        return self.decision(number, record)


@pytest.fixture(scope="session", autouse=True)
def _no_check_cache():
    """The check cache (certreg/cache.py) is off, but in tests/test_cache.py, which turns it on in a folder of its
    own for each test: results kept by one test (or by one mutant of a mutation run, which forks each from one
    session) would answer for the code of another."""
    was = os.environ.get("CERTREG_CACHE")
    os.environ["CERTREG_CACHE"] = "off"
    yield
    if was is None:
        os.environ.pop("CERTREG_CACHE", None)
    else:
        os.environ["CERTREG_CACHE"] = was


@pytest.fixture(scope="session", autouse=True)
def _working_days_computed_afresh():
    """The working-day functions start each test session with empty caches: a mutation run (bench/mutation.py)
    forks each mutant's session from a process that has filled them, which would otherwise answer for the
    mutated code."""
    from certreg.rules import dates

    for cached in (dates.calendar_years, dates.is_working_day, dates.add_working_days):
        cached.cache_clear()


def pytest_addoption(parser):
    parser.addoption(
        "--refresh-goldens", action="store_true", default=False,
        help="rewrite the reviewed reference outputs (the corpus's messages, reference screenshots, reference PDF "
             "hashes) from what the code gives now, instead of comparing with them; review the diff before committing")


@pytest.fixture(scope="session")
def refresh_goldens(request) -> bool:
    """Whether this run rewrites the golden files instead of comparing with them (``--refresh-goldens``)."""
    return bool(request.config.getoption("--refresh-goldens"))


@pytest.fixture
def builder(tmp_path):
    return RegistryBuilder(tmp_path / "registry")


def site_config(folder: Path, registry: Path, docs: Path | None = None) -> Path:
    """A copy of mkdocs.yml in ``folder`` for another registry (and hand-written pages), for certreg build's
    --config: the registry it builds is registry/ beside it (a link to ``registry`` unless it is that folder)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for key, value in (("docs_dir: site_src", f"docs_dir: {docs or ROOT / 'site_src'}"),
                       ("custom_dir: site_src/overrides", f"custom_dir: {ROOT / 'site_src' / 'overrides'}")):
        assert text.count(key) == 1, f"mkdocs.yml has no single line {key!r}"
        text = text.replace(key, value)
    path = folder / "mkdocs.yml"
    path.write_text(text, encoding="utf-8")
    beside = folder / "registry"
    if beside.resolve() != registry.resolve():
        beside.symlink_to(registry.resolve(), target_is_directory=True)
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The sample site, built once (with its PDFs, rendered into the folder ``pdfs`` beside it) as of the
    sample's date."""
    from certreg.publish.build import build_site

    root = tmp_path_factory.mktemp("sample")
    build_site(ROOT / "mkdocs.yml", root / "site", SAMPLE_AS_OF, pdf_dir=root / "pdfs")
    return root / "site"
