#!/usr/bin/env python3
"""The benchmark's yardstick: a plain Python dry run of trakt2discovr's reading and mapping.

    baseline.py PATH [--items-out FILE] [--unknown-dates omit|keep|skip]

Reads a Trakt export (folder, ZIP or one JSON file) with the `json` and `zipfile` modules,
classifies each file by the shape of its records (history, playback, watched-movies,
watched-shows, stats, errors, ignored; names only decide for empty `[]` pages), maps every record
with the contract's rules (docs: importer spec, section 1) in their order, builds the POST bodies,
sorts them oldest first and prints the counts as JSON (the same numbers as the tool's `--json`
report: records, planned, skipped). `--items-out` writes the bodies as JSON Lines in send order,
for a byte-for-byte comparison with the tool's `--items-out`.

"Unknown" dates are those before 1920 or within a day of the Unix epoch (docs/mapping.md). A
watched-shows row without `seasons` gets `invalid-date` / `unknown-date` before `no-episode-detail`,
as the contract orders the rules. `--latest-only` and `--no-playback` are not implemented.

Straightforward on purpose: one process, no threads, `json.loads` per file, `datetime.fromisoformat`
for every timestamp, dicts and sets. Records are mapped as soon as their file is parsed, so only
the compact candidates (not the parsed documents) stay in memory.
"""

import argparse
import functools
import json
import math
import os
import sys
import zipfile
from datetime import datetime, timezone

REASONS = ("missing-media", "no-tmdb-id", "special-episode", "invalid-date", "unknown-date",
           "covered-by-history", "superseded-by-watch", "no-episode-detail", "duplicate", "older-rewatch",
           "playback-excluded")   # the last two never apply here (--latest-only, --no-playback)
FIRST_REAL_YEAR = 1920
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DAY_MS = 86_400_000


# ---------------------------------------------------------------- finding files

def is_private(base):
    lower = base.lower()
    return lower.startswith(("user-settings", "user-profile", "user_settings", "user_profile"))


def natural_less(a, b):
    """`watched-history-2.json` before `watched-history-10.json` (the tool's NaturalOrder)."""
    x, y = a.encode(), b.encode()
    i = j = 0
    while i < len(x) and j < len(y):
        cx, cy = x[i], y[j]
        if 48 <= cx <= 57 and 48 <= cy <= 57:
            ei, ej = i, j
            while ei < len(x) and 48 <= x[ei] <= 57:
                ei += 1
            while ej < len(y) and 48 <= y[ej] <= 57:
                ej += 1
            si, sj = i, j
            while si < ei - 1 and x[si] == 48:
                si += 1
            while sj < ej - 1 and y[sj] == 48:
                sj += 1
            if ei - si != ej - sj:
                return ei - si < ej - sj
            if x[si:ei] != y[sj:ej]:
                return x[si:ei] < y[sj:ej]
            i, j = ei, ej
        else:
            if cx != cy:
                return cx < cy
            i += 1
            j += 1
    return len(x) - i < len(y) - j


def natural_sorted(pairs):
    def cmp(p, q):
        if natural_less(p[0], q[0]):
            return -1
        return 1 if natural_less(q[0], p[0]) else 0
    return sorted(pairs, key=functools.cmp_to_key(cmp))


def sources(path):
    """[(name, reader or None)]: reader() returns the bytes; None means listed, never read."""
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
            for base in files:
                if base.startswith("."):
                    continue
                full = os.path.join(root, base)
                rel = os.path.relpath(full, path)
                if is_private(base) or not base.lower().endswith(".json"):
                    found.append((rel, None))
                else:
                    found.append((rel, functools.partial(read_file, full)))
        return natural_sorted(found)
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"PK" or path.lower().endswith(".zip"):
        archive = zipfile.ZipFile(path)
        found = []
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            if any(p == "__MACOSX" or p.startswith(".") for p in parts if p):
                continue
            base = parts[-1]
            if is_private(base) or not base.lower().endswith(".json"):
                found.append((info.filename, None))
            else:
                found.append((info.filename, functools.partial(archive.read, info.filename)))
        return natural_sorted(found)
    base = os.path.basename(path)
    return [(base, None if is_private(base) else functools.partial(read_file, path))]


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- classifying

