import Foundation

/// A client as turned up: what `turnUp` needs.
public struct TurnUpRequest: Sendable {
    public var clientId: String
    public var name: String
    public var clubs: [(clubId: String, name: String, enabled: Bool)]
    public var connection: JSONObject
    public var options: ClientOptions

    public init(clientId: String, name: String, clubs: [(clubId: String, name: String, enabled: Bool)],
                connection: JSONObject, options: ClientOptions = ClientOptions()) {
        self.clientId = clientId
        self.name = name
        self.clubs = clubs
        self.connection = connection
        self.options = options
    }
}
