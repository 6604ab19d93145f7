"""Questions built from the corpus' own evidence units, in the forms researchers ask.

One builder per form, each reading one unit (`xlstm_model.data.Unit`) and returning a
`Question` whose answer is a quoted span of that unit (character offsets), or None:

- `table_question` (table rows): "What <column> did <row> reach in <caption>?" -> the cell;
- `definition_question` (text): "What is X?" / "What does X mean?" -> what the sentence says X is;
- `number_question` (text): "How many <unit> ...?" / "What value ...?" -> the number with its unit;
- `causal_question` (text): "Why ...?" -> the reason clause (because / due to / since / therefore);
- `enumeration_question` (text): "What are the ...?" -> the list (such as / include / (i) (ii));
- `comparison_question` (text): "Which is better, A or B?" -> the winner (outperforms / than).

Questions are paraphrased away from the unit's wording (`paraphrase`: synonyms mined from the
corpus, i.e. its acronym definitions, plus a short list of domain synonyms; a third of the
remaining content words dropped; clauses reordered), so word overlap alone cannot find the unit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from xlstm_model.data import STOP_WORDS, Unit, acronym_pairs

FORMS = ("table", "definition", "number", "causal", "enumeration", "comparison")
FACTOID_FORMS = ("table", "definition", "number", "comparison")  # forms with a short span

# Domain synonyms (both directions are used); acronyms come from the corpus (`corpus_synonyms`).
SYNONYMS = {
    "outperforms": "beats", "performance": "results", "model": "architecture",
    "models": "architectures", "parameters": "weights", "training": "learning",
    "trained": "fit", "perplexity": "ppl", "large": "big", "method": "approach",
    "methods": "approaches", "uses": "employs", "use": "employ", "increase": "raise",
    "reduce": "lower", "memory": "storage", "faster": "quicker", "better": "superior",
    "improves": "boosts", "shows": "demonstrates", "accuracy": "acc", "tokens": "words",
    "sequence": "input", "length": "size", "layers": "blocks", "compared": "contrasted",
    "experiments": "tests", "results": "outcomes", "state": "status", "gating": "gates",
}  # fmt: skip
_WORD = re.compile(r"[\w\[\]:.\-]+")


@dataclass(frozen=True)
class Question:
    """A question about `unit`, answered by unit.text[start:end] (quoted, never invented)."""

    text: str
    form: str  # one of FORMS
    unit: Unit
    start: int
    end: int
    rivals: tuple[str, ...] = ()  # units that must lose to `unit` (comparisons: the other row)

    @property
    def answer(self) -> str:
        return self.unit.text[self.start : self.end]


def corpus_synonyms(units: list[Unit]) -> dict[str, str]:
    """Acronym <-> long form pairs the papers define, e.g. "SSMs" <-> "State Space Models"."""
    pairs: dict[str, str] = {}
    for unit in units:
        for long, short in acronym_pairs(unit.text):
            pairs[short] = long
            pairs[long] = short
    return pairs


def paraphrase(text: str, rng: random.Random, synonyms: dict[str, str], keep: set[str]) -> str:
    """`text` with phrases swapped for synonyms and a third of the other content words dropped;
    words in `keep` (the entities a question is about) stay."""
    for long, short in synonyms.items():
        if long in text and " " in long and rng.random() < 0.7:
            text = text.replace(long, short).replace(f"{short} ({short})", short)
    out = []
    for word in text.split():
        bare = word.lower().strip(",.;:?")
        if word in keep or bare in keep:
            out.append(word)
        elif bare in SYNONYMS and rng.random() < 0.6:
            out.append(SYNONYMS[bare])
        elif bare in {v: k for k, v in SYNONYMS.items()} and rng.random() < 0.3:
            out.append({v: k for k, v in SYNONYMS.items()}[bare])
        elif bare not in STOP_WORDS and rng.random() < 0.33:
            continue
        else:
            out.append(word)
    return " ".join(out)


def _content(text: str, limit: int) -> str:
    """The first `limit` content words of `text`, in order."""
    words = [w.strip(",.;:()") for w in text.split()]
    return " ".join([w for w in words if w and w.lower() not in STOP_WORDS][:limit])


# -- table rows


_CELL = re.compile(r"(?:^|; )([^;=]+?) = ([^;]+)")
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def row_start(unit: Unit) -> tuple[str, int]:
    """The row's size group ("1.3B", "" if none) and where its fields start: after
    "Table 3 (…): " or "Table 3 (…), 1.3B: " (a caption may itself hold "): ")."""
    title = f"{unit.table} ({unit.caption})" if unit.caption else unit.table
    if not unit.table or not unit.text.startswith(title):
        return "", unit.text.find(": ") + 2
    colon = unit.text.find(": ", len(title))
    group = unit.text[len(title) : colon].removeprefix(",").strip()
    return (group, colon + 2) if colon >= 0 and len(group) <= 40 else ("", 1)


def table_cells(unit: Unit) -> list[tuple[str, str, int]]:
    """(column, value, offset of the value) of a self-describing row, the label cell first
    ("Table 1 (…): Model = GPT-3; #Params M = 356" or "Table 6 (…): Mamba; Retrieval acc = …")."""
    body_at = row_start(unit)[1] if unit.kind == "table_row" else 1
    if body_at < 3 or " = " not in unit.text:
        return []
    body = unit.text[body_at:]
    first = body.split("; ", 1)[0]
    cells = [] if " = " in first else [("", first.strip(), body_at)]
    cells += [(m.group(1), m.group(2).strip(), m.start(2) + body_at) for m in _CELL.finditer(body)]
    return cells


def table_question(unit: Unit, rng: random.Random, synonyms: dict[str, str]) -> Question | None:
    """ "What <column> did <row> reach in <caption>?" -> the cell's value."""
    cells = table_cells(unit)
    if len(cells) < 2:
        return None
    group = row_start(unit)[0]
    label = f"{cells[0][1]} ({group})" if group else cells[0][1]  # "RWKV-4 (125M)"
    numeric = [c for c in cells[1:] if _NUMBER.fullmatch(c[1])]
    if not numeric:
        return None
    column, value, start = rng.choice(numeric)
    column = re.sub(r"\s*[↓↑]", "", column).strip()
    where = paraphrase(unit.caption or unit.table, rng, synonyms, set())
    if rng.random() < 0.5:
        text = f"What {column} did {label} reach in {where}?"
    else:
        text = f"In {where}, which {column} does {label} have?"
    return Question(text, "table", unit, start, start + len(value))


