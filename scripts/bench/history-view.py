#!/usr/bin/env python3
"""The history part of a dry run's report or human summary, for `HISTORY_ONLY=1 compare-outputs.sh`
(issue #19): a build that reads ratings, favorites and watchlist must give history outputs identical
to a build that did not.

    history-view.py report FILE     the report without its `lists` key, every file that is (or was
                                    listed as) ratings, favorites, a watchlist or a list reduced to its
                                    name: before issue #19 those were `ignored` with 0 records
    history-view.py summary FILE    the summary without its `lists` lines, and the `read` line's file
                                    count without the "with records / ignored" split (list files
                                    move from ignored to used)

Everything else (history files, records, planned, skipped, warnings, delivery) is printed as it is.
"""
import json
import re
import sys

LIST_KINDS = {"ratings", "favorites", "watchlist"}
LIST_NOTES = {
    "ratings, not watch history", "a list or watchlist, not watch history", "not watch history",
    "a custom list, not imported (only the watchlist and favorites are)",
    "ratings, left out by --no-ratings", "favorites, left out by --no-ratings", "watchlist, left out by --no-watchlist",
}
LISTISH_NAME = re.compile(r"(^|[/#_-])(ratings|watchlist|favorites|lists)([-_.]|$)")


def report(path):
    r = json.load(open(path, encoding="utf-8"))
    r.pop("lists", None)
    for entry in r.get("inputs", []):
        for i, f in enumerate(entry["files"]):
            base = f["name"].lower()
            if f["kind"] in LIST_KINDS or f.get("note") in LIST_NOTES or (f.get("note") == "empty" and LISTISH_NAME.search(base)):
                entry["files"][i] = {"name": f["name"], "kind": "list or ignored"}
    return json.dumps(r, indent=1, ensure_ascii=False) + "\n"


def summary(path):
    out = []
    in_lists = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("lists     "):
            in_lists = True
            continue
        if in_lists and line.startswith("  "):
            continue
        in_lists = False
        if line.startswith("read      "):
            line = line.split(" (")[0]
        out.append(line)
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write({"report": report, "summary": summary}[sys.argv[1]](sys.argv[2]))
