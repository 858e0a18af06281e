"""The batch oversight report: its figures match the store, it opens offline, it names no one."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_builders import (
    BATCHES,
    ROW_REJECTIONS,
    WORLD,
    Page,
    Populated,
    chart_rows,
    requests_of,
    streets,
    tins,
)
from sqlalchemy import text

from custos.errors import StoreError
from custos.report import batch_report, render_batch_html, render_batch_json
from custos.report.batch import FUNNEL_STAGES, probability_histogram
from custos.report.html import CONTENT_SECURITY_POLICY, vendored_scripts
from custos.report.ledger_coverage import NO_EVENTS, NOT_CHECKPOINTED
from custos.store import Store


def _codes(value: Any) -> list[str]:
    """A JSON column read through raw SQL: text on SQLite, already decoded on PostgreSQL."""
    return list(json.loads(value) if isinstance(value, str) else value)


def _store_counts(store: Store, batch_id: str) -> dict[str, Any]:
    """The batch's figures counted with plain SQL, independently of the report's queries."""
    with store.read() as conn:
        one = {"b": batch_id}
        stored = conn.execute(text("SELECT count(*) FROM requests WHERE batch_id = :b"), one)
        unread = conn.execute(
            text("SELECT reason_code FROM row_rejections WHERE batch_id = :b"), one
        ).all()
        decided = conn.execute(
            text(
                "SELECT outcome, reason_codes, match_probability FROM outcomes WHERE batch_id = :b"
            ),
            one,
        ).all()
        disclosed = conn.execute(
            text("SELECT count(*) FROM disclosures WHERE batch_id = :b"), one
        ).scalar_one()
        received = stored.scalar_one() + len(unread)
    by_outcome = Counter(o for o, _, _ in decided)
    reasons = Counter(code for (code,) in unread)
    reasons.update(_codes(codes)[0] for outcome, codes, _ in decided if outcome == "rejected")
    passed = [p for outcome, _, p in decided if outcome != "rejected"]
    return {
        "funnel": {
            "received": received,
            "rejected": len(unread) + by_outcome["rejected"],
            "passed gate": len(decided) - by_outcome["rejected"],
            "ambiguous": by_outcome["ambiguous"],
            "disclosed": disclosed,
        },
        "reasons": dict(reasons),
        "probabilities": [p for p in passed if p is not None],
    }


def test_funnel_chart_in_the_html_matches_the_store(store: Store, world: Populated) -> None:
    for batch_id in BATCHES:
        page = Page.of(render_batch_html(batch_report(store, batch_id)))
        shown = {row["stage"]: row["count"] for row in chart_rows(page.specs["funnel"])}
        expected = _store_counts(store, batch_id)["funnel"]
        assert shown == expected, batch_id
        assert [row["stage"] for row in chart_rows(page.specs["funnel"])] == list(FUNNEL_STAGES)
        assert {row[0]: int(row[1]) for row in page.fallbacks["funnel"]} == expected


def test_funnel_agrees_with_the_world_description(store: Store, world: Populated) -> None:
    report = batch_report(store, "B1")
    rows = requests_of("B1")
    unread = len(ROW_REJECTIONS["B1"])
    decided = [r for r in rows if r.outcome is not None]
    rejected = [r for r in decided if r.outcome == "rejected"]
    assert report.count("received") == len(rows) + unread == report.rows_in_file
    assert report.count("rejected") == len(rejected) + unread
    assert report.count("passed gate") == len(decided) - len(rejected)
    assert report.count("ambiguous") == sum(r.outcome == "ambiguous" for r in rows)
    assert report.count("disclosed") == sum(r.disclosed_at is not None for r in rows)
    assert dict(report.outcomes)["not yet decided"] == sum(r.outcome is None for r in rows)


def test_rejections_chart_counts_each_rejection_once_by_primary_reason(
    store: Store, world: Populated
) -> None:
    report = batch_report(store, "B1")
    page = Page.of(render_batch_html(report))
    shown = {row["reason"]: row["count"] for row in chart_rows(page.specs["rejections"])}
    assert shown == _store_counts(store, "B1")["reasons"]
    assert sum(shown.values()) == report.count("rejected")
    every = dict(report.failed_rules)
    assert every["missing_reason"] == 1
    assert "missing_reason" not in shown


def test_probability_histogram_matches_the_store(store: Store, world: Populated) -> None:
    page = Page.of(render_batch_html(batch_report(store, "B1")))
    bins = chart_rows(page.specs["probability"])
    probabilities = _store_counts(store, "B1")["probabilities"]
    assert sum(b["count"] for b in bins) == len(probabilities)
    for b in bins:
        inside = [p for p in probabilities if b["lower"] <= p < b["upper"] or p == b["upper"] == 1]
        assert b["count"] == len(inside), b


def test_certifications_are_counted_per_official_case_insensitively(
    store: Store, world: Populated
) -> None:
    report = batch_report(store, "B1")
    page = Page.of(render_batch_html(report))
    shown = {row["official"]: row["count"] for row in chart_rows(page.specs["officials"])}
    expected = Counter(r.official.strip().casefold() for r in requests_of("B1"))
    assert sorted(shown.values()) == sorted(expected.values())
    assert shown["Agent Avery Smith"] == expected["agent avery smith"]
    assert shown["(none stated)"] == expected[""]
    smith = next(o for o in report.officials if o.official == "Agent Avery Smith")
    smiths = [r for r in requests_of("B1") if r.official.strip().casefold() == "agent avery smith"]
    assert smith.rejected == sum(r.outcome == "rejected" for r in smiths)
    assert smith.disclosed == sum(r.disclosed_at is not None for r in smiths)


def test_html_opens_offline(store: Store, world: Populated) -> None:
    html = render_batch_html(batch_report(store, "B1"))
    page = Page.of(html)
    assert page.script_srcs == []
    assert page.link_hrefs == []
    assert page.references == []
    assert CONTENT_SECURITY_POLICY in html
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert all(script in page.inline_scripts for script in vendored_scripts())
    assert "sourceMappingURL" not in html
    assert set(page.specs) == {"funnel", "rejections", "probability", "officials"}
    assert "renderer: 'svg'" in html and "actions: false" in html


def test_html_holds_no_taxpayer_data(store: Store, world: Populated) -> None:
    scripts = "".join(vendored_scripts())
    for tin in tins():
        assert tin not in scripts, "pick another synthetic TIN: this one occurs in the vendored JS"
    for batch_id in BATCHES:
        html = render_batch_html(batch_report(store, batch_id))
        json_text = render_batch_json(batch_report(store, batch_id))
        secrets = [
            *tins(),
            *streets(),
            *(r.last_name for r in WORLD),
            *(r.case_number for r in WORLD),
        ]
        for secret in secrets:
            assert secret not in html, secret
            assert secret not in json_text, secret


def test_ledger_section_names_the_first_checkpoint_over_the_batch(
    store: Store, world: Populated
) -> None:
    b1 = batch_report(store, "B1").ledger
    assert b1.last_seq == world.b1_last_seq
    assert b1.checkpoint is not None
    assert b1.checkpoint.id == world.first_checkpoint_id
    assert b1.checkpoint.tree_size == world.first_checkpoint_size > b1.last_seq
    assert b1.events == world.b1_last_seq + 1
    html = render_batch_html(batch_report(store, "B1"))
    assert b1.checkpoint.note.splitlines()[2] in html

    b2 = batch_report(store, "B2").ledger
    assert b2.last_seq is not None and b2.last_seq >= world.last_checkpoint_size
    assert b2.checkpoint is None and b2.status == NOT_CHECKPOINTED
    assert NOT_CHECKPOINTED in render_batch_html(batch_report(store, "B2"))

    b3 = batch_report(store, "B3").ledger
    assert (b3.events, b3.last_seq, b3.checkpoint, b3.status) == (0, None, None, NO_EVENTS)


def test_json_has_the_figures_of_the_page(store: Store, world: Populated) -> None:
    report = batch_report(store, "B1")
    data = json.loads(render_batch_json(report))
    page = Page.of(render_batch_html(report))
    assert data["funnel"] == {r["stage"]: r["count"] for r in chart_rows(page.specs["funnel"])}
    assert data["ledger"]["checkpoint"]["tree_size"] == report.ledger.checkpoint.tree_size  # type: ignore[union-attr]
    assert render_batch_json(report) == render_batch_json(report)


def test_unknown_batch_is_a_clear_error(store: Store, world: Populated) -> None:
    with pytest.raises(StoreError, match="no batch 'B9'"):
        batch_report(store, "B9")


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=60))
def test_histogram_puts_every_probability_in_its_bin(probabilities: list[float]) -> None:
    bins = probability_histogram(probabilities)
    assert sum(b.count for b in bins) == len(probabilities)
    assert bins[0].lower == 0 and bins[-1].upper == 1
    for b in bins:
        inside = [p for p in probabilities if b.lower <= p < b.upper or p == b.upper == 1]
        assert b.count == len(inside)


NODE_RENDER = """
const fs = require('fs'), vm = require('vm'), path = require('path');
const ctx = {console, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask,
             structuredClone, TextEncoder, TextDecoder, URL, performance};