# -- prose sentences


_DEFINITION = re.compile(
    r"^(?:The |An? )?(?P<x>[A-Za-z][\w\[\]:\-]*(?: [\w\[\]:\-]+){0,3}) (?:is|are|refers to|denotes)"
    r" (?P<d>(?:a|an|the|defined as) [^.;]{12,})"
)
_CALLED = re.compile(r"^(?P<d>[^,;]{20,}?) (?:is|are) (?:called|termed|named|referred to as) "
                     r"(?:the |a |an )?(?P<x>[^.,;]{3,40})")  # fmt: skip


def definition_question(unit: Unit, rng: random.Random, synonyms: dict) -> Question | None:
    """ "What is X?" / "What does X mean?" -> what the sentence says X is."""
    text = unit.text
    match = _DEFINITION.match(text) or _CALLED.match(text)
    if unit.kind != "text" or not match:
        return None
    term = match.group("x").strip()
    if term.lower() in STOP_WORDS or term.split()[0].lower() in ("this", "it", "which", "that"):
        return None
    form = rng.choice(["What is {}?", "What does {} mean?", "How is {} defined?"])
    return Question(form.format(term), "definition", unit, match.start("d"), match.end("d"))


_QUANTITY = re.compile(
    r"(?P<v>\d[\d,.]*\s?(?:[KMB]\b|%|k\b)?)\s?(?P<u>tokens|parameters|params|layers|blocks|"
    r"heads|steps|epochs|GPUs|hours|days|times|dimensions|samples|sequences|words|examples|"
    r"languages|tasks|datasets|billion|million|percent|%)?"
)


