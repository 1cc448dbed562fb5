#!/usr/bin/env python3
"""Writes a synthetic *current official* Trakt export for benchmarks.

    gen-export.py N OUT [--zip] [--seed S] [--lists [--list-scale F]]

N history plays (records, duplicates included) in `watched-history-1.json` ... (250 records a
page, compact JSON, newest first, flat at the root), plus the side files a real export has:
watched-movies / watched-shows summaries derived from the history (current shape: shows have no
`seasons`) with some titles only in the summaries, watched-playback, user-stats, ratings, empty
`[]` sections and `_errors.json`.

The mix follows real exports: about 75 % episodes and 25 % movies, rewatches, bulk "mark as
watched" (a season with one watched_at), ~1 % specials (season 0, a few episode 0), ~0.5 % null
tmdb ids, ~0.2 % deleted titles (movie, show or episode null), ~0.1 % unknown dates (1970-01-01),
~0.3 % duplicate plays across pages, 64-bit history ids.

With --lists (issue #19), the sections a rating or list person fills are no longer empty: about
10 % of the shows are rated too (`ratings-shows`), a few seasons and episodes (`ratings-seasons`,
`ratings-episodes`), and there is a watchlist (`lists-watchlist`, about 2 % of the movies and 3 % of
the shows, a few seasons and episodes) and favorites (`lists-favorites`), paged like every section.
They are drawn from a second random generator, so every other file is the same as without --lists.

Without --zip the files go into the folder OUT; with --zip, OUT/trakt-export-bench.zip (deflate)
is written instead. The output is byte-for-byte the same for the same N and seed. History is
generated oldest first and written page by page, never held whole: what grows with N is the title
catalogue and the summary rows (about 80 MB peak for N = 200,000, 330 MB for 1,000,000).
"""

import argparse
import calendar
import collections
import json
import os
import random
import sys
import time
import unicodedata
import zipfile

PAGE = 250
HISTORY_START = calendar.timegm((2011, 1, 1, 0, 0, 0))
HISTORY_END = calendar.timegm((2026, 8, 20, 0, 0, 0))
UNKNOWN_DATE = "1970-01-01T00:00:00.000Z"
ZIP_DATE = (2026, 8, 20, 12, 0, 0)

WORDS = (
    "Night Dark Last Secret City Blue Red Golden Silent Broken Lost Wild Iron Glass Winter Summer "
    "House Road River Star Moon Sun Fire Shadow King Queen Empire Kingdom Game Code Line Edge "
    "Heart Mind Dream Storm Ocean Island Mountain Valley Garden Station Signal Echo Mirror Crown "
    "Hunter Witness Stranger Doctor Detective Agent Captain Pilot Killer Lawyer Family Brothers "
    "Sisters Friends Lovers Strangers Saints Sinners Ghosts Angels Wolves Ravens Lions Tigers "
    "Café Señor Über Noël Ærø Jalapeño Tōkyō Zürich Łódź Ñandú"
).split()
PATTERNS = ("{a} {b}", "The {a} {b}", "{a} of the {b}", "{a}", "The {a}", "{a} & {b}",
            "{a}'s {b}", "{a}: {b} {c}", "A {a} in {b}", "{a} {b} {c}")


def slugify(text):
    out = []
    dash = False
    for ch in unicodedata.normalize("NFKD", text.lower()):
        if unicodedata.combining(ch):
            continue
        if ch.isascii() and ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-") or "untitled"


def iso(seconds, with_seconds=True):
    t = time.gmtime(seconds)
    sec = t.tm_sec if with_seconds else 0
    return "%04d-%02d-%02dT%02d:%02d:%02d.000Z" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, sec)


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Sink:
    """Writes files into a folder, or entries into a deterministic ZIP."""

    def __init__(self, out, as_zip):
        self.as_zip = as_zip
        self.count = 0
        os.makedirs(out, exist_ok=True)
        if as_zip:
            self.path = os.path.join(out, "trakt-export-bench.zip")
            self.zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        else:
            self.path = out

    def write(self, name, text):
        data = text.encode("utf-8")
        self.count += 1
        if self.as_zip:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            self.zip.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
        else:
            with open(os.path.join(self.path, name), "wb") as f:
                f.write(data)

    def close(self):
        if self.as_zip:
            self.zip.close()


