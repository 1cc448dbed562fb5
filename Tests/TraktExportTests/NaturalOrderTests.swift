import Testing
@testable import TraktExport

struct NaturalOrderTests {
    @Test(arguments: [
        ("watched-history-2.json", "watched-history-10.json", true),
        ("watched-history-10.json", "watched-history-9.json", false),
        ("a-1.json", "a-01.json", false),
        ("history-1.json", "history-1.json", false),
        ("a.json", "b.json", true),
    ])
    func naturalOrderSortsPagesNumerically(a: String, b: String, less: Bool) {
        #expect(NaturalOrder.less(a, b) == less)
    }
}
