import ArgumentParser
import Foundation

/// Reads configuration from the environment; flags override it.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// An on/off setting: `flag`'s text, else `variable`'s, else `value`. `name` is how
    /// an error names the setting, e.g. "--access-log (or RECEIVER_ACCESS_LOG)".
    static func onOff(_ flag: String?, _ variable: String, default value: Bool, name: String) throws -> Bool {
        switch (flag ?? Self.value(variable))?.lowercased() {
        case nil, "": return value
        case "on", "true", "1", "yes": return true
        case "off", "false", "0", "no": return false
        case let other?: throw ValidationError("\(name) must be on or off, not \(other).")
        }
    }
}
