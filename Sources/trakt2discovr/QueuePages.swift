import Dispatch
import Foundation
import ImportPlanner
import ImportQueue
import TraktExport

/// The plan's items as the queue's rows (play key, item key, POST body, label), written straight into
/// the queue's pages (`PlanPages`) on every core: no strings per item, which were most of the cost of
/// saving a large plan (building 800,000 strings for 200,000 items, then freeing them).
enum QueuePages {
    static func make(plan: ImportPlan, scan: ExportScan) -> PlanPages {
        let items = plan.items
        let count = items.count
        guard count > 0 else { return PlanPages() }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // Several chunks a worker, so that one slow worker does not hold up the end; whole pages each.
        let page = ImportQueue.stagedPageSize
        let chunk = max(2 * page, (count + workers * 4 - 1) / (workers * 4) / page * page)
        let chunks = (count + chunk - 1) / chunk
        let parts = [PlanPages](unsafeUninitializedCapacity: chunks) { buffer, initialized in
            // Each chunk writes its own slot only; concurrentPerform returns when all are done.
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var part = PlanPages()
                var label: [UInt8] = []
                for i in c * chunk ..< min(count, (c + 1) * chunk) {
                    let planned = items[i]
                    label.removeAll(keepingCapacity: true)
                    ImportPlanner.appendLabel(of: planned.recordIndex, in: scan.records, to: &label)
                    label.withUnsafeBytes { title in
                        planned.item.withQueueBytes { playKey, itemKey, body in
                            part.append(sortAt: planned.item.updatedAt?.millisecondsSince1970,
                                        playKey: playKey, itemKey: itemKey, body: body, title: title)
                        }
                    }
                }
                (base + c).initialize(to: part)
            }
            initialized = chunks
        }
        return PlanPages.joined(parts)
    }
}
