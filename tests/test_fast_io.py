"""The fast readers and writers read and write exactly what the general ones do.

Sites and POI tables are read with pyarrow's CSV reader when the file allows it, and with
pandas' (its refusals and messages) otherwise; both give the same table of text.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from telecov.io import tables

CASES = {
    "plain": "id,technology,lon,lat\n1,4G,105.1,21.2\n2,5G,105.2,21.3\n",
    "crlf": "id,technology,lon,lat\r\n1,4G,105.1,21.2\r\n2,5G,105.2,21.3\r\n",
    "quoted": 'id,name,lon\n1,"Hà Nội,1",105\n2,"say ""hi""",106\n',
    "quoted comma and space": 'id,name,lon\n1,"Hà Nội, 1",105\n',
    "newline in quotes": 'id,name,lon\n1,"two\nlines",105\n',
    "quote inside": 'id,name,lon\n1,ab"c,105\n',
    "empty fields": "id,name,lon\n1,,105\n,,\n",
    "blank lines": "id,name\n\n1,a\n\n2,b\n\n",
    "header only": "id,technology,lon,lat\n",
    "semicolons": "id;technology;lon;lat\n1;4G;105,1;21,2\n",
    "tabs": "id\ttechnology\n1\t4G\n",
    "spaces after separator": "id, technology\n1, 4G\n",
    "leading spaces": "id,technology\n  1,4G\n",
    "spaces-only line": "id,technology\n   \n1,4G\n",
    "fewer fields": "id,technology,lon\n1,4G\n2,5G,105\n",
    "more fields": "id,technology\n1,4G,x\n2,5G\n3,4G\n",
    "trailing separators": "id,technology,\n1,4G,\n",
    "duplicate names": "id,id\n1,2\n",
    "nan and NA stay text": "id,name\nNA,nan\nNULL,None\n",
    "unicode": "id,tên\n1,Đà Nẵng\n",
    "no final newline": "id,name\n1,a",
}


def _pandas(text: str, sep: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           skipinitialspace=True, index_col=False)  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_the_arrow_reader_reads_what_pandas_reads_or_leaves_the_file_to_it(case: str) -> None:
    text = CASES[case]
    sep = max(("\t", ";", "|", ","), key=text.split("\n", 1)[0].count)
    fast = tables._read_with_arrow(text, sep=sep)
    if fast is None:
        return
    slow = _pandas(text, sep)
    assert list(fast.columns) == list(slow.columns)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert fast.equals(slow), (fast, slow)


def test_the_plain_files_take_the_fast_path_and_the_others_do_not() -> None:
    sep_of = {"semicolons": ";", "tabs": "\t"}
    taken = {
        case
        for case, text in CASES.items()
        if tables._read_with_arrow(text, sep=sep_of.get(case, ",")) is not None
    }
    assert {"plain", "crlf", "quoted", "newline in quotes", "empty fields", "header only", "unicode"} <= taken
    assert not taken & {"spaces after separator", "leading spaces", "spaces-only line", "fewer fields",
                        "more fields", "trailing separators", "duplicate names"}  # fmt: skip


def test_read_csv_table_is_the_same_either_way(tmp_path: Path, monkeypatch) -> None:
    for case, text in CASES.items():
        path = tmp_path / f"{case.replace(' ', '_')}.csv"
        path.write_text(text, encoding="utf-8")

        def read(p: Path = path) -> tuple[object, object]:
            try:
                table = tables.read_csv_table(p)
            except Exception as exc:  # the same refusal either way
                return type(exc), str(exc)
            return table.frame.to_dict("list"), table.malformed

        fast = read()
        with monkeypatch.context() as m:
            m.setattr(tables, "_read_with_arrow", lambda text, *, sep: None)
            slow = read()
        assert fast == slow, case


def test_the_manifest_digests_what_was_written_without_reading_it_back(tmp_path: Path) -> None:
    import hashlib

    from telecov.io.outputs import output_set

    texts = {"a.csv": "x,y\n1,2\n", "b.geojson": '{"type":"FeatureCollection","features":[]}\n'}
    with output_set(tmp_path / "out", command="report", names=[*texts, "c.txt"], inputs=[]) as outset:
        for name, text in texts.items():
            outset.write_text(name, text)
        outset.path("c.txt").write_text("written by another writer\n", encoding="utf-8")
        outset.write_text("d.txt", "short")
        outset.path("d.txt").write_text("rewritten afterwards, longer", encoding="utf-8")
        entries = {e["name"]: e for e in outset.commit({})}
    for name in ("a.csv", "b.geojson", "c.txt", "d.txt"):
        raw = (tmp_path / "out" / name).read_bytes()
        assert entries[name] == {"name": name, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def test_an_export_of_the_report_s_own_files_writes_each_once(tmp_path: Path, monkeypatch, capsys) -> None:
    from telecov.io import formats, outputs

    from _cli import main_in_process

    written: list[str] = []
    original = outputs.write_text_file

    def counting(path: Path, text: str) -> None:
        written.append(path.name)
        original(path, text)

    monkeypatch.setattr(outputs, "write_text_file", counting)
    monkeypatch.setattr(formats, "write_text_file", counting)
    corpus = Path(__file__).resolve().parent / "bad_inputs"
    args = ["report", "--sites", str(corpus / "base_sites.csv"),
            "--areas", str(corpus / "base_areas.geojson"),
            "--population", str(corpus / "base_population.tif"), "--no-map", "--out", str(tmp_path / "out"),
            "--export", "geojson", "--export", "csv", "-q"]  # fmt: skip
    code, _, err = main_in_process(monkeypatch, capsys, tmp_path, *args)
    assert code == 0, err
    assert written.count("coverage.geojson") == 1 and written.count("coverage.csv") == 1
    assert {"sites.geojson", "footprints.geojson", "areas.csv", "sites.csv"} <= set(written)
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert {"coverage.geojson", "coverage.csv"} <= {f["name"] for f in run["files"]}
