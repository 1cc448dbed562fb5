#!/usr/bin/env python3
"""Writes the list fixtures of Tests/Fixtures/lists/ (issue #19): ratings, favorites and watchlist
files in each layout the importer reads, with the record shapes of shared/spec/trakt-exports.md and of
the real files in Tests/Fixtures/realworld/josh-trakt-data (ratings/ratings-episodes.json,
lists/watchlist.json: rank, id, listed_at, notes, type, media object). Deterministic; run from anywhere:

    python3 Tests/Fixtures/lists/make-fixtures.py

What each file holds, and what the planner must make of it, is in Tests/Fixtures/README.md.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def movie(title, year, tmdb, trakt):
    slug = title.lower().replace(" ", "-").replace(":", "") + "-%d" % year
    return {"title": title, "year": year, "ids": {"trakt": trakt, "slug": slug, "imdb": "tt%07d" % trakt, "tmdb": tmdb}}


def show(title, year, tmdb, trakt, tvdb):
    slug = title.lower().replace(" ", "-")
    return {"title": title, "year": year,
            "ids": {"trakt": trakt, "slug": slug, "tvdb": tvdb, "imdb": "tt%07d" % trakt, "tmdb": tmdb, "tvrage": None}}


FIGHT_CLUB = movie("Fight Club", 1999, 550, 432)
HEAT = movie("Heat", 1995, 949, 1000)
ARRIVAL = movie("Arrival", 2016, 329865, 1004)
MATRIX = movie("The Matrix", 1999, 603, 481)
INCEPTION = movie("Inception", 2010, 27205, 16662)
ALIEN = movie("Alien", 1979, 348, 295)
ALIEN_NO_TMDB = movie("Alien", 1979, 0, 295)   # "tmdb: 0 means missing"
BB = show("Breaking Bad", 2008, 1396, 1388, 81189)
WIRE = show("The Wire", 2002, 1438, 1394, 79126)
DARK = show("Dark", 2017, 70523, 119765, 334824)
SEVERANCE = show("Severance", 2022, 95396, 154997, 371980)
CHERNOBYL = show("Chernobyl", 2019, 87108, 145189, 360893)


def season(number, trakt):
    return {"number": number, "ids": {"trakt": trakt, "tvdb": None, "tmdb": None}}


def episode(s, n, title, trakt):
    return {"season": s, "number": n, "title": title, "ids": {"trakt": trakt, "tvdb": None, "imdb": None, "tmdb": None, "tvrage": None}}


def rating(at, value, kind, **objects):
    record = {"rated_at": at, "rating": value, "type": kind}
    if at is None:
        del record["rated_at"]
    record.update(objects)
    return record


def listed(rank, ident, at, kind, **objects):
    record = {"rank": rank, "id": ident, "listed_at": at, "notes": None, "type": kind}
    record.update(objects)
    return record


def play(ident, at, kind, **objects):
    record = {"id": ident, "watched_at": at, "action": "watch", "type": kind}
    record.update(objects)
    return record


def write(path, value, indent=None):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        if indent is None:
            f.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        else:
            f.write(json.dumps(value, ensure_ascii=False, indent=indent) + "\n")


def official():
    """The current official export's files, flat (the test zips them): paged ratings-movies-N and
    lists-watchlist-N, compact JSON, empty sections, a custom list and a collection."""
    base = "official/"
    write(base + "watched-history.json", [
        play(9000000001, "2020-06-01T20:00:00.000Z", "episode", episode=episode(1, 1, "Pilot", 62085), show=BB),
        play(9000000000, "2019-01-01T20:00:00.000Z", "movie", movie=FIGHT_CLUB),
    ])
    write(base + "ratings-movies-1.json", [
        rating("2020-01-01T10:00:00.000Z", 10, "movie", movie=FIGHT_CLUB),   # superseded: a favorite
        rating("2019-05-01T10:00:00.000Z", 8, "movie", movie=HEAT),          # liked (beats the older 3)
        rating("2019-05-02T10:00:00.000Z", 7.5, "movie", movie=MATRIX),      # invalid-rating
        rating("2019-05-03T10:00:00.000Z", 7.0, "movie", movie=MATRIX),      # invalid-rating (not written as an integer)
        rating("2019-05-04T10:00:00.000Z", "7", "movie", movie=MATRIX),      # invalid-rating
        rating("2019-05-05T10:00:00.000Z", 11, "movie", movie=MATRIX),       # invalid-rating
        rating("2019-05-06T10:00:00.000Z", None, "movie", movie=MATRIX),     # invalid-rating
        rating("2019-05-07T10:00:00.000Z", 9, "movie", movie=None),          # missing-media
        rating("2019-05-08T10:00:00.000Z", 9, "movie", movie=ALIEN_NO_TMDB), # no-tmdb-id
    ])
    write(base + "ratings-movies-2.json", [
        rating("2021-03-03T10:00:00.000Z", 9, "movie", movie=INCEPTION),     # superseded: the same instant, read before page 10
        rating("2018-01-01T10:00:00.000Z", 3, "movie", movie=HEAT),          # superseded: older than the 8
    ])
    write(base + "ratings-movies-10.json", [
        rating("2021-03-03T10:00:00.000Z", 2, "movie", movie=INCEPTION),     # disliked: read last at that instant
    ])
    write(base + "ratings-shows.json", [
        rating("2015-01-01T10:00:00.000Z", 10, "show", show=BB),             # super_liked
        rating("2016-01-01T10:00:00.000Z", 5, "show", show=WIRE),            # disliked
        rating(None, 6, "show", show=DARK),                                  # liked, no date: sent first
    ])
    write(base + "ratings-seasons.json", [
        rating("2015-02-01T10:00:00.000Z", 9, "season", season=season(1, 3950), show=BB),  # no-list-target
    ])
    write(base + "ratings-episodes.json", [
        rating("2018-02-01T10:00:00.000Z", 8, "episode", episode=episode(1, 1, "Secrets", 2395420), show=DARK),  # no-list-target
    ])
    write(base + "lists-favorites.json", [
        listed(1, 101, "2022-02-02T10:00:00.000Z", "movie", movie=FIGHT_CLUB),   # super_liked
        listed(2, 102, "2023-01-01T10:00:00.000Z", "show", show=SEVERANCE),      # super_liked
        listed(3, 103, "2023-01-02T10:00:00.000Z", "movie", movie=FIGHT_CLUB),   # duplicate
        listed(4, 104, "2023-01-03T10:00:00.000Z", "episode", episode=episode(1, 1, "Pilot", 62085), show=BB),  # no-list-target
    ])
    write(base + "lists-watchlist-1.json", [
        listed(1, 201, "2024-01-01T10:00:00.000Z", "movie", movie=ARRIVAL),      # watchlist
        listed(2, 202, "2024-02-01T10:00:00.000Z", "show", show=CHERNOBYL),      # watchlist
        listed(3, 203, "2024-03-01T10:00:00.000Z", "season", season=season(2, 150000), show=DARK),  # watchlist: Dark
    ])
    write(base + "lists-watchlist-2.json", [
        listed(4, 204, "2024-04-01T10:00:00.000Z", "episode", episode=episode(3, 1, "Deja-vu", 2395500), show=DARK),  # duplicate: Dark
        listed(5, 205, "2024-04-02T10:00:00.000Z", "movie", movie=ARRIVAL),      # duplicate
        listed(6, 206, "2024-04-03T10:00:00.000Z", "show", show=None),           # missing-media
        dict(listed(7, 207, "2024-05-01T10:00:00.000Z", "show", show=SEVERANCE), my_rating=None),  # watchlist (my_rating never read)
    ])
    write(base + "lists-movie-night.json", [   # a custom list: ignored
        listed(1, 301, "2024-06-01T10:00:00.000Z", "movie", movie=ALIEN),
    ])
    write(base + "collection-movies.json", [
        {"collected_at": "2020-01-01T00:00:00.000Z", "updated_at": "2020-01-01T00:00:00.000Z", "movie": ALIEN},
    ])
    write(base + "lists-lists.json", [])
    write(base + "user-hidden-progress-watched.json", [])
    write(base + "_errors.json", [])


def legacy():
    base = "legacy/someuser/"
    write(base + "watched/history-1.json", [play(8000000000, "2018-03-03T21:00:00.000Z", "movie", movie=HEAT)], indent=2)
    write(base + "ratings/ratings-movies.json", [rating("2018-03-04T10:00:00.000Z", 7, "movie", movie=HEAT)], indent=2)   # superseded: a favorite
    write(base + "ratings/ratings-shows.json", [rating("2017-01-01T10:00:00.000Z", 1, "show", show=WIRE)], indent=2)     # disliked
    write(base + "ratings/ratings-episodes.json", [], indent=2)
    write(base + "lists/watchlist.json", [
        listed(1, 401, "2017-06-01T00:00:00.000Z", "movie", movie=ARRIVAL),
        listed(2, 402, "2017-06-02T00:00:00.000Z", "show", show=DARK),
    ], indent=2)
    write(base + "lists/favorites.json", [listed(1, 501, "2018-03-05T10:00:00.000Z", "movie", movie=HEAT)], indent=2)   # super_liked
    write(base + "lists/my-custom-list.json", [listed(1, 601, "2017-01-01T00:00:00.000Z", "movie", movie=MATRIX)], indent=2)  # ignored
    write(base + "user/stats.json", {"movies": {"plays": 1}, "episodes": {"plays": 0}}, indent=2)


def backup():
    base = "backup/"
    write(base + "history_movies.json", [play(7000000000, "2021-01-01T20:00:00.000Z", "movie", movie=INCEPTION)], indent=4)
    write(base + "ratings_movies.json", [rating("2021-01-02T10:00:00.000Z", 9, "movie", movie=INCEPTION)], indent=4)   # super_liked
    write(base + "ratings_shows.json", [
        rating("2020-01-01T10:00:00.000Z", 6, "show", show=DARK),   # superseded: the later 4
        rating("2020-02-01T10:00:00+01:00", 4, "show", show=DARK),  # disliked (an offset timestamp)
    ], indent=4)
    write(base + "watchlist_movies.json", [listed(1, 701, "2021-05-05T00:00:00Z", "movie", movie=ALIEN)], indent=4)
    write(base + "watchlist_shows.json", [listed(1, 702, "2021-05-06T00:00:00Z", "show", show=CHERNOBYL)], indent=4)
    write(base + "collection_movies.json", [{"collected_at": "2020-01-01T00:00:00.000Z", "movie": ALIEN}], indent=4)


def traktexport():
    write("traktexport/traktexport-lists.json", {
        "type": "full",
        "username": "someuser",
        "lists": [{"name": "Movie night", "ids": {"trakt": 1, "slug": "movie-night"}}],
        "ratings": [
            rating("2019-09-09T10:00:00.000Z", 8, "movie", movie=MATRIX),   # liked
            rating("2019-09-10T10:00:00.000Z", 9, "show", show=BB),         # super_liked
            rating("2019-09-11T10:00:00.000Z", 9, "season", season=season(1, 3950), show=BB),  # no-list-target
            rating("2019-09-12T10:00:00.000Z", 7, "episode", episode=episode(1, 1, "Pilot", 62085), show=BB),  # no-list-target
        ],
        "watchlist": [
            listed(1, 801, "2020-10-10T00:00:00.000Z", "movie", movie=ALIEN),
            listed(2, 802, "2020-10-11T00:00:00.000Z", "episode", episode=episode(2, 3, "Hot Shots", 90000), show=WIRE),  # its show
        ],
        "collection": [{"collected_at": "2020-01-01T00:00:00.000Z", "movie": ALIEN}],
        "history": [play(6000000000, "2019-09-08T20:00:00.000Z", "movie", movie=MATRIX)],
        "stats": {"movies": {"plays": 1}, "episodes": {"plays": 0}},
    }, indent=2)


def api():
    meta = {"metadata": {"exported_at": "2026-09-01T00:00:00Z", "tool": "trakt-backup", "version": 2}}
    write("api/history.json", dict(meta, data=[play(5000000000, "2022-02-02T20:00:00.000Z", "movie", movie=HEAT)]))
    write("api/ratings.json", dict(meta, data=[
        rating("2022-02-03T10:00:00.000Z", 6, "movie", movie=HEAT),         # liked
        rating("2022-02-04T10:00:00.000Z", 5, "movie", movie=FIGHT_CLUB),   # disliked
    ]))
    write("api/watchlist.json", dict(meta, data=[listed(1, 901, "2022-03-03T00:00:00.000Z", "show", show=SEVERANCE)]))


if __name__ == "__main__":
    for folder in ("official", "legacy", "backup", "traktexport", "api"):
        shutil.rmtree(os.path.join(HERE, folder), ignore_errors=True)
    official()
    legacy()
    backup()
    traktexport()
    api()
