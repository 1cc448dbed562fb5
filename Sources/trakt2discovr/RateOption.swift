import ArgumentParser
import Delivery
import Foundation

/// `--rate <n>|auto` (importer.md section 5): `auto` finds the server's pace; a number is a ceiling
/// (and where the pace starts).
enum RateOption: Equatable, ExpressibleByArgument, CustomStringConvertible {
    case auto
    case atMost(Double)

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        if text.lowercased() == "auto" {
            self = .auto
        } else if let value = Double(text), value.isFinite, value > 0 {
            self = .atMost(value)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .auto: return "auto"
        case .atMost(let value): return value == value.rounded() ? String(Int(value)) : String(value)
        }
    }

    var defaultValueDescription: String { description }

    /// The settings' ceiling and whether the pace is found (`auto`) or starts at the ceiling.
    func apply(to settings: inout DeliverySettings) {
        switch self {
        case .auto:
            settings.rate = RateLimiter.autoCeiling
            settings.autoRate = true
        case .atMost(let value):
            settings.rate = value
            settings.autoRate = false
        }
    }
}
