"""Stage 4c, the look-up: the index the home page's search box reads, cut into shards it fetches on demand.

The page finds a certificate by a piece of its number or of any public field that names or identifies (holder,
client, manufacturer, factory and its address, product, credit code...: ``searched``). Both this index and the
page's query are *normalised* the same way (``normalise``; lookup.js has the same in JavaScript, and a test runs
both on the same table), so that ＣＥＣ－ＺＷＬ, "cec zwl" and CEC-ZWL are one text.

A registry of 100,000 certificates makes an index of tens of megabytes: the page must fetch a few small pieces of
it, not the whole. So the index is two sets of shards under ``data/lookup/``:

- ``g/K.json``, the *grams*: each gram (two characters of a text, or four where it starts with an ASCII letter or
  digit: two would be in every number) -> the certificates that have it, each a number followed by which of its
  texts have it (a bit mask: the grams of a query must be in one text of a certificate, not spread over its
  address, its number and its credit code), in the shard of the gram's hash. A gram in more than ``COMMON``
  certificates (有限, 公司, the "cecz" of every number) is listed with 0 instead: the page looks at the query's
  other grams.
- ``r/K.json``, the *rows*: number -> what a result shows (status, holder, product, valid until) and the
  normalised texts searched, in the shard of the number's hash. The page keeps, of the certificates that have every
  gram of the query in one text, those whose texts do contain it, looking at CHECKED of them at most.

A query fetches ``index.json`` (the shard counts and gram lengths), the shards of at most ``MAX_GRAMS`` of its
grams, and the row shards of the results it shows. A shard's place depends on its gram or number alone, and a
file's key is its bytes (``layer.assemble``): a decision that changes a status rewrites one row shard; a new or
changed certificate, that one and the gram shards of its grams. The shard counts grow with the registry (powers
of two: the whole index is written anew each time the registry doubles).
"""

from __future__ import annotations

import functools
import json
import operator
import unicodedata
from array import array
from collections.abc import Iterable

FORMAT = "certreg-lookup/1"
FOLDER = "data/lookup/"
ROW_FIELDS = ["status", "holder", "product", "valid_until"]  # what a result shows, after its number
SEARCHED_TYPES = ("text", "uscc", "party")  # the field types that name or identify (not longtext, decimal...)
ASCII_GRAM = 4  # the length of a gram that starts with an ASCII character
WIDE_GRAM = 2  # the length of a gram that starts with any other (a Chinese character)
COMMON = 1000  # a gram in more certificates than this is listed as common (0), without its certificates
MAX_GRAMS = 12  # the grams of a query whose shards the page fetches, at most (spread over the query)
SHOWN = 20  # the results the page shows, at most
CHECKED = 3 * SHOWN  # the candidates whose rows the page fetches, at most (the bytes of a look-up have a bound)
ROWS_PER_SHARD = 8  # about this many certificates a row shard
CERTS_PER_GRAM_SHARD = 16  # gram shards: one per this many certificates
EXTRA_DROPPED = "\u30fc\u2212\u02d7\u2043"  # ー (a dash in Chinese typing), −, ˗, ⁃: not punctuation to Unicode


def dropped(ch: str) -> bool:
    """Whether the normalised text leaves ``ch`` out: spaces, punctuation (every dash, quote, bracket and middle
    dot), control and format characters, and EXTRA_DROPPED. (lookup.js: the same Unicode categories.)"""
    cat = unicodedata.category(ch)
    return cat[0] in "ZP" or cat in ("Cc", "Cf") or ch in EXTRA_DROPPED


