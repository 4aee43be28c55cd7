"""Clause changes on hand-made version pairs from every seed: each kind, each flag, rendering."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from monitor.core.document import Block, Document
from monitor.dates.notice_date import find_notice_date
from monitor.diff.clauses import ClauseChange, DocumentDiff, apply_changes, diff_documents, inline_html, word_diff
from tests.support.seeds import SEED_NAMES, sections, seed_document, with_paths

DATED = ("ingram-micro", "partners4it", "ismt", "cetit")


def make(doc: Document, blocks: list[Block]) -> Document:
    return Document(blocks=with_paths(blocks), title=doc.title, language=doc.language)


def paragraphs(doc: Document, min_len: int = 120) -> list[int]:
    date = find_notice_date(doc)
    skip = {date.block_index} if date else set()
    return [k for k, b in enumerate(doc.blocks) if b.kind == "paragraph" and len(b.text) >= min_len
            and k not in skip]


def check(old: Document, new: Document, **kw) -> DocumentDiff:
    result = diff_documents(old, new, **kw)
    assert apply_changes(old.blocks, result) == new.blocks
    json.dumps(result.to_dict())
    return result


def kinds(result: DocumentDiff) -> list[str]:
    return [c.kind for c in result.changes]


@pytest.fixture(params=SEED_NAMES)
def seed(request) -> Document:
    return seed_document(request.param)


def test_identical_versions_give_no_change(seed):
    copy = Document(list(seed.blocks), seed.title, seed.language)
    result = check(seed, copy)
    assert result.is_empty and result.significance is None
    assert not any(result.flags.values())


def test_modified_clause_with_word_diff(seed):
    k = paragraphs(seed)[1]
    blocks = list(seed.blocks)
    text = blocks[k].text
    blocks[k] = replace(blocks[k], text=text + " Wij geven uw gegevens door aan de Verenigde Staten.")
    new = make(seed, blocks)
    result = check(seed, new)
    assert kinds(result) == ["modified"]
    change = result.changes[0]
    assert 0.5 <= change.similarity < 1
    assert change.inline_text.endswith("{+ Wij geven uw gegevens door aan de Verenigde Staten.+}")
    assert "<ins>" in change.inline_html and "<del>" not in change.inline_html
    assert "international_transfers" in change.tags
    assert change.significance == "material"
    assert change.heading_path == blocks[k].heading_path


def test_added_and_removed(seed):
    ks = paragraphs(seed)
    blocks = list(seed.blocks)
    removed = blocks.pop(ks[2])
    blocks.insert(ks[0] + 1, Block("paragraph", "Wij bewaren uw gegevens nooit langer dan zeven jaar.",
                                   blocks[ks[0]].heading_path))
    result = check(seed, make(seed, blocks))
    assert sorted(kinds(result)) == ["added", "removed"]
    by_kind = {c.kind: c for c in result.changes}
    assert by_kind["removed"].old.text == removed.text
    assert "retention" in by_kind["added"].tags
    assert all(c.significance == "material" for c in result.changes)


def test_cosmetic_only_is_kept_but_not_reported(seed):
    blocks = list(seed.blocks)
    ks = paragraphs(seed, 40)
    blocks[ks[0]] = replace(blocks[ks[0]], text="  " + blocks[ks[0]].text.upper().replace(" ", "  "))
    blocks[ks[1]] = replace(blocks[ks[1]], text=blocks[ks[1]].text.replace("'", "’").rstrip(".") + " .")
    blocks[ks[2]] = replace(blocks[ks[2]], text=blocks[ks[2]].text.replace("-", "–"))
    new = make(seed, blocks)
    result = check(seed, new)
    assert result.changes and set(kinds(result)) == {"cosmetic"}
    assert result.is_cosmetic_only and not result.is_reportable
    assert result.significance == "cosmetic" and result.material_changes == []


def test_renumbered_headings_are_cosmetic():
    old = seed_document("westcon-comstor")
    blocks = [replace(b, text=f"{int(b.text.split('.')[0]) + 1}. {b.text.split('. ', 1)[1]}")
              if b.kind == "heading" and b.text[:1].isdigit() else b for b in old.blocks]
    new = make(old, blocks)
    result = check(old, new)
    assert set(kinds(result)) == {"cosmetic"}
    assert len(result.changes) == sum(1 for b in old.blocks if b.kind == "heading" and b.text[:1].isdigit())


def test_clause_moved_to_another_section(seed):
    preamble, parts = sections(list(seed.blocks))
    assert len(parts) >= 3
    source, target = parts[0], parts[-1]
    k = max(range(1, len(source)), key=lambda n: len(source[n].text))
    moving = source.pop(k)
    target.append(moving)
    new = make(seed, preamble + [b for part in parts for b in part])
    result = check(seed, new)
    assert kinds(result) == ["moved"]
    change = result.changes[0]
    assert change.old.heading_path != change.new.heading_path
    assert change.significance == "minor"


def test_moved_and_slightly_reworded_is_moved_with_a_diff():
    old = seed_document("ingram-micro")
    blocks = list(old.blocks)
    k = paragraphs(old, 400)[3]
    moving = blocks.pop(k)
    blocks.insert(5, replace(moving, text=moving.text.replace(" en ", " of ", 1)))
    result = check(old, make(old, blocks))
    assert kinds(result) == ["moved"]
    assert result.changes[0].text_changed and "[-en-]{+of+}" in result.changes[0].inline_text


def test_split_and_merged(seed):
    k = next(k for k in paragraphs(seed, 200) if ". " in seed.blocks[k].text[40:-40])
    block = seed.blocks[k]
    cut = block.text.index(". ", 40) + 1
    first, second = block.text[:cut], block.text[cut + 1:]
    blocks = list(seed.blocks)
    blocks[k:k + 1] = [replace(block, text=first), replace(block, text=second)]
    split_doc = make(seed, blocks)
    result = check(seed, split_doc)
    assert kinds(result) == ["split"]
    assert [b.text for b in result.changes[0].new_blocks] == [first, second]
    assert result.changes[0].significance == "minor"
    back = check(split_doc, seed)
    assert kinds(back) == ["merged"]
    assert len(back.changes[0].old_blocks) == 2


def test_date_only_change(seed):
    if find_notice_date(seed) is None:
        assert "Westcon" in seed.blocks[2].text  # only Westcon has none
        return
    date = find_notice_date(seed)
    blocks = list(seed.blocks)
    block = blocks[date.block_index]
    sentence_date = date.sentence
    new_text = block.text.replace(sentence_date, sentence_date)  # keep structure
    for old_phrase in ("27 december 2022", "7 Mei 2018", "22-12-2020", "mei 2018"):
        new_text = new_text.replace(old_phrase, "1 maart 2026" if "-" not in old_phrase else "01-03-2026")
    blocks[date.block_index] = replace(block, text=new_text)
    new = make(seed, blocks)
    result = check(seed, new, fetched_at=dt.datetime(2026, 3, 2))
    assert result.flags["date_changed"]["new"]["value"] == "2026-03-01"
    assert result.flags["date_only"] and not result.flags["silent_change"]
    assert not result.flags["date_backwards"] and not result.flags["date_in_future"]
    assert [c.significance for c in result.changes] == ["minor"]
    assert result.changes[0].date_statement


def test_silent_change_and_date_flags():
    old = seed_document("ingram-micro")
    blocks = list(old.blocks)
    k = paragraphs(old)[4]
    blocks[k] = replace(blocks[k], text=blocks[k].text.replace(" ", " niet ", 1))
    edited = make(old, blocks)
    result = check(old, edited)
    assert result.flags["silent_change"] and not result.flags["date_changed"]
    assert result.material_changes

    date_index = find_notice_date(old).block_index
    earlier = list(blocks)
    earlier[date_index] = replace(blocks[date_index], text="Laatst bijgewerkt op 3 januari 2021")
    result = check(old, make(old, earlier))
    assert result.flags["date_backwards"] and result.flags["date_changed"]
    assert not result.flags["silent_change"] and not result.flags["date_only"]

    future = list(blocks)
    future[date_index] = replace(blocks[date_index], text="Laatst bijgewerkt op 1 maart 2026")
    result = check(old, make(old, future), fetched_at=dt.datetime(2025, 6, 1, 12, 0))
    assert result.flags["date_in_future"]
    result = check(old, make(old, future), fetched_at=dt.date(2026, 3, 1))
    assert not result.flags["date_in_future"]

    removed = blocks[:date_index] + blocks[date_index + 1:]
    result = check(old, make(old, removed))
    assert result.flags["date_removed"] and not result.flags["date_added"]
    result = check(make(old, removed), old)
    assert result.flags["date_added"] and not result.flags["date_removed"]


def test_date_added_to_undated_notice():
    old = seed_document("westcon-comstor")
    blocks = list(old.blocks)
    blocks.insert(2, Block("paragraph", "Laatst gewijzigd op 1 maart 2026"))
    result = check(old, make(old, blocks), fetched_at=dt.date(2026, 3, 5))
    assert result.flags["date_added"] and result.new_date.value == dt.date(2026, 3, 1)
    assert result.old_date is None
    assert not result.flags["date_changed"] and not result.flags["silent_change"]


def test_refined_precision_is_a_change_but_not_backwards():
    old = seed_document("cetit")
    date_index = find_notice_date(old).block_index
    blocks = list(old.blocks)
    text = blocks[date_index].text.replace("mei 2018", "7 mei 2018")
    blocks[date_index] = replace(blocks[date_index], text=text)
    result = check(old, make(old, blocks))
    assert result.flags["date_changed"]
    assert result.flags["date_changed"]["old"]["display"] == "2018-05"
    assert not result.flags["date_backwards"]


def test_stored_dates_can_be_passed():
    old = seed_document("partners4it")
    result = diff_documents(old, old, old_date=None, new_date=find_notice_date(old))
    assert result.flags["date_added"] and result.is_empty


def test_html_is_escaped():
    ops = word_diff("Wij delen niets.", "Wij delen <script>alert(1)</script> & meer.")
    rendered = inline_html(ops)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "&amp;" in rendered
    assert "<ins>" in rendered


def test_word_diff_is_word_level_and_semantic():
    ops = word_diff("Wij bewaren uw gegevens vijf jaar.", "Wij bewaren uw gegevens zeven jaar.")
    deleted = [t for op, t in ops if op < 0]
    inserted = [t for op, t in ops if op > 0]
    assert deleted == ["vijf"] and inserted == ["zeven"]


def test_significance_orders_digest_and_number_edits_are_material():
    old = seed_document("ismt")
    blocks = list(old.blocks)
    ks = paragraphs(old, 60)
    blocks[ks[0]] = replace(blocks[ks[0]], text=blocks[ks[0]].text + " ")  # cosmetic
    blocks[ks[1]] = replace(blocks[ks[1]], text=blocks[ks[1]].text.replace(" de ", " die ", 1))  # minor
    blocks[ks[2]] = replace(blocks[ks[2]], text=blocks[ks[2]].text + " Binnen 14 dagen.")  # material
    result = check(old, make(old, blocks))
    levels = [c.significance for c in result.ordered_changes()]
    assert levels == ["material", "minor", "cosmetic"]
    assert result.significance == "material"


def test_to_dict_schema():
    old = seed_document("partners4it")
    blocks = list(old.blocks)
    k = paragraphs(old)[0]
    blocks[k] = replace(blocks[k], text=blocks[k].text + " Extra zin.")
    data = check(old, make(old, blocks)).to_dict()
    assert data["diff_schema"] == 2
    assert set(data["flags"]) == {"date_changed", "silent_change", "date_only", "date_backwards",
                                  "date_in_future", "date_added", "date_removed"}
    clause = data["clauses"][0]
    for key in ("kind", "heading_path", "old_text", "new_text", "similarity", "inline_text", "inline_html",
                "tags", "significance"):
        assert key in clause
    assert data["old_date"]["precision"] == "day"


def test_old_interface_still_works():
    a = Document([Block("paragraph", "een"), Block("paragraph", "twee drie vier")])
    b = Document([Block("paragraph", "een"), Block("paragraph", "twee drie vijf vier")])
    result = diff_documents(a, b)
    change = result.changes[0]
    assert isinstance(change, ClauseChange)
    assert (change.kind, change.old_index, change.new_index) == ("modified", 1, 1)
    assert change.to_dict()["old_text"] == "twee drie vier"
    assert not result.is_empty
