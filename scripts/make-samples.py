#!/usr/bin/env python3
"""Writes the small synthetic exports in samples/, one per layout, each exercising the traps of
shared/spec/trakt-exports.md. Deterministic: running it again gives the same bytes.
Usage: python3 scripts/make-samples.py  (from the repository root)"""
import json, os, shutil, zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")

def movie(title, year, tmdb, trakt, slug=None, **extra):
    ids = {"trakt": trakt, "slug": slug or f"{title.lower().replace(' ', '-')}-{year}", "imdb": f"tt{trakt:07d}", "tmdb": tmdb}
    ids.update(extra)
    return {"title": title, "year": year, "ids": ids}

def show(title, year, tmdb, trakt, **extra):
    ids = {"trakt": trakt, "slug": title.lower().replace(" ", "-"), "tvdb": trakt + 1000, "imdb": f"tt{trakt:07d}", "tmdb": tmdb, "tvrage": None}
    ids.update(extra)
    return {"title": title, "year": year, "ids": ids}

def ep(season, number, title="Episode"):
    return {"season": season, "number": number, "title": title, "ids": {"trakt": 9000 + season * 100 + number, "tvdb": None, "imdb": None, "tmdb": 70000 + season * 100 + number, "tvrage": None}}

HEAT = movie("Heat", 1995, 949, 1000)
ALIEN = movie("Alien", 1979, 348, 1001, plex={"guid": "5d776", "slug": "alien"})
DELETED_TMDB = movie("Obscure Short", 2003, None, 1002)
ZERO_TMDB = movie("Zero Id", 2010, 0, 1003)
ARRIVAL = movie("Arrival", 2016, 329865, 1004)
BB = show("Breaking Bad", 2008, 1396, 2000)
DARK = show("Dark", 2017, 70523, 2001)
NOTMDB = show("Local Show", 2012, None, 2002)

_next_id = [8_000_000_000]
def hid():
    _next_id[0] += 1
    return _next_id[0]  # history ids exceed 32 bits

def hmovie(m, at, action="watch"):
    return {"id": hid(), "watched_at": at, "action": action, "type": "movie", "movie": m}

def hep(s, e, at, action="watch"):
    return {"id": hid(), "watched_at": at, "action": action, "type": "episode", "episode": e, "show": s}

def official_history():
    """History with every trap; returns pages (newest first, as Trakt writes them)."""
    plays = [
        hmovie(HEAT, "2024-02-01T20:00:00.000Z"),
        hmovie(HEAT, "2019-05-01T20:00:00+02:00"),             # a rewatch, with an offset
        hmovie(ALIEN, "2021-03-04T21:00:00Z"),                 # no fraction; ids.plex is an object
        {"id": hid(), "watched_at": "2020-01-01T10:00:00.000Z", "action": "watch", "type": "movie", "movie": None},  # deleted
        hmovie(DELETED_TMDB, "2020-01-02T10:00:00.000Z"),      # tmdb null
        hmovie(ZERO_TMDB, "2020-01-03T10:00:00.000Z"),         # tmdb 0
        hmovie(ARRIVAL, "1970-01-01T00:00:00.000Z"),           # unknown date
        hmovie(ARRIVAL, "1900-01-01T00:00:00.000Z"),           # unknown date again: duplicate under omit
        hmovie(ARRIVAL, "not a date"),                         # invalid date
        hep(BB, ep(0, 1, "Special"), "2022-06-01T19:00:00.000Z"),  # special
        hep(BB, ep(2, 0, "Unnumbered"), "2022-06-01T19:05:00.000Z"),  # number 0
        hep(NOTMDB, ep(1, 1), "2022-06-02T19:00:00.000Z"),     # show without tmdb
        {"id": hid(), "watched_at": "2022-06-03T19:00:00.000Z", "action": "watch", "type": "episode", "episode": ep(1, 2), "show": None},
    ]
    # Bulk "mark as watched": five episodes share one watched_at (not duplicates).
    for n in range(1, 6):
        plays.append(hep(BB, ep(1, n), "2023-01-15T00:00:00.000Z"))
    plays.append(hep(DARK, ep(1, 1), "2023-03-01T22:00:00.000Z", action="scrobble"))
    plays.append(hep(DARK, ep(1, 2), "2023-03-02T22:00:00.000Z", action="checkin"))
    plays.sort(key=lambda p: p["watched_at"], reverse=True)
    dup = dict(next(p for p in plays if p["watched_at"].startswith("2024")))  # the same play again on a later page
    return [plays[:8], plays[8:16], plays[16:] + [dup]]