def write_section(sink, name, rows):
    """One page `name.json`, or `name-1.json` ... when more than one page is needed."""
    if len(rows) <= PAGE:
        sink.write(name + ".json", "[" + ",".join(rows) + "]")
        return 1
    pages = (len(rows) + PAGE - 1) // PAGE
    for p in range(pages):
        sink.write("%s-%d.json" % (name, p + 1), "[" + ",".join(rows[p * PAGE:(p + 1) * PAGE]) + "]")
    return pages


class Catalogue:
    """Movies and shows, created on demand; each keeps its compact JSON object text."""

    def __init__(self, rng):
        self.rng = rng
        self.movies = []   # [json_text, tmdb or None, deleted, title, year, trakt]
        self.shows = []    # dicts
        self.titles_used = set()

    def title(self):
        rng = self.rng
        while True:
            p = rng.choice(PATTERNS)
            t = p.format(a=rng.choice(WORDS), b=rng.choice(WORDS), c=rng.choice(WORDS))
            year = rng.randint(1950, 2026)
            if (t, year) not in self.titles_used:
                self.titles_used.add((t, year))
                return t, year

    def tmdb_or_null(self, value):
        r = self.rng.random()
        if r < 0.003:
            return None
        if r < 0.004:
            return 0   # "tmdb: 0 means missing"
        return value

    def new_movie(self):
        rng = self.rng
        k = len(self.movies)
        title, year = self.title()
        trakt = 1000 + k * 5 + rng.randint(0, 4)
        tmdb = self.tmdb_or_null(11 + k * 7 + rng.randint(0, 6))
        imdb = None if rng.random() < 0.03 else "tt%07d" % (100000 + k * 11 + rng.randint(0, 10))
        ids = {"trakt": trakt, "slug": slugify(title) + "-" + str(year), "imdb": imdb, "tmdb": tmdb}
        deleted = rng.random() < 0.002
        text = dumps({"title": title, "year": year, "ids": ids})
        self.movies.append([text, tmdb, deleted, title, year, trakt])
        return k

    def new_show(self):
        rng = self.rng
        k = len(self.shows)
        title, year = self.title()
        trakt = 1000 + k * 9 + rng.randint(0, 8)
        tmdb = self.tmdb_or_null(1 + k * 13 + rng.randint(0, 12))
        tvdb = None if rng.random() < 0.02 else 70000 + k * 17 + rng.randint(0, 16)
        imdb = None if rng.random() < 0.05 else "tt%07d" % (2000000 + k * 23 + rng.randint(0, 22))
        ids = {"trakt": trakt, "slug": slugify(title), "tvdb": tvdb, "imdb": imdb, "tmdb": tmdb, "tvrage": None}
        seasons = rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 9, 12))
        lengths = [rng.choice((6, 8, 10, 10, 12, 13, 13, 20, 22, 24)) for _ in range(seasons)]
        show = {
            "text": dumps({"title": title, "year": year, "ids": ids}),
            "tmdb": tmdb, "deleted": rng.random() < 0.001, "index": k, "trakt": trakt,
            "lengths": lengths, "season": 1, "episode": 1,
        }
        self.shows.append(show)
        return show

    def episode_text(self, show, season, number):
        k = show["index"]
        base = 1_000_000 + k * 4000 + season * 150 + number
        if (base * 2654435761) % 100_000 < 150:
            return "null"   # an episode deleted from Trakt (its show still there)
        if number % 4 == 0 or season == 0:
            title = "Episode %d" % number
        else:
            r = random.Random(base)
            title = "%s %s" % (r.choice(WORDS), r.choice(WORDS))
        ids = {"trakt": base, "tvdb": 3_000_000 + base, "imdb": "tt%07d" % (5_000_000 + base),
               "tmdb": None if (base % 97 == 0) else 900_000 + base, "tvrage": None}
        return dumps({"season": season, "number": number, "title": title, "ids": ids})