class _Drop(dict):
    """A table for ``str.translate`` that removes the ``dropped`` characters, filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if dropped(chr(code)) else code
        self[code] = kept
        return kept


_DROP = _Drop()


def normalise(text: str) -> str:
    """``text`` as the look-up compares it: NFKC (full-width letters, digits and signs become ASCII), lower case
    (``str.lower``, as JavaScript's ``toLowerCase``: ``casefold`` has no equivalent there), without ``dropped``
    characters. lookup.js ``norm`` does the same to the query."""
    return unicodedata.normalize("NFKC", text).lower().translate(_DROP)


def grams(text: str) -> set[str]:
    """The grams of a normalised text: at each character, the ASCII_GRAM (ASCII) or WIDE_GRAM (other) characters
    from it, where the text has that many. A gram's length depends on its first character alone, so that every gram
    of a piece of a text is a gram of the text."""
    return set(query_grams(text))


def fnv1a(text: str) -> int:
    """The 32-bit FNV-1a hash of ``text`` in UTF-8: where a gram or a number is (lookup.js ``hash``)."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def shard_count(n: int, per: int) -> int:
    """The power of two of shards that gives about ``per`` certificates a shard to ``n`` certificates."""
    count = 1
    while count * per < n:
        count *= 2
    return count


def searched(view: dict, fields: dict) -> list[str]:
    """The normalised texts a certificate is found by: its number and each public field of its scheme of a
    SEARCHED_TYPES type (a party's name and address), each once. ``fields``: the scheme's field definitions.
    REG-PUBLIC: only a field the scheme says is public, of the public view."""
    texts = [view["number"]]
    for name, spec in fields.items():
        if not spec.get("public") or spec["type"] not in SEARCHED_TYPES or name not in view["content"]:
            continue
        value = view["content"][name]
        texts += [value["name"], value["address"]] if spec["type"] == "party" else [value]
    return list(dict.fromkeys(t for t in map(normalise, texts) if t))


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


Terms = tuple[list[str], str, bytes]
_MASK = "I" if array("I").itemsize >= 4 else "L"  # (an unsigned integer of 32 bits at least)


def terms(view: dict, fields: dict) -> Terms:
    """What certificate ``view`` is found by (``searched``: its texts) and, for each gram of them, the mask of the
    texts it is in (a bit a text; texts past the 31st share one: a wider mask only adds candidates the page checks):
    (texts, the grams joined by NUL, which a normalised text never holds, their masks as unsigned 32-bit integers),
    compact as a cached part is kept in memory for every certificate (3 objects, not a dict of 40). Made once a
    certificate's view changes: publish.public.Part keeps them."""
    texts = searched(view, fields)
    masks: dict[str, int] = {}
    for i, text in enumerate(texts):
        for gram in grams(text):
            masks[gram] = masks.get(gram, 0) | 1 << min(i, 30)
    return texts, "\0".join(masks), array(_MASK, masks.values()).tobytes()


def _masks(found: Terms) -> Iterable[tuple[str, int]]:
    """(gram, mask) of each gram of ``terms``' answer."""
    masks = array(_MASK)
    masks.frombytes(found[2])
    return zip(found[1].split("\0") if found[1] else [], masks, strict=True)


def index_files(certificates: Iterable[dict], schemes: dict, known: dict[str, Terms] | None = None) -> dict[str, bytes]:
    """Every file of the look-up (site path -> bytes) for the public views ``certificates``; ``schemes``: key ->
    Scheme (its field definitions); ``known``: number -> its ``terms``, where they are made already."""
    views = sorted(certificates, key=lambda c: c["number"])
    rows_n = shard_count(len(views), ROWS_PER_SHARD)
    grams_n = shard_count(len(views), CERTS_PER_GRAM_SHARD)
    rows: list[dict] = [{} for _ in range(rows_n)]
    postings: dict[str, list] = {}
    known = known or {}
    for c in views:
        number = c["number"]
        found = known.get(number) or terms(c, schemes[c["scheme"]].fields)
        rows[fnv1a(number) % rows_n][number] = [*(c[k] for k in ROW_FIELDS), found[0]]
        for gram, mask in _masks(found):
            postings.setdefault(gram, []).extend((number, mask))
    shards: list[dict] = [{} for _ in range(grams_n)]
    for gram, flat in postings.items():  # [number, mask, number, mask...]
        shards[fnv1a(gram) % grams_n][gram] = flat if len(flat) <= 2 * COMMON else 0
    files = {f"{FOLDER}index.json": _json({
        "format": FORMAT, "grams": grams_n, "rows": rows_n, "ascii_gram": ASCII_GRAM, "wide_gram": WIDE_GRAM,
        "max_grams": MAX_GRAMS, "shown": SHOWN, "checked": CHECKED, "extra_dropped": EXTRA_DROPPED})}
    files.update((f"{FOLDER}g/{k}.json", _json(shard)) for k, shard in enumerate(shards))
    files.update((f"{FOLDER}r/{k}.json", _json(shard)) for k, shard in enumerate(rows))
    return files


def chosen(query_grams: list[str], most: int = MAX_GRAMS) -> list[str]:
    """The grams of a query (in its order) whose shards the page fetches: all, or ``most`` spread evenly over it
    from its first to its last (lookup.js ``chosen``)."""
    if len(query_grams) <= most:
        return query_grams
    # (rounded half up, as lookup.js does: Python's round() rounds half to even)
    return [query_grams[(2 * i * (len(query_grams) - 1) + most - 1) // (2 * (most - 1))] for i in range(most)]


def query_grams(query: str) -> list[str]:
    """The distinct grams of a normalised query, in the order they start in it (lookup.js ``gramsOf``)."""
    out: dict[str, None] = {}
    for i, ch in enumerate(query):
        n = ASCII_GRAM if ch < "\x80" else WIDE_GRAM
        if i + n <= len(query):
            out[query[i:i + n]] = None
    return list(out)


def fetched(files: dict[str, bytes], query: str) -> tuple[list[str], list[str], bool]:
    """What the page fetches to answer ``query`` (as typed) from the index ``files``: (the paths, the numbers it
    shows, whether it says that more may match: type more). The page's algorithm (lookup.js ``search``) in
    Python, for the bench and the tests."""
    meta = json.loads(files[f"{FOLDER}index.json"])
    paths = [f"{FOLDER}index.json"]
    q = normalise(query)
    picked = chosen(query_grams(q), meta["max_grams"])
    if not picked:
        return paths, [], True  # too short to have a gram: the page asks for more of the query
    lists: list[dict[str, int]] = []
    for g in picked:
        path = f"{FOLDER}g/{fnv1a(g) % meta['grams']}.json"
        if path not in paths:
            paths.append(path)
        found = json.loads(files[path]).get(g)
        if found is None:
            return paths, [], False
        if found:
            lists.append(dict(zip(found[::2], found[1::2], strict=True)))
    if not lists:
        return paths, [], True  # every gram is common: the page asks for more of the query
    # (in one text of the certificate: the masks have a bit in common)
    candidates = [n for n in lists[0] if functools.reduce(operator.and_, (m.get(n, 0) for m in lists))]
    shown: list[str] = []
    checked = candidates[:meta["checked"]]
    for number in checked:
        if len(shown) >= meta["shown"]:
            return paths, shown, True
        path = f"{FOLDER}r/{fnv1a(number) % meta['rows']}.json"
        if path not in paths:
            paths.append(path)
        row = json.loads(files[path])[number]
        if any(q in text for text in row[-1]):
            shown.append(number)
    return paths, shown, len(candidates) > len(checked) and bool(shown)