def write_json(path, value, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=indent, ensure_ascii=False, separators=None if indent else (",", ":"))

def official():
    out = os.path.join(ROOT, "official")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    files = {}
    pages = official_history()
    for k, page in enumerate(pages, 1):
        files[f"watched-history-{k}.json"] = page
    # Pages 4..10 exist but are empty, so "-10" must sort after "-9".
    for k in range(4, 11):
        files[f"watched-history-{k}.json"] = []
    files["watched-history-10.json"] = [hep(DARK, ep(2, 1), "2023-04-01T22:00:00.000Z")]
    files["watched-playback.json"] = [
        {"progress": 45.678, "paused_at": "2024-03-01T21:00:00.000Z", "id": 51, "type": "movie", "movie": movie("Dune", 2021, 438631, 1005)},
        {"progress": 57.6, "paused_at": "2024-03-02T21:00:00.000Z", "id": 52, "type": "episode", "episode": ep(1, 1), "show": DARK},  # already watched
        {"progress": 0.0, "paused_at": "2024-03-03T21:00:00.000Z", "id": 53, "type": "movie", "movie": movie("Tenet", 2020, 577922, 1007)},  # paused at 0%: zero-progress
    ]
    files["watched-movies.json"] = [
        {"plays": 2, "last_watched_at": "2024-02-01T20:00:00.000Z", "last_updated_at": "2024-02-01T20:00:00.000Z", "movie": HEAT},  # covered
        {"plays": 1, "last_watched_at": "2015-07-04T18:00:00.000Z", "last_updated_at": "2015-07-04T18:00:00.000Z", "movie": movie("Jaws", 1975, 578, 1006)},  # a gap history lost
    ]
    files["watched-shows.json"] = [
        {"plays": 7, "last_watched_at": "2023-03-02T22:00:00.000Z", "last_updated_at": "2023-03-02T22:00:00.000Z", "reset_at": None, "show": DARK},  # current shape: no seasons
    ]
    files["ratings-movies.json"] = [{"rated_at": "2024-02-02T10:00:00.000Z", "rating": 9, "type": "movie", "movie": HEAT}]
    files["ratings-shows.json"] = []
    files["lists-watchlist.json"] = []
    files["collection-movies.json"] = []
    files["user-stats.json"] = {"movies": {"plays": 12, "watched": 6}, "shows": {"watched": 3}, "episodes": {"plays": 15, "watched": 12}, "total_plays": 27}
    files["_errors.json"] = [{"section": "comments", "message": "timed out, try again later"}]
    files["user-settings.json"] = {"user": {"email": "someone@example.com"}, "account": {"token": "never-read-this"}}
    zpath = os.path.join(out, "trakt-export-sample.zip")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, json.dumps(files[name], separators=(",", ":")))
        for junk in ["__MACOSX/._watched-history-1.json", ".DS_Store"]:
            info = zipfile.ZipInfo(junk, date_time=(2026, 11, 1, 0, 0, 0))
            z.writestr(info, b"\x00\x05\x16\x07junk")