class History:
    def __init__(self, n, rng, cat, sink):
        self.n = n
        self.rng = rng
        self.cat = cat
        self.sink = sink
        self.count = 0
        self.movie_plays = 0
        self.episode_plays = 0
        self.history_id = 9_000_000_000 + rng.randint(0, 1_000_000)   # real ids exceed 32 bits
        self.pages = (n + PAGE - 1) // PAGE
        # Pages are filled oldest first: the last page holds the remainder.
        self.next_page = self.pages
        self.page_size = n - (self.pages - 1) * PAGE
        self.buffer = []
        self.recent = collections.deque(maxlen=400)
        self.movie_stats = {}   # movie index -> [plays, last_watched_at]
        self.show_stats = {}    # show index -> [plays, last_watched_at]
        self.active = []
        self.finished = []
        self.watched_movies = []
        self.gap = (HISTORY_END - HISTORY_START) / max(1, n)

    def full(self):
        return self.count >= self.n

    def emit(self, text):
        self.buffer.append(text)
        self.recent.append(text)
        self.count += 1
        if len(self.buffer) == self.page_size:
            self.buffer.reverse()   # newest first inside a page, as Trakt writes them
            name = "watched-history.json" if self.pages == 1 else "watched-history-%d.json" % self.next_page
            self.sink.write(name, "[" + ",".join(self.buffer) + "]")
            self.buffer = []
            self.next_page -= 1
            self.page_size = PAGE

    def next_id(self):
        self.history_id += self.rng.randint(1, 20000)
        return self.history_id

    def action(self):
        r = self.rng.random()
        return "scrobble" if r < 0.6 else ("watch" if r < 0.9 else "checkin")

    def maybe_duplicate(self, plays):
        # The same record again, at least a page later: overlapping pages in real exports.
        for _ in range(plays):
            if len(self.recent) == self.recent.maxlen and not self.full() and self.rng.random() < 0.003:
                self.emit(self.recent[self.rng.randint(0, self.recent.maxlen - PAGE - 1)])

    def movie_play(self, when, action):
        rng = self.rng
        if self.watched_movies and rng.random() < 0.12:
            k = rng.choice(self.watched_movies)   # a rewatch
        else:
            k = self.cat.new_movie()
            self.watched_movies.append(k)
        text, _, deleted, _, _, _ = self.cat.movies[k]
        movie = "null" if deleted else text
        self.emit('{"id":%d,"watched_at":"%s","action":"%s","type":"movie","movie":%s}'
                  % (self.next_id(), when, action, movie))
        self.movie_plays += 1
        st = self.movie_stats.setdefault(k, [0, when])
        st[0] += 1
        st[1] = when

    def episode_play(self, show, season, number, when, action):
        ep = self.cat.episode_text(show, season, number)
        show_text = "null" if show["deleted"] else show["text"]
        self.emit('{"id":%d,"watched_at":"%s","action":"%s","type":"episode","episode":%s,"show":%s}'
                  % (self.next_id(), when, action, ep, show_text))
        self.episode_plays += 1
        st = self.show_stats.setdefault(show["index"], [0, when])
        st[0] += 1
        st[1] = when

    def pick_show(self):
        rng = self.rng
        if len(self.active) < 4 or rng.random() < 0.05:
            if self.finished and rng.random() < 0.08:
                show = self.finished.pop(rng.randrange(len(self.finished)))   # a rewatch from the start
                show["season"], show["episode"] = 1, 1
            else:
                show = self.cat.new_show()
            self.active.append(show)
            return show
        return rng.choice(self.active)

    def advance(self, show):
        show["episode"] += 1
        if show["episode"] > show["lengths"][show["season"] - 1]:
            show["season"] += 1
            show["episode"] = 1
        if show["season"] > len(show["lengths"]):
            self.active.remove(show)
            self.finished.append(show)
            return False
        return True

    def episode_session(self, t):
        rng = self.rng
        show = self.pick_show()
        if rng.random() < 0.04:
            # Bulk "mark as watched": the rest of a season, one watched_at, action "watch".
            when = iso(t, with_seconds=False)
            season = show["season"]
            while not self.full() and show["season"] == season:
                self.episode_play(show, show["season"], show["episode"], when, "watch")
                if not self.advance(show):
                    break
            return
        for k in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 6))):
            if self.full():
                return
            action = self.action()
            when = iso(t + k * 2700 + rng.randint(0, 300), with_seconds=action != "watch")
            if rng.random() < 0.014:
                # A special (season 0), now and then an episode numbered 0.
                number = 0 if rng.random() < 0.1 else rng.randint(1, 12)
                self.episode_play(show, 0, number, when, action)
                continue
            self.episode_play(show, show["season"], show["episode"], when, action)
            if not self.advance(show):
                return
            if rng.random() < 0.03 and show in self.active:
                self.active.remove(show)   # dropped
                return

    def run(self):
        rng = self.rng
        # Unknown dates ("watched, date unknown"): Trakt sorts them last, so they are the oldest records.
        unknown = round(self.n * 0.001)
        while self.count < unknown:
            if rng.random() < 0.3:
                self.movie_play(UNKNOWN_DATE, "watch")
            else:
                show = self.pick_show()
                self.episode_play(show, show["season"], show["episode"], UNKNOWN_DATE, "watch")
                self.advance(show)
        while not self.full():
            before = self.count
            t = int(HISTORY_START + self.count * self.gap + rng.uniform(0, self.gap))
            if self.movie_plays < 0.25 * self.count:
                action = self.action()
                self.movie_play(iso(t, with_seconds=action != "watch"), action)
            else:
                self.episode_session(t)
            self.maybe_duplicate(self.count - before)
        assert not self.buffer and self.next_page == 0, "pages out of step"


