import GRDB

/// The state file's schema: append-only migrations. Never edit a registered migration; add a new one.
enum QueueSchema {
    /// `PRAGMA application_id` of a trakt2discovr state file ("t2dv"): tells our files from other
    /// SQLite databases before anything is written to them.
    static let applicationID: Int32 = 0x7432_6476

    /// The triggers that keep `state_count`: made by `v1`, made again on the table `v4-typed-items`
    /// rebuilds (the same SQL).
    static let countTriggers = """
        CREATE TRIGGER item_counted_update AFTER UPDATE OF state, already_present ON item BEGIN
            UPDATE state_count SET items = items - 1, already_present = already_present - OLD.already_present
                WHERE state = OLD.state;
            UPDATE state_count SET items = items + 1, already_present = already_present + NEW.already_present
                WHERE state = NEW.state;
        END;
        CREATE TRIGGER item_counted_delete AFTER DELETE ON item BEGIN
            UPDATE state_count SET items = items - 1, already_present = already_present - OLD.already_present
                WHERE state = OLD.state;
        END;
        """

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE item (
                    id INTEGER PRIMARY KEY,  -- the rowid: insertion order, the last tie-breaker of send order
                    play_key TEXT NOT NULL UNIQUE,
                    item_key TEXT NOT NULL,
                    body TEXT NOT NULL,
                    title TEXT NOT NULL,
                    sort_at INTEGER,         -- ms since 1970; NULL (unknown date) sorts first
                    state TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'in-flight', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    not_before INTEGER NOT NULL DEFAULT 0 CHECK (not_before >= 0),  -- ms since 1970: backoff; 0 = none
                    last_status INTEGER,
                    last_message TEXT,
                    already_present INTEGER NOT NULL DEFAULT 0 CHECK (already_present IN (0, 1)),
                    added TEXT,
                    removed TEXT,
                    CHECK (already_present = 0 OR state = 'delivered')
                );

                -- The claim scan: pending items in send order. Partial, so settled rows leave it.
                CREATE INDEX item_pending_send_order ON item (sort_at, id) WHERE state = 'pending';
                -- The first pending play of a key (only that one may be claimed).
                CREATE INDEX item_pending_by_key ON item (item_key, sort_at, id) WHERE state = 'pending';
                -- nextReadyAt: pending items in backoff by deadline. Fresh items (not_before = 0) stay out,
                -- so enqueue does not pay for it.
                CREATE INDEX item_backoff_by_not_before ON item (not_before) WHERE state = 'pending' AND not_before > 0;
                -- Keys with a play in flight (a handful of rows at most).
                CREATE INDEX item_in_flight_by_key ON item (item_key) WHERE state = 'in-flight';
                -- failures(), retryFailed().
                CREATE INDEX item_failed_send_order ON item (sort_at, id) WHERE state = 'failed';

