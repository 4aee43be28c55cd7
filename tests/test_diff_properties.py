"""Properties of the differ (hypothesis), on the seeds' clause lists.

- diff(a, a) is empty;
- cosmetic transforms of a give only `cosmetic` changes;
- shuffling whole sections gives only `moved` changes;
- for any edits, the reported changes applied to a's clauses rebuild b's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.document import Block, Document
from monitor.diff.clauses import apply_changes, diff_documents
from tests.support.seeds import SEED_NAMES, sections, seed_document, with_paths

DOCS = {name: seed_document(name) for name in SEED_NAMES}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

seeds = st.sampled_from(SEED_NAMES)


def rebuilt(doc: Document, blocks: list[Block]) -> Document:
    return Document(with_paths(blocks), doc.title, doc.language)


@SETTINGS
@given(seeds)
def test_diff_of_a_version_with_itself_is_empty(name):
    doc = DOCS[name]
    result = diff_documents(doc, Document(list(doc.blocks), doc.title, doc.language))
    assert result.is_empty and not any(result.flags.values())


def _cosmetic(text: str, how: int) -> str:
    if how == 0:
        return "  " + text.replace(" ", "   ") + " "
    if how == 1:
        return text.upper()
    if how == 2:
        return text.lower()
    if how == 3:
        return text.replace("'", "‘").replace("‘", "’").replace('"', "“").replace("“", "”")
    if how == 4:
        return text.replace("-", "–").replace("—", "-")
    if how == 5:
        return text.rstrip(".;:!?") if text[-1:] in ".;:!?" else text + "."
    if how == 6:
        return re.sub(r"^(\d{1,2})\.", lambda m: f"{int(m.group(1)) + 3}.", text)
    return text.replace(", ", " , ").replace("**", "")


@SETTINGS
@given(seeds, st.data())
def test_cosmetic_transforms_give_only_cosmetic(name, data):
    doc = DOCS[name]
    picks = data.draw(st.lists(st.tuples(st.integers(0, len(doc.blocks) - 1), st.integers(0, 7)),
                               min_size=1, max_size=25))
    blocks = list(doc.blocks)
    for index, how in picks:
        blocks[index] = replace(blocks[index], text=_cosmetic(blocks[index].text, how))
    new = rebuilt(doc, blocks)
    result = diff_documents(doc, new)
    assert {c.kind for c in result.changes} <= {"cosmetic"}
    assert not result.is_reportable
    assert apply_changes(doc.blocks, result) == new.blocks


@SETTINGS
@given(seeds, st.randoms(use_true_random=False))
def test_shuffling_sections_gives_only_moved(name, rnd):
    doc = DOCS[name]
    preamble, parts = sections(list(doc.blocks))
    order = list(range(len(parts)))
    rnd.shuffle(order)
    blocks = preamble + [b for k in order for b in parts[k]]
    new = rebuilt(doc, blocks)
    result = diff_documents(doc, new)
    assert {c.kind for c in result.changes} <= {"moved"}
    assert result.is_empty == (order == sorted(order))
    assert apply_changes(doc.blocks, result) == new.blocks


WORDS = ["niet", "gegevens", "Verenigde Staten", "bewaren", "cookies", "7 jaar", "toestemming", "derden"]


@st.composite
def edited(draw):
    name = draw(seeds)
    doc = DOCS[name]
    blocks = list(doc.blocks)
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["edit", "delete", "insert", "move", "split", "merge", "kind", "cosmetic"]))
        k = draw(st.integers(0, len(blocks) - 1))
        block = blocks[k]
        if op == "edit":
            words = block.text.split() or [""]
            pos = draw(st.integers(0, len(words)))
            words.insert(pos, draw(st.sampled_from(WORDS)))
            blocks[k] = replace(block, text=" ".join(words))
        elif op == "delete" and len(blocks) > 2:
            blocks.pop(k)
        elif op == "insert":
            kind = draw(st.sampled_from(["paragraph", "list_item", "heading"]))
            text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8)))
            level = 3 if kind == "heading" else (1 if kind == "list_item" else 0)
            blocks.insert(k, Block(kind, text, (), level))
        elif op == "move":
            moved = blocks.pop(k)
            blocks.insert(draw(st.integers(0, len(blocks))), moved)
        elif op == "split" and ". " in block.text:
            cut = block.text.index(". ") + 1
            parts = [block.text[:cut], block.text[cut + 1:]]
            blocks[k:k + 1] = [replace(block, text=t) for t in parts]
        elif op == "merge" and k + 1 < len(blocks) and blocks[k + 1].kind == block.kind:
            blocks[k:k + 2] = [replace(block, text=block.text + " " + blocks[k + 1].text)]
        elif op == "kind" and block.kind != "heading":
            blocks[k] = replace(block, kind="list_item" if block.kind == "paragraph" else "paragraph",
                                level=1 if block.kind == "paragraph" else 0)
        elif op == "cosmetic":
            blocks[k] = replace(block, text=_cosmetic(block.text, draw(st.integers(0, 7))))
    return doc, rebuilt(doc, blocks)


@SETTINGS
@given(edited())
def test_applying_the_changes_rebuilds_the_new_version(pair):
    old, new = pair
    result = diff_documents(old, new)
    assert apply_changes(old.blocks, result) == new.blocks
    assert set(c.kind for c in result.changes) <= {"added", "removed", "modified", "moved", "split", "merged",
                                                   "cosmetic"}
    assert result.is_empty == (old.blocks == new.blocks)