def array_shape(elements):
    saw_movie = saw_show = False
    checked = 0
    for o in elements:
        if not isinstance(o, dict):
            continue
        checked += 1
        if "watched_at" in o:
            return "history"
        if "paused_at" in o or ("progress" in o and "plays" not in o and "type" in o):
            return "playback"
        if "rated_at" in o or ("rating" in o and "plays" not in o):
            return "ratings"
        if "listed_at" in o:
            return "list"
        if "collected_at" in o or "last_collected_at" in o:
            return "collection"
        if "plays" in o or "last_watched_at" in o:
            if "movie" in o:
                saw_movie = True
            elif "show" in o or "seasons" in o:
                saw_show = True
            elif "episode" in o:
                return "flattened"
        if (saw_movie and saw_show) or checked >= 64:
            break
    if saw_movie and saw_show:
        return "mixed"
    if saw_movie:
        return "watched-movies"
    if saw_show:
        return "watched-shows"
    return "empty" if checked == 0 else "unknown"


def shape_from_name(base):
    if "playback" in base:
        return "playback"
    if "history" in base:
        return "history"
    if "watched-movies" in base or "watched_movies" in base:
        return "watched-movies"
    if "watched-shows" in base or "watched_shows" in base:
        return "watched-shows"
    return "empty"


def base_name(name):
    return name.lower().split("/")[-1].split("#")[0]


# ---------------------------------------------------------------- mapping one record

def positive_id(v):
    t = type(v)
    if t is int:
        return v if v > 0 else None
    if t is float:
        return int(v) if math.isfinite(v) and v == int(v) and 0 < v < 9.0e15 else None
    if t is str and 0 < len(v) <= 18 and v.isascii() and v.isdigit():
        n = int(v)
        return n if n > 0 else None
    return None


def small_int(v):
    t = type(v)
    if t is float and math.isfinite(v) and v == int(v) and abs(v) < 9.0e15:
        v = int(v)
    elif t is not int:
        return None
    return v if -2_000_000_000 <= v <= 2_000_000_000 else None


def tmdb_of(title):
    ids = title.get("ids")
    return positive_id(ids.get("tmdb")) if isinstance(ids, dict) else None


def parse_time(text, unknown_dates):
    """(ok, updatedAt): updatedAt is the UTC wire form, or None when omitted; ok False = invalid."""
    if type(text) is not str:
        return False, "invalid-date"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return False, "invalid-date"
    if dt.tzinfo is None:   # a bare local time is ambiguous
        return False, "invalid-date"
    try:
        utc = dt.astimezone(timezone.utc)
    except OverflowError:
        return False, "invalid-date"
    if utc.year < FIRST_REAL_YEAR or abs((utc - EPOCH) // _MS) < DAY_MS:
        if unknown_dates == "omit":
            return True, None
        if unknown_dates == "skip":
            return False, "unknown-date"
    return True, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond // 1000)


_MS = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=timezone.utc) - EPOCH