                -- Counts by state, so counts() costs the same with 10 or 10 million rows. State changes
                -- are counted by the triggers below; inserts by enqueue, with one update per batch (a
                -- per-row insert trigger made a 200,000-item enqueue half as fast again).
                CREATE TABLE state_count (
                    state TEXT PRIMARY KEY NOT NULL
                        CHECK (state IN ('pending', 'in-flight', 'delivered', 'failed')),
                    items INTEGER NOT NULL CHECK (items >= 0),
                    already_present INTEGER NOT NULL CHECK (already_present >= 0)
                ) WITHOUT ROWID;
                INSERT INTO state_count (state, items, already_present)
                    VALUES ('pending', 0, 0), ('in-flight', 0, 0), ('delivered', 0, 0), ('failed', 0, 0);
                \(countTriggers)

                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Uncertain sends (issue #9): a send whose outcome is unknown is read back before it is sent
        // again. ADD COLUMN only, so a v1 file opens and works (its rows are certain: 0, no times).
        migrator.registerMigration("v2-uncertain") { db in
            try db.execute(sql: """
                -- 1: a send of this play may have been stored (no answer, or in flight when a run died).
                ALTER TABLE item ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1));
                -- ms since 1970: when the earliest send that may have been stored began (the read-back
                -- matches a play without updatedAt by an entry created from then on). NULL when certain.
                ALTER TABLE item ADD COLUMN sent_at INTEGER;
                -- ms since 1970: when the play was last claimed or last sent (the read-back's grace
                -- period runs from the latest send that may still be under way at the server).
                ALTER TABLE item ADD COLUMN claimed_at INTEGER;
                -- status and the tests count uncertain rows: a handful at most.
                CREATE INDEX item_uncertain ON item (id) WHERE uncertain = 1;
                """)
        }
        // A plan enqueued into an empty state is stored packed, a page of plays to a row, in send
        // order; claim unpacks pages into `item` as delivery needs them (StagedPlan). A new table only.
        migrator.registerMigration("v3-staged-plan") { db in
            try db.execute(sql: """
                CREATE TABLE staged_page (
                    id INTEGER PRIMARY KEY,   -- send order of the pages
                    items INTEGER NOT NULL CHECK (items > 0),
                    rows BLOB NOT NULL
                );
                """)
        }
        // Typed items (issue #18): the queue keeps what a write is (a play's media id, season, episode,
        // progress and date; a list write's list and title), not the POST body, so that the body is
        // written once, at send time, in the state's media id form; and list writes (issue #19) are a
        // second kind of row of the same queue. The table is rebuilt, its rows' facts read from their
        // bodies (which this importer wrote, always in the seed's form); staged pages of v3's format are
        // unpacked into rows first (state_count already counts them as pending); v4's pages (plays only)
        // hold typed facts too.
        migrator.registerMigration("v4-typed-items") { db in
            try LegacyStagedPages.unpackAll(db)
            try db.execute(sql: """
                CREATE TABLE item_v4 (
                    id INTEGER PRIMARY KEY,  -- the rowid: insertion order, the last tie-breaker of send order
                    play_key TEXT NOT NULL UNIQUE,
                    item_key TEXT NOT NULL,
                    lane INTEGER NOT NULL CHECK (lane IN (0, 1)),  -- 0: a play, 1: a list write (sent after every play)
                    list TEXT CHECK (list IN ('super_liked', 'liked', 'disliked', 'watchlist')),  -- NULL: a play
                    media TEXT NOT NULL CHECK (media IN ('MV', 'TV')),
                    tmdb INTEGER NOT NULL CHECK (tmdb > 0),
                    season INTEGER,
                    episode INTEGER,
                    progress REAL,           -- plays only: 0...100
                    title TEXT NOT NULL,
                    sort_at INTEGER,         -- ms since 1970, NULL first: a play's updatedAt (NULL: sent without one),
                                             -- a list write's record date (order only)
                    state TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'in-flight', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    not_before INTEGER NOT NULL DEFAULT 0 CHECK (not_before >= 0),
                    last_status INTEGER,
                    last_message TEXT,
                    already_present INTEGER NOT NULL DEFAULT 0 CHECK (already_present IN (0, 1)),
                    added TEXT,
                    removed TEXT,
                    uncertain INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
                    sent_at INTEGER,
                    claimed_at INTEGER,
                    CHECK (already_present = 0 OR state = 'delivered'),
                    CHECK ((lane = 1) = (list IS NOT NULL)),
                    CHECK ((season IS NULL) = (episode IS NULL)),
                    CHECK (list IS NULL OR (season IS NULL AND progress IS NULL AND uncertain = 0)),
                    CHECK (list IS NOT NULL OR (progress IS NOT NULL AND progress BETWEEN 0 AND 100))
                );
                INSERT INTO item_v4 (id, play_key, item_key, lane, list, media, tmdb, season, episode, progress, title,
                                     sort_at, state, attempts, not_before, last_status, last_message, already_present,
                                     added, removed, uncertain, sent_at, claimed_at)
                    SELECT id, play_key, item_key, 0, NULL,
                        substr(json_extract(body, '$.mediaId'), 1, 2),
                        CAST(replace(substr(json_extract(body, '$.mediaId'), 4), 'TMDBID', '') AS INTEGER),
                        json_extract(body, '$.season'), json_extract(body, '$.episode'),
                        CAST(json_extract(body, '$.progress') AS REAL),
                        title, sort_at, state, attempts, not_before, last_status, last_message, already_present,
                        added, removed, uncertain, sent_at, claimed_at
                    FROM item;
                DROP TABLE item;
                ALTER TABLE item_v4 RENAME TO item;

                -- The claim scan: pending items in send order. Partial, so settled rows leave it.
                CREATE INDEX item_pending_send_order ON item (lane, sort_at, id) WHERE state = 'pending';
                -- The first pending write of a key (only that one may be claimed). A key is in one lane.
                CREATE INDEX item_pending_by_key ON item (item_key, sort_at, id) WHERE state = 'pending';
                CREATE INDEX item_backoff_by_not_before ON item (not_before) WHERE state = 'pending' AND not_before > 0;
                CREATE INDEX item_in_flight_by_key ON item (item_key) WHERE state = 'in-flight';
                CREATE INDEX item_failed_send_order ON item (lane, sort_at, id) WHERE state = 'failed';
                CREATE INDEX item_uncertain ON item (id) WHERE uncertain = 1;
                -- Counts of list writes by state (a few thousand rows at most: status and the report).
                CREATE INDEX item_list_state ON item (list, state) WHERE lane = 1;
                \(countTriggers)
                """)
        }
        return migrator
    }()

    /// Throws `notAQueue` unless the open database is a trakt2discovr state file this version can
    /// use, or an empty database (a new file). Reads only: nothing is written to someone else's file.
    static func checkIdentity(_ db: Database, path: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if applicationID == Self.applicationID {
            if try migrator.hasBeenSuperseded(db) {
                throw QueueError.notAQueue(path: path)
            }
            return
        }
        let objects = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        if applicationID != 0 || objects > 0 {
            throw QueueError.notAQueue(path: path)
        }
    }
}
