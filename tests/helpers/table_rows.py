"""Table-row units as ingest writes them, and the check that a short answer cut from one is
traceable to it: shared by the tests of `app.table_cells` and `app.short_answer`."""

import re

ROW = (
    "Table 1 (Method comparison on SlimPajama 15B): Model = GPT-3; #Params M = 356; "
    "SlimPajama (15B) ppl ↓ = 14.26"
)
ABLATION = (
    "Table 2 (Ablation studies): Model = Vanilla LSTM; Modification = none; "
    "SlimPajama (15B) ppl ↓ = 2417.86"
)


def traceable(short: str, quote: str) -> bool:
    """Every word of the short answer (bar the joining dash and the closest-row mark) is in
    the quote it was cut from."""
    words = re.findall(r"[^\s,:;()]+", short.replace("closest row (no row for", ""))
    return all(w in quote for w in words if w not in ("—",))