def candidate(record, kind, ts_key, unknown_dates):
    """The first rule that stops the record (a reason string), or (movie?, tmdb, season, episode, updatedAt, progress)."""
    if kind in ("history", "playback"):
        if not isinstance(record, dict):
            return "missing-media"
        t = record.get("type")
        is_movie = t == "movie" or (t != "episode" and "episode" not in record and "show" not in record)
    else:
        is_movie = kind == "watched-movie"
    season = episode = None
    if is_movie:
        movie = record.get("movie") if isinstance(record, dict) else None
        if not isinstance(movie, dict):
            return "missing-media"
        tmdb = tmdb_of(movie)
        if tmdb is None:
            return "no-tmdb-id"
    else:
        show = record.get("show") if isinstance(record, dict) else None
        if not isinstance(show, dict):
            return "missing-media"
        tmdb = tmdb_of(show)
        if kind == "watched-episode":
            season, episode = record["season"], record["number"]
        elif kind != "watched-show":
            ep = record.get("episode")
            if not isinstance(ep, dict):
                return "missing-media"
            season, episode = small_int(ep.get("season")), small_int(ep.get("number"))
        if tmdb is None:
            return "no-tmdb-id"
        if kind != "watched-show" and (season is None or episode is None or season < 1 or episode < 1):
            return "special-episode"
    ok, updated = parse_time(record.get(ts_key) if isinstance(record, dict) else None, unknown_dates)
    if not ok:
        return updated
    if kind == "watched-show":
        # A show row without `seasons` names no episode: no item key, so covered-by-history and
        # superseded-by-watch cannot apply; the next rule in the contract's order is this one.
        return "no-episode-detail"
    progress = 100
    if kind == "playback":
        p = record.get("progress")
        p = float(p) if type(p) in (int, float) else 0.0
        p = min(100.0, max(0.0, p)) if math.isfinite(p) else 0.0
        progress = math.floor(p * 100 + 0.5) / 100   # round half away from zero, like the tool
    return (is_movie, tmdb, season, episode, updated, progress)


# ---------------------------------------------------------------- the run

class Run:
    def __init__(self, unknown_dates):
        self.unknown_dates = unknown_dates
        self.files = {}   # kind -> files
        self.records = {"history": 0, "playback": 0, "watchedMovies": 0, "watchedEpisodes": 0,
                        "watchedShowsWithoutEpisodes": 0}
        self.skipped = dict.fromkeys(REASONS, 0)
        self.seq = 0
        # Candidates, by pass: (index, is_movie, tmdb, season, episode, updatedAt, progress, source)
        self.history = []
        self.summaries = []
        self.playback = []

    def file_kind(self, kind):
        self.files[kind] = self.files.get(kind, 0) + 1

    def add(self, bucket, record, kind, ts_key, source):
        self.seq += 1
        c = candidate(record, kind, ts_key, self.unknown_dates)
        if type(c) is str:
            self.skipped[c] += 1
        else:
            bucket.append((self.seq,) + c + (source,))

    def read(self, name, data):
        doc = json.loads(data)
        if base_name(name).startswith("_errors"):
            self.file_kind("errors")
            return
        if isinstance(doc, list):
            self.classify_array(doc, base_name(name))
        elif isinstance(doc, dict):
            data = doc.get("data")
            if isinstance(data, list) and ("metadata" in doc or len(doc) <= 3):
                self.classify_array(data, base_name(name))
            elif isinstance(doc.get("history"), list) or isinstance(doc.get("watched"), list) or (
                    doc.get("type") in ("full", "partial") and "username" in doc):
                for key in ("history", "watched", "playback"):
                    if isinstance(doc.get(key), list):
                        self.classify_array(doc[key], key)
            elif isinstance(doc.get("movies"), dict) or isinstance(doc.get("episodes"), dict):
                self.file_kind("stats")
            else:
                self.file_kind("ignored")
        else:
            self.file_kind("ignored")

    def classify_array(self, elements, hint):
        shape = array_shape(elements)
        if shape == "empty":
            shape = shape_from_name(hint)
        if shape == "history":
            self.file_kind("history")
            self.records["history"] += len(elements)
            for r in elements:
                self.add(self.history, r, "history", "watched_at", "history")
        elif shape == "playback":
            self.file_kind("playback")
            self.records["playback"] += len(elements)
            for r in elements:
                self.add(self.playback, r, "playback", "paused_at", "playback")
        elif shape in ("watched-movies", "watched-shows", "mixed"):
            self.file_kind("watched-shows" if shape == "watched-shows" else "watched-movies")
            for r in elements:
                if isinstance(r, dict) and ("show" in r or "seasons" in r):
                    self.watched_show(r)
                else:
                    self.records["watchedMovies"] += 1
                    self.add(self.summaries, r, "watched-movie", "last_watched_at", "summary")
        else:
            self.file_kind("ignored")

    def watched_show(self, row):
        produced = False
        seasons = row.get("seasons")
        if isinstance(seasons, list):
            for season in seasons:
                if not isinstance(season, dict) or not isinstance(season.get("episodes"), list):
                    continue
                number = small_int(season.get("number"))
                for entry in season["episodes"]:
                    entry = entry if isinstance(entry, dict) else {}
                    flat = {"show": row.get("show"), "season": number, "number": small_int(entry.get("number")),
                            "last_watched_at": entry.get("last_watched_at")}
                    self.records["watchedEpisodes"] += 1
                    self.add(self.summaries, flat, "watched-episode", "last_watched_at", "summary")
                    produced = True
        if not produced:
            self.records["watchedShowsWithoutEpisodes"] += 1
            self.add(self.summaries, row, "watched-show", "last_watched_at", "summary")

    def plan(self):
        planned_plays = set()
        history_keys = set()
        completed_keys = set()
        items = []

        def key(c):
            prefix = ("MV_TMDBID%d" if c[1] else "TV_TMDBID%d") % c[2]
            return prefix if c[1] else "%s:%d:%d" % (prefix, c[3], c[4])

        for c in self.history:
            k = key(c)
            play = (k, c[5])
            if play in planned_plays:
                self.skipped["duplicate"] += 1
                continue
            planned_plays.add(play)
            history_keys.add(k)
            completed_keys.add(k)
            items.append(c)
        for c in self.summaries:
            k = key(c)
            if k in history_keys:
                self.skipped["covered-by-history"] += 1
                continue
            play = (k, c[5])
            if play in planned_plays:
                self.skipped["duplicate"] += 1
                continue
            planned_plays.add(play)
            completed_keys.add(k)
            items.append(c)
        for c in self.playback:
            k = key(c)
            if k in completed_keys:
                self.skipped["superseded-by-watch"] += 1
                continue
            play = (k, c[5])
            if play in planned_plays:
                self.skipped["duplicate"] += 1
                continue
            planned_plays.add(play)
            items.append(c)

        # Oldest first, unknown dates first of all; ties in title and episode order (the tool's order).
        items.sort(key=lambda c: (c[5] or "", not c[1], c[2], c[3] or 0, c[4] or 0, c[6], c[0]))
        bodies = [body(c) for c in items]
        movies = sum(1 for c in items if c[1])
        planned = {"total": len(items), "movies": movies, "episodes": len(items) - movies,
                   "inProgress": sum(1 for c in items if c[7] == "playback"),
                   "fromSummary": sum(1 for c in items if c[7] == "summary")}
        return planned, bodies


