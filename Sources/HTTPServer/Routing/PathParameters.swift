/// The values a request's path gave to its route template's `{name}` segments,
/// percent-decoded (an encoded `/` stays inside its value).
public struct PathParameters: Sendable {
    /// Template parameter names, in template order.
    public let names: [String]
    /// Decoded values, parallel to `names`.
    public let values: [String]

    /// Parameters from parallel name and value lists (for unit-testing handlers).
    public init(names: [String] = [], values: [String] = []) {
        precondition(names.count == values.count)
        self.names = names
        self.values = values
    }

    /// The value for `name`, or nil if the template has no such parameter.
    public subscript(_ name: String) -> String? {
        for index in names.indices where names[index] == name {
            return values[index]
        }
        return nil
    }

    /// The value for `name`; a template without it is a programming error, reported as 500.
    public func require(_ name: String) throws -> String {
        guard let value = self[name] else {
            throw RouterError(message: "route has no path parameter named '\(name)'")
        }
        return value
    }
}
