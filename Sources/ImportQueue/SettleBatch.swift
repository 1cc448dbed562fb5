import DiscovrAPI
import GRDB

/// Changes to items in flight, collected to be written in one transaction by `ImportQueue.settle(_:)`
/// (the delivery driver settles the answers that came back together in one commit).
public struct SettleBatch {
    struct Change {
        var sql: String
        var arguments: StatementArguments
        var id: Int64
        /// Not in flight is an error (every change but `release`, which leaves such ids alone).
        var mustBeInFlight = true
    }

    var changes: [Change] = []

    public init() {}

    public var isEmpty: Bool { changes.isEmpty }
    public var count: Int { changes.count }

    /// Delivered: the server stored it (2xx), or it was already there (`alreadyPresent`: the delivery
    /// machine's reading of a 409, or found by a read-back). Counts the attempt; the item is certain
    /// from now on. Keeps `sent_at` (set only while the play was uncertain): `verify` matches a play sent without
    /// `updatedAt` by an entry created from then on, as the read-back that found it did.
    public mutating func markDelivered(id: Int64, status: Int, message: String?, added: String?, removed: String?,
                                       alreadyPresent: Bool = false) {
        changes.append(Change(sql: """
            UPDATE item SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_message = ?,
                already_present = ?, added = ?, removed = ?, not_before = 0, uncertain = 0
            WHERE id = ? AND state = 'in-flight'
            """, arguments: [status, message, alreadyPresent ? 1 : 0, added, removed, id], id: id))
    }

    /// Back to pending, to be sent again at/after notBeforeMs. countAttempt=false for 401-refresh retries
    /// and for connection failures that never reached the server. An uncertain item stays uncertain
    /// (read back again before its next send) unless `clearUncertain`: a read-back found nothing and
    /// the server then answered that it did not store this send either.
    public mutating func markRetry(id: Int64, status: Int?, message: String?, notBeforeMs: Int64, countAttempt: Bool,
                                   clearUncertain: Bool = false) {
        changes.append(Change(sql: """
            UPDATE item SET state = 'pending', attempts = attempts + ?, last_status = ?, last_message = ?,
                not_before = ?,
                uncertain = CASE WHEN ? THEN 0 ELSE uncertain END,
                sent_at = CASE WHEN ? THEN NULL ELSE sent_at END
            WHERE id = ? AND state = 'in-flight'
            """, arguments: [countAttempt ? 1 : 0, status, message, max(notBeforeMs, 0), clearUncertain, clearUncertain, id], id: id))
    }

    /// Back to pending as uncertain: a send begun at `sentAtMs` got no answer that says what happened (it
    /// timed out, its connection broke after the request went out, a gateway lost it). The item is read
    /// back, not sent, once `notBeforeMs` has come. The send window keeps its earliest start; the
    /// latest send time moves to `sentAtMs` when later. `status` is a gateway's answer, if any.
    public mutating func markUncertain(id: Int64, sentAtMs: Int64, notBeforeMs: Int64, countAttempt: Bool,
                                       status: Int? = nil, message: String?) {
        changes.append(Change(sql: """
            UPDATE item SET state = 'pending', attempts = attempts + ?, last_status = ?, last_message = ?,
                not_before = ?,
                sent_at = CASE WHEN uncertain = 1 AND sent_at IS NOT NULL THEN min(sent_at, ?) ELSE ? END,
                claimed_at = max(coalesce(claimed_at, 0), ?),
                uncertain = 1
            WHERE id = ? AND state = 'in-flight'
            """, arguments: [countAttempt ? 1 : 0, status, message, max(notBeforeMs, 0), sentAtMs, sentAtMs, sentAtMs, id], id: id))
    }

    /// An item in flight is sent (again) at `atMs` without a new claim (after a read-back found
    /// nothing, or after a 401): if the run dies now, the read-back's grace runs from this moment.
    public mutating func noteSend(id: Int64, atMs: Int64) {
        changes.append(Change(sql: "UPDATE item SET claimed_at = ? WHERE id = ? AND state = 'in-flight'", arguments: [atMs, id], id: id))
    }

    /// Failed permanently; counts the attempt. `retryFailed()` can bring it back.
    public mutating func markFailed(id: Int64, status: Int?, message: String?) {
        changes.append(Change(sql: """
            UPDATE item SET state = 'failed', attempts = attempts + 1, last_status = ?, last_message = ?,
                not_before = 0, uncertain = 0, sent_at = NULL
            WHERE id = ? AND state = 'in-flight'
            """, arguments: [status, message, id], id: id))
    }

    /// Every write of `list` still to be sent (pending), and every one that failed with 404 or 405
    /// (the answers that made the path refused), fails with `message`: this server does not take the
    /// list's path (importer.md section 7). `retryFailed()` brings them back. Items in flight are left
    /// to their own answers.
    public mutating func refuseList(_ list: DiscovrList, status: Int, message: String) {
        changes.append(Change(sql: """
            UPDATE item SET state = 'failed', last_status = ?, last_message = ?, not_before = 0
            WHERE lane = 1 AND list = ? AND (state = 'pending' OR (state = 'failed' AND last_status IN (404, 405)))
            """, arguments: [status, message, list.rawValue], id: 0, mustBeInFlight: false))
    }

    /// In-flight -> pending, no attempt counted (graceful stop). Ids not in flight are left alone.
    public mutating func release(ids: [Int64]) {
        for id in ids {
            changes.append(Change(sql: "UPDATE item SET state = 'pending' WHERE id = ? AND state = 'in-flight'",
                                  arguments: [id], id: id, mustBeInFlight: false))
        }
    }
}
