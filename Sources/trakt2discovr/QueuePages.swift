import Dispatch
import Foundation
import ImportPlanner
import ImportQueue
import Synchronization
import TraktExport

/// The plan's plays as the queue's rows (typed facts and label), written straight into the queue's
/// pages (`PlanPages`) on every core, a few thousand plays at a time, each batch handed to the queue as
/// soon as it is written: no strings per play but its label (building 800,000 strings for 200,000
/// items, then freeing them, was most of the cost of saving a large plan), and never the whole plan's
/// pages in memory.
enum QueuePages {
    static func write(plan: ImportPlan, scan: ExportScan, to save: (PlanPages) throws -> Void) rethrows {
        let items = plan.items
        let count = items.count
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // Two whole pages a part, several parts a worker in each batch (one slow worker does not hold
        // up the batch's end).
        let chunk = 2 * ImportQueue.stagedPageSize
        let batch = chunk * workers * 4
        for start in stride(from: 0, to: count, by: batch) {
            let end = min(count, start + batch)
            let chunks = (end - start + chunk - 1) / chunk
            // Each chunk puts its part in its own slot, once; concurrentPerform returns when all are done.
            let slots = Mutex([PlanPages](repeating: PlanPages(), count: chunks))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var part = PlanPages()
                var label: [UInt8] = []
                for i in start + c * chunk ..< min(end, start + (c + 1) * chunk) {
                    let planned = items[i]
                    label.removeAll(keepingCapacity: true)
                    ImportPlanner.appendLabel(of: planned.recordIndex, in: scan.records, to: &label)
                    label.withUnsafeBytes { title in part.append(planned.item, title: title) }
                }
                slots.withLock { $0[c] = part }
            }
            let parts = slots.withLock { $0 }
            for part in parts { try save(part) }
        }
    }
}
