"""Rebuild ``corpus.csv``: English API documentation from the AWS SDK ``botocore`` (Apache-2.0).

``botocore`` ships its service models (``botocore/data/<service>/<date>/service-2.json[.gz]``);
each operation and each structure member carries a documentation string in English (HTML
markup). This script strips the markup and keeps one document per string, 200-600 characters,
one per opening (first six words):

* ``source = "operation"``: what an API operation does (the sample's member / non-member text);
* ``source = "shape"``: what a request or response field means (another source of text, used to
  make a split that is shifted on purpose).

Run with the project's venv: ``python samples/lm/make_corpus.py`` (deterministic for a botocore
version; the shipped file was made with botocore 1.44.18).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

N_OPERATION = 2400
N_SHAPE = 600


def _clean(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    import botocore

    root = Path(botocore.__file__).parent / "data"
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for svc in sorted(p.name for p in root.iterdir() if p.is_dir()):
        files = sorted((root / svc).glob("*/service-2.json*"))
        if not files:
            continue
        f = files[-1]
        raw = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        model = json.loads(raw)
        for op in model.get("operations", {}).values():
            t = _clean(op.get("documentation", ""))
            if 200 <= len(t) <= 600 and t not in seen:
                seen.add(t)
                rows.append({"service": svc, "source": "operation", "text": t})
        for shape in model.get("shapes", {}).values():
            for member in (shape.get("members") or {}).values():
                t = _clean(member.get("documentation", ""))
                if 200 <= len(t) <= 600 and t not in seen:
                    seen.add(t)
                    rows.append({"service": svc, "source": "shape", "text": t})
    df = pd.DataFrame(rows)
    # Boilerplate notices ("This is AWS WAF Classic documentation. ...") recur with small changes:
    # keep one text per opening (first six words) so that documents are not near-copies of each
    # other (near-copies split between members and non-members would not be independent units).
    opening = df["text"].str.split().str[:6].str.join(" ")
    df = df[~opening.duplicated(keep="first")]
    rng = np.random.default_rng(20261206)
    parts = []
    for source, n in (("operation", N_OPERATION), ("shape", N_SHAPE)):
        sub = df[df.source == source]
        parts.append(sub.iloc[np.sort(rng.choice(len(sub), size=n, replace=False))])
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "doc_id", [f"d{i:05d}" for i in range(len(out))])
    out.to_csv(Path(__file__).with_name("corpus.csv"), index=False)


if __name__ == "__main__":
    main()