def number_question(unit: Unit, rng: random.Random, synonyms: dict) -> Question | None:
    """ "How many <unit> ...?" / "What value ...?" -> the number with its unit."""
    if unit.kind != "text" or re.match(r"^\(?\d+\)? ", unit.text):
        return None
    found = [m for m in _QUANTITY.finditer(unit.text) if m.group("u") or m.group("v")[-1] in "KMB%"]
    found = [m for m in found if not re.match(r"(19|20)\d\d$", m.group("v").strip())]
    if not found:
        return None
    match = rng.choice(found)
    before, after = unit.text[: match.start()].split()[-8:], unit.text[match.end() :].split()[:8]
    about = paraphrase(_content(" ".join(before + after), 7), rng, synonyms, set())
    noun = match.group("u")
    if noun and noun not in ("%", "percent", "billion", "million"):
        text = f"How many {noun} {about}?"
    else:
        text = f"What value {about}?"
    return Question(text, "number", unit, match.start(), match.end())


_BECAUSE = re.compile(r"^(?P<a>.{15,}?),? (?:because(?: of)?|due to|since) (?P<b>[^.]{8,})")
_THEREFORE = re.compile(r"^(?P<b>.{15,}?),? (?:and )?(?:therefore|thus|hence),? (?P<a>[^.]{8,})")


def causal_question(unit: Unit, rng: random.Random, synonyms: dict) -> Question | None:
    """ "Why <effect>?" -> the reason clause."""
    if unit.kind != "text":
        return None
    match = _BECAUSE.match(unit.text) or _THEREFORE.match(unit.text)
    if not match or re.match(r"^\(?\d+\)? ", unit.text):
        return None
    effect = paraphrase(match.group("a").rstrip(".,"), rng, synonyms, set())
    effect = effect[0].lower() + effect[1:] if effect[:2] != effect[:2].upper() else effect
    return Question(f"Why {effect}?", "causal", unit, match.start("b"), match.end("b"))


_LIST = re.compile(
    r"(?P<x>(?:\w+ ){1,4})(?:such as|including|includes?|e\.g\.,?|namely|like) "
    r"(?P<l>[^.;()]+?(?:,| and| or) [^.;()]+)"
)


def enumeration_question(unit: Unit, rng: random.Random, synonyms: dict) -> Question | None:
    """ "What are the <things>?" -> the list."""
    if unit.kind != "text":
        return None
    match = _LIST.search(unit.text)
    if not match or match.group("l").count(",") + match.group("l").count(" and ") < 1:
        return None
    things = paraphrase(match.group("x").strip(), rng, synonyms, set()) or "examples"
    text = rng.choice(["What are the {}?", "Which {} are named?", "What {} are there?"])
    return Question(text.format(things), "enumeration", unit, match.start("l"), match.end("l"))


_COMPARE = re.compile(
    r"(?P<a>\b[A-Z][\w\[\]:\-]*(?: [A-Z\d][\w\[\]:\-]*)?) (?:clearly |consistently |also )?"
    r"(?P<v>outperforms?|is (?:better|faster|more \w+) than|performs better than|beats|surpasses)"
    r" (?P<b>(?:the )?[\w\[\]:\-]+(?: [A-Z\d][\w\[\]:\-]*)?)"
)


def comparison_question(unit: Unit, rng: random.Random, synonyms: dict) -> Question | None:
    """ "Which is better, A or B?" -> A (the order of A and B is random)."""
    match = _COMPARE.search(unit.text) if unit.kind == "text" else None
    if not match or match.group("a") == match.group("b"):
        return None
    pair = [match.group("a"), match.group("b")]
    rng.shuffle(pair)
    rest = unit.text[match.end() :]
    about = paraphrase(_content(rest, 4), rng, synonyms, set())
    about = f" on {about}" if about else ""
    text = f"Which is better{about}, {pair[0]} or {pair[1]}?"
    return Question(text, "comparison", unit, match.start("a"), match.end("a"))


