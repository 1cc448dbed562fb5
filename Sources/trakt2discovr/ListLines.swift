import DiscovrAPI
import ImportQueue

extension Terminal {
    /// `liked     1,204 delivered (3 moved from another list), 0 failed, 0 pending`: a list's writes.
    static func listLine(_ list: DiscovrList, _ tally: ListWriteCounts.Tally) -> String {
        pad(list.rawValue, 11) + " " + number(tally.delivered) + " delivered"
            + (tally.moved > 0 ? " (\(number(tally.moved)) moved from another list)" : "")
            + ", \(number(tally.failed)) failed, \(number(tally.pending)) pending"
    }
}