def summaries(h, cat, rng, sink):
    files = 0
    # Titles only in the summaries: plays an older, truncated history lost.
    extra_movies = [cat.new_movie() for _ in range(max(2, len(h.movie_stats) // 100))]
    extra_shows = [cat.new_show()["index"] for _ in range(max(1, len(h.show_stats) // 50))]
    rows = []
    for k, (plays, last) in h.movie_stats.items():
        text, _, deleted, _, _, _ = cat.movies[k]
        if not deleted:
            rows.append((last, plays, text))
    for k in extra_movies:
        last = iso(HISTORY_START - rng.randint(86400, 3 * 365 * 86400), with_seconds=False)
        rows.append((last, rng.randint(1, 3), cat.movies[k][0]))
    rows.sort(key=lambda r: r[0], reverse=True)
    movie_rows = ['{"plays":%d,"last_watched_at":"%s","last_updated_at":"%s","movie":%s}'
                  % (plays, last, last[:17] + "%02d.000Z" % rng.randint(0, 59), text)
                  for last, plays, text in rows]
    files += write_section(sink, "watched-movies", movie_rows)

    rows = []
    for k, (plays, last) in h.show_stats.items():
        show = cat.shows[k]
        if not show["deleted"]:
            rows.append((last, plays, show["text"]))
    for k in extra_shows:
        last = iso(HISTORY_START - rng.randint(86400, 3 * 365 * 86400), with_seconds=False)
        rows.append((last, rng.randint(1, 60), cat.shows[k]["text"]))
    rows.sort(key=lambda r: r[0], reverse=True)
    show_rows = ['{"plays":%d,"last_watched_at":"%s","last_updated_at":"%s","reset_at":null,"show":%s}'
                 % (plays, last, last, text) for last, plays, text in rows]
    files += write_section(sink, "watched-shows", show_rows)
    return files


def playback(h, cat, rng, sink):
    count = max(6, h.n // 2000)
    rows = []
    pid = 1_700_000_000
    for k in range(count):
        pid += rng.randint(1, 500_000)
        paused = iso(HISTORY_END - rng.randint(3600, 120 * 86400))
        progress = round(rng.uniform(1, 95), rng.choice((1, 2)))
        if k % 2 == 0:
            # A movie: half already watched in full (superseded), half never finished.
            m = rng.choice(h.watched_movies) if k % 4 == 0 else cat.new_movie()
            rows.append((paused, '{"progress":%s,"paused_at":"%s","id":%d,"type":"movie","movie":%s}'
                         % (progress, paused, pid, cat.movies[m][0])))
        else:
            show = rng.choice(cat.shows[: max(1, len(h.show_stats))])
            if k % 4 == 1:
                season, number = 1, 1   # an episode history has (usually)
            else:
                season, number = len(show["lengths"]) + 1, rng.randint(1, 10)   # a new season, never watched
            rows.append((paused, '{"progress":%s,"paused_at":"%s","id":%d,"type":"episode","episode":%s,"show":%s}'
                         % (progress, paused, pid, cat.episode_text(show, season, number), show["text"])))
    rows.sort(key=lambda r: r[0], reverse=True)
    return write_section(sink, "watched-playback", [r[1] for r in rows])


def ratings(h, cat, rng, sink):
    rows = []
    for k in h.watched_movies[: len(h.watched_movies) // 10]:
        text, _, deleted, _, _, _ = cat.movies[k]
        if deleted:
            continue
        rated = iso(HISTORY_START + rng.randint(0, HISTORY_END - HISTORY_START))
        rows.append('{"rated_at":"%s","rating":%d,"type":"movie","movie":%s}' % (rated, rng.randint(1, 10), text))
    h.rated_movies = len(rows)
    return write_section(sink, "ratings-movies", rows)


def lists(h, cat, seed, sink, scale=1.0):
    """Ratings of shows, seasons and episodes, a watchlist and favorites (--lists): the sections a
    person who rates and lists fills. Its own generator, so the other files do not change. `scale`
    (--list-scale) multiplies every chance below (capped at 1): more ratings and a longer watchlist."""

    def chance(p):
        return rng.random() < min(1.0, p * scale)
    rng = random.Random(seed * 1_000_003 + 19)
    shows = cat.shows[: max(1, len(h.show_stats))]

    def when():
        return iso(HISTORY_START + rng.randint(0, HISTORY_END - HISTORY_START))

    def show_text(show):
        return "null" if show["deleted"] else show["text"]

    files = 0
    rated, seasons, episodes = [], [], []
    for show in shows:
        if chance(0.10):
            rated.append('{"rated_at":"%s","rating":%d,"type":"show","show":%s}' % (when(), rng.randint(1, 10), show_text(show)))
        if chance(0.03):
            s = rng.randint(1, len(show["lengths"]))
            seasons.append('{"rated_at":"%s","rating":%d,"type":"season","season":{"number":%d,"ids":{"trakt":%d,"tvdb":null,"tmdb":null}},"show":%s}'
                           % (when(), rng.randint(1, 10), s, show["trakt"] * 100 + s, show_text(show)))
        if chance(0.05):
            for _ in range(rng.randint(1, 3)):
                s = rng.randint(1, len(show["lengths"]))
                n = rng.randint(1, show["lengths"][s - 1])
                episodes.append('{"rated_at":"%s","rating":%d,"type":"episode","episode":%s,"show":%s}'
                                % (when(), rng.randint(1, 10), cat.episode_text(show, s, n), show_text(show)))
    # More movie ratings (--list-scale above 1): further watched movies, as further pages of
    # ratings-movies after the ones ratings() wrote (only when it wrote pages: a one-page section has no
    # number to go on from).
    if scale > 1 and h.rated_movies > PAGE:
        extra = []
        for k in h.watched_movies[len(h.watched_movies) // 10:]:
            text, _, deleted, _, _, _ = cat.movies[k]
            if not deleted and rng.random() < min(1.0, 0.1 * (scale - 1)):
                extra.append('{"rated_at":"%s","rating":%d,"type":"movie","movie":%s}' % (when(), rng.randint(1, 10), text))
        first = (h.rated_movies + PAGE - 1) // PAGE
        for p in range((len(extra) + PAGE - 1) // PAGE):
            sink.write("ratings-movies-%d.json" % (first + p + 1), "[" + ",".join(extra[p * PAGE:(p + 1) * PAGE]) + "]")
            files += 1
    files += write_section(sink, "ratings-shows", rated)
    files += write_section(sink, "ratings-seasons", seasons)
    files += write_section(sink, "ratings-episodes", episodes)

    watch, favorites = [], []
    item_id = 5_000_000_000
    for k in range(len(cat.movies)):
        text, _, deleted, _, _, _ = cat.movies[k]
        movie = "null" if deleted else text
        if chance(0.02):
            item_id += rng.randint(1, 1000)
            watch.append((when(), item_id, '"type":"movie","movie":%s' % movie))
        if chance(0.005):
            item_id += rng.randint(1, 1000)
            favorites.append((when(), item_id, '"type":"movie","movie":%s' % movie))
    for show in cat.shows:
        r = rng.random() / scale
        if r < 0.03:
            item_id += rng.randint(1, 1000)
            watch.append((when(), item_id, '"type":"show","show":%s' % show_text(show)))
        elif r < 0.035:
            item_id += rng.randint(1, 1000)
            watch.append((when(), item_id, '"type":"episode","episode":%s,"show":%s'
                          % (cat.episode_text(show, 1, 1), show_text(show))))
        if rng.random() < 0.01:
            item_id += rng.randint(1, 1000)
            favorites.append((when(), item_id, '"type":"show","show":%s' % show_text(show)))
    for name, items in (("lists-watchlist", watch), ("lists-favorites", favorites)):
        items.sort(key=lambda item: item[0], reverse=True)
        rows = ['{"rank":%d,"id":%d,"listed_at":"%s","notes":null,%s}' % (rank + 1, ident, at, body)
                for rank, (at, ident, body) in enumerate(items)]
        files += write_section(sink, name, rows)
    return files, {"ratingsShows": len(rated), "ratingsSeasons": len(seasons), "ratingsEpisodes": len(episodes),
                   "watchlist": len(watch), "favorites": len(favorites)}


LIST_SECTIONS = ("ratings-shows", "ratings-seasons", "ratings-episodes", "lists-watchlist", "lists-favorites")


def user_stats(h, cat, sink):
    stats = {
        "movies": {"plays": h.movie_plays, "watched": len(h.movie_stats), "minutes": h.movie_plays * 112,
                   "collected": 0, "ratings": len(h.watched_movies) // 10, "comments": 0},
        "shows": {"watched": len(h.show_stats), "collected": 0, "ratings": 0, "comments": 0},
        "seasons": {"ratings": 0, "comments": 0},
        "episodes": {"plays": h.episode_plays, "watched": h.episode_plays, "minutes": h.episode_plays * 42,
                     "collected": 0, "ratings": 0, "comments": 0},
        "network": {"friends": 0, "followers": 1, "following": 0},
        "ratings": {"total": len(h.watched_movies) // 10, "distribution": {str(i): 0 for i in range(1, 11)}},
    }
    sink.write("user-stats.json", dumps(stats))
    return 1


EMPTY_SECTIONS = (
    "ratings-shows", "ratings-seasons", "ratings-episodes", "lists-lists", "lists-watchlist",
    "lists-favorites", "lists-likes", "lists-collaborations", "collection-movies", "collection-shows",
    "comments-movies", "comments-shows", "comments-episodes", "comments-lists", "notes",
    "social-followers", "social-following", "social-friends", "user-hidden-calendar",
    "user-hidden-progress-watched", "user-hidden-recommendations", "user-hidden-comments",
    "user-blocked", "user-likes-comments", "user-likes-lists", "user-lists", "user-notes",
)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="history plays (records) to write")
    ap.add_argument("out", help="output folder (with --zip: the folder that receives trakt-export-bench.zip)")
    ap.add_argument("--zip", action="store_true", help="write trakt-export-bench.zip (deflate) instead of loose files")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--lists", action="store_true", help="also rate shows, seasons and episodes, and write a watchlist and favorites (issue #19)")
    ap.add_argument("--list-scale", type=float, default=1.0, help="with --lists: multiply the chance of each rating and list entry (default 1)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1")

    rng = random.Random(args.seed)
    cat = Catalogue(rng)
    sink = Sink(args.out, args.zip)
    h = History(args.n, rng, cat, sink)
    h.run()
    files = h.pages
    files += summaries(h, cat, rng, sink)
    files += playback(h, cat, rng, sink)
    files += ratings(h, cat, rng, sink)
    files += user_stats(h, cat, sink)
    extra = {}
    if args.lists:
        written, extra = lists(h, cat, args.seed, sink, args.list_scale)
        files += written
    for name in EMPTY_SECTIONS:
        if args.lists and name in LIST_SECTIONS:
            continue
        sink.write(name + ".json", "[]")
        files += 1
    sink.write("_errors.json", "[]")
    files += 1
    sink.close()
    print(json.dumps({"path": sink.path, "files": sink.count, "historyPages": h.pages, "history": h.n,
                      "moviePlays": h.movie_plays, "episodePlays": h.episode_plays,
                      "movies": len(cat.movies), "shows": len(cat.shows), "ratingsMovies": h.rated_movies, **extra}))


if __name__ == "__main__":
    main(sys.argv[1:])
