import Dispatch
import Foundation
import ImportPlanner
import ImportQueue
import TraktExport

/// The plan's items as the queue's rows (play key, item key, POST body, label), built on every core:
/// on one, the strings of a 200,000-item plan take about half a second, a third of the whole enqueue.
enum QueueEntries {
    static func make(plan: ImportPlan, scan: ExportScan) -> [QueueEntry] {
        let items = plan.items
        let count = items.count
        guard count > 0 else { return [] }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // Several chunks a worker, so that one slow worker does not hold up the end.
        let chunk = max(1_024, (count + workers * 4 - 1) / (workers * 4))
        let chunks = (count + chunk - 1) / chunk
        return [QueueEntry](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each chunk writes its own slots only; concurrentPerform returns when all are done.
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                for i in c * chunk ..< min(count, (c + 1) * chunk) {
                    let p = items[i]
                    let keys = p.item.keys
                    (base + i).initialize(to: QueueEntry(
                        playKey: keys.play, itemKey: keys.item, body: p.item.jsonBody,
                        sortAt: p.item.updatedAt?.millisecondsSince1970,
                        title: ImportPlanner.label(scan.records[p.recordIndex].play)))
                }
            }
            initialized = count
        }
    }
}