def legacy():
    out = os.path.join(ROOT, "legacy")
    shutil.rmtree(out, ignore_errors=True)
    base = os.path.join(out, "sampleuser")
    history = [
        hmovie(HEAT, "2016-02-01T20:00:00.000Z"),
        hep(BB, ep(1, 1), "2016-03-01T20:00:00.000Z"),
        hep(BB, ep(1, 2), "2016-03-02T20:00:00.000Z"),
    ]
    write_json(os.path.join(base, "watched", "history-1.json"), history[:2], indent=2)
    write_json(os.path.join(base, "watched", "history-2.json"), history[2:], indent=2)
    write_json(os.path.join(base, "watched", "watched-movies.json"), [
        {"plays": 1, "last_watched_at": "2016-02-01T20:00:00.000Z", "last_updated_at": "2016-02-01T20:00:00.000Z", "movie": HEAT},
        {"plays": 1, "last_watched_at": "2014-03-31T09:28:53.000Z", "last_updated_at": "2014-03-31T09:28:53.000Z", "movie": ALIEN},
    ], indent=2)
    write_json(os.path.join(base, "watched", "watched-shows.json"), [
        {"plays": 4, "last_watched_at": "2016-03-03T20:00:00.000Z", "last_updated_at": "2016-03-03T20:00:00.000Z", "show": BB,
         "seasons": [{"number": 0, "episodes": [{"number": 1, "plays": 1, "last_watched_at": "2015-12-24T20:00:00.000Z"}]},
                     {"number": 1, "episodes": [
                         {"number": 1, "plays": 1, "last_watched_at": "2016-03-01T20:00:00.000Z"},   # covered
                         {"number": 2, "plays": 1, "last_watched_at": "2016-03-02T20:00:00.000Z"},   # covered
                         {"number": 3, "plays": 1, "last_watched_at": "2016-03-03T20:00:00.000Z"}]}]},  # a gap: planned
        {"plays": 1, "last_watched_at": "2015-01-01T20:00:00.000Z", "last_updated_at": "2015-01-01T20:00:00.000Z", "show": NOTMDB,
         "seasons": [{"number": 1, "episodes": [{"number": 1, "plays": 1, "last_watched_at": "2015-01-01T20:00:00.000Z"}]}]},
    ], indent=2)
    write_json(os.path.join(base, "watched", "playback.json"), [
        {"progress": 12.5, "paused_at": "2016-04-01T20:00:00.000Z", "id": 7, "type": "episode", "episode": ep(1, 4), "show": BB},
        {"progress": 0.0, "paused_at": "2016-04-02T20:00:00.000Z", "id": 8, "type": "movie", "movie": ARRIVAL},  # paused at 0%: zero-progress
    ], indent=2)
    write_json(os.path.join(base, "ratings", "ratings-movies.json"), [{"rated_at": "2016-02-02T10:00:00.000Z", "rating": 8, "type": "movie", "movie": HEAT}], indent=2)
    write_json(os.path.join(base, "lists", "watchlist.json"), [{"rank": 1, "id": 5, "listed_at": "2016-01-01T00:00:00.000Z", "type": "movie", "movie": ARRIVAL}], indent=2)
    write_json(os.path.join(base, "user", "stats.json"), {"movies": {"plays": 2}, "episodes": {"plays": 4}}, indent=2)

def traktexport():
    out = os.path.join(ROOT, "traktexport")
    shutil.rmtree(out, ignore_errors=True)
    history = [  # newest first
        hep(DARK, ep(1, 1), "2023-03-01T22:00:00.000Z"),
        hmovie(ARRIVAL, "2017-01-10T20:00:00.000Z"),
        hmovie(ARRIVAL, "2017-01-10T20:00:00.000Z"),   # the same play twice
    ]
    history[2]["id"] = history[1]["id"]
    doc = {
        "type": "full", "username": "sampleuser",
        "history": history,
        "watched": [  # movies and shows mixed in one array
            {"plays": 1, "last_watched_at": "2017-01-10T20:00:00.000Z", "last_updated_at": "2017-01-10T20:00:00.000Z", "movie": ARRIVAL},
            {"plays": 2, "last_watched_at": "2023-03-02T22:00:00.000Z", "last_updated_at": "2023-03-02T22:00:00.000Z", "show": DARK,
             "seasons": [{"number": 1, "episodes": [
                 {"number": 1, "plays": 1, "last_watched_at": "2023-03-01T22:00:00.000Z"},
                 {"number": 2, "plays": 1, "last_watched_at": "2023-03-02T22:00:00.000Z"}]}]},
            {"plays": 1, "last_watched_at": "2011-11-11T11:11:11.000Z", "last_updated_at": "2011-11-11T11:11:11.000Z", "movie": HEAT},
        ],
        "ratings": [{"rated_at": "2017-01-11T10:00:00.000Z", "rating": 10, "type": "movie", "movie": ARRIVAL}],
        "watchlist": [],
        "collection": [],
        "stats": {"movies": {"plays": 2}, "episodes": {"plays": 2}},
    }
    write_json(os.path.join(out, "traktexport-sample.json"), doc, indent=2)