ctx.globalThis = ctx; ctx.self = ctx;
vm.createContext(ctx);
for (const f of ['vega.min.js', 'vega-lite.min.js']) {
  vm.runInContext(fs.readFileSync(path.join(process.argv[2], f), 'utf8'), ctx);
}
(async () => {
  const out = [];
  for (const spec of JSON.parse(fs.readFileSync(0, 'utf8'))) {
    const view = new ctx.vega.View(ctx.vega.parse(ctx.vegaLite.compile(spec).spec),
                                   {renderer: 'none'});
    out.push(await view.toSVG());
  }
  console.log(JSON.stringify({vegaLite: ctx.vegaLite.version, svgs: out}));
})().catch(e => { console.error(String(e)); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_vendored_vega_draws_every_chart(store: Store, world: Populated, tmp_path: Path) -> None:
    """The inlined libraries compile each embedded spec and draw it as SVG (no browser needed)."""
    page = Page.of(render_batch_html(batch_report(store, "B1")))
    script = tmp_path / "render.js"
    script.write_text(NODE_RENDER)
    static = resources.files("custos.report") / "static"
    done = subprocess.run(
        ["node", str(script), str(static)],
        input=json.dumps(list(page.specs.values())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    schema_version = page.specs["funnel"]["$schema"].rsplit("/v", 1)[1].removesuffix(".json")
    assert result["vegaLite"] == schema_version
    assert len(result["svgs"]) == 4
    for svg in result["svgs"]:
        assert svg.startswith("<svg") and "<path" in svg
    funnel_svg = result["svgs"][list(page.specs).index("funnel")]
    for stage in FUNNEL_STAGES:
        assert stage in funnel_svg