Builder = Callable[[Unit, random.Random, dict], Question | None]
BUILDERS: dict[str, Builder] = {
    "table": table_question, "definition": definition_question, "number": number_question,
    "causal": causal_question, "enumeration": enumeration_question,
    "comparison": comparison_question,
}  # fmt: skip


MAX_ROWS_PER_TABLE = 36  # row questions of one table; Table 10's 572 domain rows would be 22 %


def build_questions(
    units: list[Unit], seed: int = 0, forms: tuple[str, ...] = FORMS
) -> list[Question]:
    """Every question the builders of `forms` make from `units` (at most one per unit and form),
    with at most `MAX_ROWS_PER_TABLE` rows of one table asked about (a random draw)."""
    rng, synonyms = random.Random(seed), corpus_synonyms(units)
    questions = table_comparisons(units, rng) if "comparison" in forms else []
    by_table: dict[tuple[str, str], list[Unit]] = {}
    for unit in units:
        if unit.kind == "table_row":
            by_table.setdefault((unit.paper, unit.table), []).append(unit)
    skipped: set[int] = set()
    for rows in by_table.values():
        if len(rows) > MAX_ROWS_PER_TABLE:
            kept = {id(u) for u in rng.sample(rows, MAX_ROWS_PER_TABLE)}
            skipped |= {id(u) for u in rows if id(u) not in kept}
    for unit in units:
        for form in forms if id(unit) not in skipped else ():
            question = BUILDERS[form](unit, rng, synonyms)
            if question is not None and question.answer.strip():
                questions.append(question)
    return questions


def table_comparisons(units: list[Unit], rng: random.Random, per_table: int = 6) -> list[Question]:
    """ "Which reaches the lower <column> in <caption>, A or B?" from two rows of one table whose
    column is marked ↓ (lower is better) or ↑; the better row answers, the other is its rival."""
    by_table: dict[tuple[str, str], list[tuple[Unit, dict]]] = {}
    for unit in units:
        cells = table_cells(unit)
        if cells:
            key = (unit.paper, unit.table, row_start(unit)[0])  # rows of one size group
            by_table.setdefault(key, []).append((unit, cells))
    questions = []
    for rows in by_table.values():
        for _ in range(per_table if len(rows) > 1 else 0):
            (a, cells_a), (b, cells_b) = rng.sample(rows, 2)
            question = _compare_rows(a, cells_a, b, cells_b, rng)
            if question is not None:
                questions.append(question)
    return questions


def _compare_rows(a: Unit, cells_a: list, b: Unit, cells_b: list, rng) -> Question | None:
    values_b = {col: val for col, val, _ in cells_b[1:]}
    marked = [c for c in cells_a[1:] if ("↓" in c[0] or "↑" in c[0]) and c[0] in values_b]
    marked = [c for c in marked if _NUMBER.fullmatch(c[1]) and _NUMBER.fullmatch(values_b[c[0]])]
    if not marked or cells_a[0][1] == cells_b[0][1]:
        return None
    column, value_a, _ = rng.choice(marked)
    lower = "↓" in column
    va, vb = float(value_a.replace(",", "")), float(values_b[column].replace(",", ""))
    if va == vb:
        return None
    a_wins = (va < vb) == lower
    winner, rival, cells = (a, b, cells_a) if a_wins else (b, a, cells_b)
    name = re.sub(r"\s*[↓↑]", "", column).strip()
    pair = [cells_a[0][1], cells_b[0][1]]
    rng.shuffle(pair)
    how = "lower" if lower else "higher"
    group = row_start(a)[0]
    where = f"{a.caption or a.table}" + (f" at {group}" if group else "")
    text = f"Which reaches the {how} {name} in {where}, {pair[0]} or {pair[1]}?"
    label, start = cells[0][1], cells[0][2]
    if label in rival.text:  # "LSTM" inside "LSTM (Block)": the span would point at both
        return None
    return Question(text, "comparison", winner, start, start + len(label), (rival.text,))