def body(c):
    is_movie, tmdb, season, episode, updated, progress = c[1:7]
    out = '{"mediaId":"MV_TMDBID%d"' % tmdb if is_movie else '{"mediaId":"TV_TMDBID%d","season":%d,"episode":%d' % (tmdb, season, episode)
    out += ',"progress":' + (str(int(progress)) if progress == int(progress) else repr(progress))
    if updated is not None:
        out += ',"updatedAt":"' + updated + '"'
    return out + ',"imported":"trakt"}'


def main(argv):
    ap = argparse.ArgumentParser(description="plain Python dry run of the trakt2discovr mapping")
    ap.add_argument("path")
    ap.add_argument("--items-out", help="write the POST bodies as JSON Lines, in send order")
    ap.add_argument("--unknown-dates", choices=("omit", "keep", "skip"), default="omit")
    args = ap.parse_args(argv)

    run = Run(args.unknown_dates)
    count = 0
    for name, reader in sources(args.path):
        count += 1
        if reader is None:
            run.file_kind("ignored")
            continue
        run.read(name, reader())
    planned, bodies = run.plan()
    if args.items_out:
        with open(args.items_out, "w", encoding="utf-8") as f:
            f.write("".join(b + "\n" for b in bodies))
    print(json.dumps({"files": count, "kinds": run.files, "records": run.records, "planned": planned,
                      "skipped": run.skipped}))


if __name__ == "__main__":
    main(sys.argv[1:])