def raw():
    out = os.path.join(ROOT, "raw")
    shutil.rmtree(out, ignore_errors=True)
    shows = [hep(BB, ep(3, 1), "2018-05-05T21:00:00.000Z"), hep(BB, ep(3, 2), "2018-05-06T21:00:00.000Z")]
    for p in shows:
        p["posterUrl"] = "https://example.invalid/poster.jpg"
        p["ratings"] = {"imdb": None, "rottenTomatoes": None}
    write_json(os.path.join(out, "sampleuser-history_shows.json"), {"metadata": {"exported": "2026-11-01", "tool": "backup-script"}, "data": shows})
    write_json(os.path.join(out, "history_movies.json"), [hmovie(ALIEN, "2018-01-01T20:00:00.000Z")])
    write_json(os.path.join(out, "watched_movies.json"), [
        {"plays": 1, "last_watched_at": "2018-01-01T20:00:00.000Z", "last_updated_at": "2018-01-01T20:00:00.000Z", "movie": ALIEN},
    ])
    # A UTF-8 byte order mark, as some Windows tools write.
    with open(os.path.join(out, "playback.json"), "w", encoding="utf-8-sig") as f:
        json.dump([{"progress": 33.333, "paused_at": "2018-06-01T21:00:00.000Z", "id": 9, "type": "episode", "episode": ep(3, 3), "show": BB},
                   {"progress": 0.0, "paused_at": "2018-06-02T21:00:00.000Z", "id": 10, "type": "episode", "episode": ep(3, 4), "show": BB}], f)  # 0%: zero-progress
    # Flattened episode rows with no show: cannot be mapped, must be reported.
    write_json(os.path.join(out, "watched_episodes.json"), [
        {"plays": 1, "last_watched_at": "2018-05-05T21:00:00.000Z", "last_updated_at": "2018-05-05T21:00:00.000Z", "episode": ep(3, 1)},
    ])


def embed():
    """The official sample, embedded in the executable for `trakt2discovr import --sandbox` with no path."""
    import base64
    data = open(os.path.join(ROOT, "official", "trakt-export-sample.zip"), "rb").read()
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 100] for i in range(0, len(b64), 100)]
    src = os.path.join(ROOT, "..", "Sources", "trakt2discovr", "EmbeddedSample.swift")
    with open(src, "w") as f:
        f.write("// Generated by scripts/make-samples.py from samples/official/trakt-export-sample.zip: do not edit.\n")
        f.write("import Foundation\n\n")
        f.write("/// The bundled sample export, so `import --sandbox` runs end to end on a fresh machine with no file at hand.\n")
        f.write("enum EmbeddedSample {\n")
        f.write("    static let fileName = \"trakt-export-sample.zip\"\n")
        f.write("    static let base64 = \"\"\"\n")
        for line in lines:
            f.write("        " + line + "\n")
        f.write("        \"\"\"\n\n")
        f.write("    static var bytes: Data { Data(base64Encoded: base64.replacingOccurrences(of: \"\\n\", with: \"\"))! }\n")
        f.write("}\n")

if __name__ == "__main__":
    official(); legacy(); traktexport(); raw(); embed()
    print("samples written to", os.path.normpath(ROOT))
