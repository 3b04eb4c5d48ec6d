import ArgumentParser
import Foundation

/// Secrets (the admin token, the database URL with its password) may come from a
/// file instead of the environment: Docker and Kubernetes mount secrets as files,
/// and a value in a file does not show in `ps e` or `/proc/<pid>/environ`.
enum SecretFile {
    /// The file's content without its trailing line break(s), as editors and `echo`
    /// leave them. `source` names where the path came from, for the error messages.
    static func read(_ path: String, source: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(source): cannot read the file (missing, or not readable by this user).")
        }
        guard var value = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(source): the file is not UTF-8 text.")
        }
        while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
        guard !value.isEmpty else { throw ValidationError("\(source): the file is empty.") }
        return value
    }

    /// A setting that is either a value or a file holding it: the flag's file, else
    /// `variable_FILE`, else `variable` (both variables set is an error: which one was
    /// meant would be a guess). Returns the value and where it came from (never the value).
    static func resolve(flagFile: String?, flagName: String, variable: String) throws -> (value: String, source: String)? {
        if let flagFile {
            let source = "\(flagName) \(flagFile)"
            return (try read(flagFile, source: source), source)
        }
        let fileVariable = variable + "_FILE"
        switch (Environment.value(fileVariable), Environment.value(variable)) {
        case (let file?, nil):
            let source = "\(fileVariable)=\(file)"
            return (try read(file, source: source), source)
        case (nil, let inline?):
            return (inline, variable)
        case (_?, _?):
            throw ValidationError("Both \(variable) and \(fileVariable) are set; set only one.")
        case (nil, nil):
            return nil
        }
    }
}
