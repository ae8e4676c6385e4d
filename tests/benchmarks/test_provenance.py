"""Every benchmark result says where it came from."""

from __future__ import annotations

import re

from benchmarks.provenance import markdown_header, provenance, write_provenance


def test_record_has_command_commit_versions_cores_and_date() -> None:
    record = provenance(["benchmarks/posts.py", "--limit", "10", "--home", "/somewhere/else/h"])
    assert record["command"] == "python benchmarks/posts.py --limit 10 --home '<h>'"
    assert re.fullmatch(r"[0-9a-f]{40}", record["git_sha"])
    assert isinstance(record["git_dirty"], bool)
    assert record["cpu_count"] >= 1 and record["threads"]["usable_cpus"] >= 1
    assert "numpy" in record["packages"] and "cinerec" in record["packages"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["date_utc"])


def test_markdown_header_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    record = write_provenance(tmp_path / "p" / "provenance.json", ["benchmarks/peers.py"])
    assert (tmp_path / "p" / "provenance.json").read_text().count(record["git_sha"]) == 1
    header = markdown_header(record)
    assert "`python benchmarks/peers.py`" in header and record["git_sha"][:10] in header
