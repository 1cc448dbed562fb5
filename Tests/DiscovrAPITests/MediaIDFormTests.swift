import Testing
@testable import DiscovrAPI

@Suite struct MediaIDFormTests {
    /// `record` outside `#expect` (the macro cannot call a mutating method).
    static func record(_ watch: inout MediaIDFormSwitch, _ status: Int, _ form: MediaIDForm) -> Bool {
        watch.record(HistoryAnswer(status: status), sentIn: form)
    }

    @Test(arguments: [
        (200, 404, MediaIDForm.tmdbid, false),  // both accepted: the seed's
        (400, 200, .short, true),               // only short accepted
        (200, 422, .tmdbid, true),              // only tmdbid accepted
        (500, 200, .short, false),              // tmdbid unknown, short accepted: short
        (400, 400, .tmdbid, true),              // neither: the seed's, the other refused
        (500, 503, .tmdbid, false),             // no verdict at all: the seed's, may switch later
    ])
    func theProbeUsesTheOnlyAcceptedForm(tmdbid: Int, short: Int, form: MediaIDForm, otherRefused: Bool) {
        let decision = MediaIDFormDecision.decide(tmdbid: MediaIDFormVerdict(DiscovrAnswer(status: tmdbid)),
                                                  short: MediaIDFormVerdict(DiscovrAnswer(status: short)))
        #expect(decision.form == form)
        #expect(decision.otherRefused == otherRefused)
        #expect(decision.reason.contains("MV_TMDBID550") && decision.reason.contains("MV_550"))
    }

    @Test func switchesOnceAfterTheFirstSendsAreAllRefused() {
        var watch = MediaIDFormSwitch(form: .tmdbid, canSwitch: true, window: 3)
        #expect(!Self.record(&watch, 400, .tmdbid))
        #expect(!Self.record(&watch, 503, .tmdbid)) // says nothing about the form
        #expect(!Self.record(&watch, 400, .tmdbid))
        #expect(Self.record(&watch, 400, .tmdbid))
        #expect(watch.current == .short && watch.switched)
        // Answers to the old form still arriving, and 400s in the new one, change nothing more.
        for _ in 0..<5 {
            #expect(!Self.record(&watch, 400, .tmdbid))
            #expect(!Self.record(&watch, 400, .short))
        }
        #expect(watch.current == .short)
    }

    @Test(arguments: [200, 201, 409, 404])
    func aSuccessEarlySettlesTheForm(first: Int) {
        var watch = MediaIDFormSwitch(form: .short, canSwitch: true, window: 3)
        #expect(!Self.record(&watch, first, .short))
        for _ in 0..<5 { #expect(!Self.record(&watch, 400, .short)) }
        #expect(watch.current == .short && !watch.switched)
    }

    @Test func noSwitchWhenTheOtherFormWasRefused() {
        var watch = MediaIDFormSwitch(form: .tmdbid, canSwitch: false, window: 2)
        for _ in 0..<4 { #expect(!Self.record(&watch, 400, .tmdbid)) }
        #expect(watch.current == .tmdbid)
    }
}
