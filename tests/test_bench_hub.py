"""``wobble bench hub`` runs end to end on a small clinic day (no timing is asserted)."""

from __future__ import annotations

import json

from wobble_trainer.cli import main


def test_bench_hub_reports_upload_bytes_and_page_times(capsys):
    main(
        [
            "bench",
            "hub",
            "--day-fraction",
            "0.015",
            "--patients",
            "20",
            "--history",
            "200",
            "--requests",
            "3",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert out["upload"]["sessions"] == 3 and out["upload"]["samples"] == 3 * 120_000
    assert 0 < out["upload"]["bytes_per_sample"] <= 12
    assert [p["page"] for p in out["pages"]] == [
        "patient list",
        "patient page",
        "session page, first view",
        "session page, cached",
    ]
    assert all(p["p95_ms"] > 0 for p in out["pages"])
