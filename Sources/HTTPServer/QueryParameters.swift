/// The decoded query string of a request: ordered (name, value) pairs.
///
/// Parsed as `application/x-www-form-urlencoded` (WHATWG URL §5.1): pairs separated by `&`,
/// name and value by the first `=`, `+` meaning space, then percent-decoding. Empty pairs are
/// skipped; a name without `=` has the empty value.
public struct QueryParameters: Sendable, Sequence {
    /// One decoded pair.
    public struct Item: Sendable, Hashable {
        /// The decoded name.
        public let name: String
        /// The decoded value ("" when the pair had no `=`).
        public let value: String
    }

    /// All pairs, in order of appearance; names may repeat.
    public let items: [Item]

    /// Parameters from already-decoded pairs.
    public init(_ items: [Item] = []) {
        self.items = items
    }

    /// The first value for `name`, or nil.
    public subscript(_ name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        items.filter { $0.name == name }.map(\.value)
    }

    /// True when the query had no pairs.
    public var isEmpty: Bool { items.isEmpty }

    /// Iterates the pairs in order.
    public func makeIterator() -> IndexingIterator<[Item]> {
        items.makeIterator()
    }
}
