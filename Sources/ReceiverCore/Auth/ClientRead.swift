/// What a read found: whom its credential authenticates (or why not), and what it
/// read, which is the caller's to hand out only to that client.
package struct ClientRead<Value: Sendable>: Sendable {
    package let client: Result<AuthenticatedClient, ReceiverError>
    /// Empty (as the reader made it) when the credential did not authenticate.
    package let value: Value

    package init(client: Result<AuthenticatedClient, ReceiverError>, value: Value) {
        (self.client, self.value) = (client, value)
    }
}
