from __future__ import annotations

import json

import pytest

from stance.documents import ReadOptions, decode_bytes, read_documents, title_of

HTML = """<html><head><title>Foreign Jets Bomb Town</title><script>var tracking = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>Foreign Jets Bomb Town</h1>
<p>Foreign warplanes on Tuesday struck a depot near the border town, officials said in a statement to reporters.</p>
<p>The defence ministry said the strike targeted a weapons depot and that no civilians were harmed in the attack.</p>
<p>According to the regional governor, four buildings were destroyed and twelve people were taken to hospital.</p>
</article><footer>Copyright 2024 Example News. All rights reserved. Subscribe to our newsletter.</footer></body></html>"""


def test_encodings_are_detected():
    text = "Café “quoted” — naïve"
    assert decode_bytes(text.encode("utf-8")) == text
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_bytes(text.encode("utf-16")) == text
    assert decode_bytes("Café “quoted” — naïve".encode("cp1252")) == text
    assert decode_bytes("Ça coûte très cher à Zürich".encode("latin-1")) == "Ça coûte très cher à Zürich"
    assert decode_bytes("Привет, мир".encode("koi8-r")) != ""  # never raises


def test_html_main_text_without_boilerplate(tmp_path):
    (tmp_path / "a.html").write_text(HTML)
    (doc,) = read_documents([tmp_path / "a.html"])
    assert doc.error is None
    assert doc.text.startswith("Foreign Jets Bomb Town\n")
    assert "weapons depot" in doc.text
    assert "tracking" not in doc.text and "Subscribe" not in doc.text and "Sport" not in doc.text


def test_json_fields_are_configurable_and_title_comes_first(tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps(
            [
                {
                    "uid": "x1",
                    "body": "The council met.",
                    "headline": "Council meets",
                    "targets": [{"text": "council", "start": 4, "end": 11}],
                },
                {"uid": "x2", "nobody": "oops"},
            ]
        )
    )
    docs = list(read_documents([tmp_path], ReadOptions(id_field="uid", text_field="body", title_field="headline")))
    assert docs[0].doc_id == "x1" and docs[0].text == "Council meets\n\nThe council met."
    t = docs[0].targets[0]
    assert docs[0].text[t["start"] : t["end"]] == "council"  # offsets shifted past the title
    assert docs[1].error and '"body"' in docs[1].error


def test_glob_and_markdown(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\nText here.")
    (tmp_path / "b.txt").write_text("Other.")
    (tmp_path / "notes.csv").write_text("x")
    assert [d.doc_id for d in read_documents([tmp_path])] == ["a", "b"]
    assert [d.doc_id for d in read_documents([tmp_path], ReadOptions(glob="*.md"))] == ["a"]


def test_missing_path_is_an_error_document(tmp_path):
    (doc,) = read_documents([tmp_path / "nope.txt"])
    assert "no such path" in doc.error


def test_parquet_records(tmp_path):
    import pandas as pd

    pd.DataFrame({"id": ["p1", "p2"], "text": ["One.", "Two."], "targets": [["One"], []]}).to_parquet(
        tmp_path / "a.parquet"
    )
    docs = list(read_documents([tmp_path]))
    assert [(d.doc_id, d.path.split("/")[-1], d.text, d.targets) for d in docs] == [
        ("p1", "a.parquet:0", "One.", ["One"]),
        ("p2", "a.parquet:1", "Two.", []),
    ]


def test_a_failing_html_extractor_fails_one_file_not_the_folder(tmp_path, monkeypatch):
    import stance.documents

    def broken(html):
        raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean")

    monkeypatch.setattr(stance.documents, "html_to_text", broken)
    (tmp_path / "a.html").write_text("<html><body><p>Hello.</p></body></html>")
    (tmp_path / "b.txt").write_text("The council met.")
    docs = list(stance.documents.read_documents([tmp_path]))
    assert [d.doc_id for d in docs] == ["a", "b"]
    assert "lxml_html_clean" in docs[0].error and docs[1].error is None


@pytest.mark.parametrize(
    "text, title",
    [
        ("City Council Approves Housing Plan\n\nThe council voted.", "City Council Approves Housing Plan"),
        ("# Energy bill passes\r\n\r\nThe bill passed.", "Energy bill passes"),  # Markdown heading, CRLF
        ("\ufeffHeadline  \n \nBody.", "Headline"),
        ("The council voted.\nThe mayor spoke.", None),  # no blank line after the first line
        ("\n\nBody only.", None),
        ("One line only.", None),
    ],
)
def test_a_first_line_before_a_blank_line_is_the_title(text, title):
    assert title_of(text) == title


def test_text_files_carry_their_title(tmp_path):
    (tmp_path / "a.md").write_text("# Jets Strike Border Town\n\nForeign jets struck a town.")
    (tmp_path / "b.txt").write_text("Foreign jets struck a town.\nNo title here.")
    docs = {d.doc_id: d for d in read_documents([tmp_path])}
    assert docs["a"].title == "Jets Strike Border Town" and docs["b"].title is None
