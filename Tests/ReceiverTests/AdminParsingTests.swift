import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The pure parts of turn-up: connection URLs, base URLs, identifiers, options.
@Suite struct AdminParsingTests {
    @Test(arguments: [
        ("https://receiver.example.com", "https", "receiver.example.com", 443, "https://receiver.example.com"),
        ("https://receiver.example.com/", "https", "receiver.example.com", 443, "https://receiver.example.com"),
        ("HTTP://127.0.0.1:8080", "http", "127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("http://example.com:80", "http", "example.com", 80, "http://example.com"),
        ("https://[2001:db8::7]:8443", "https", "2001:db8::7", 8443, "https://[2001:db8::7]:8443"),
        ("  https://r.example  ", "https", "r.example", 443, "https://r.example"),
    ])
    func parsesConnectionURLs(url: String, scheme: String, host: String, port: Int, baseURL: String) throws {
        let connection = try ClientConnection.parse(url: url).get()
        #expect(connection == ClientConnection(scheme: scheme, host: host, port: port))
        #expect(connection.baseURL == baseURL)
    }

    @Test(arguments: [
        ("ftp://example.com", "http:// or https://"),
        ("https://example.com/receiver", "no path"),
        ("https://user:secret@example.com", "user name or password"),
        ("https://example.com?x=1", "no path, query"),
        ("receiver.example.com", "is not a URL; write it as https://"),
        ("https://bad_host.example", "no valid host"),
        ("https://", "no valid host"),
    ])
    func refusesOtherURLs(url: String, message: String) {
        switch ClientConnection.parse(url: url) {
        case .success(let connection): Issue.record("accepted \(url) as \(connection)")
        case .failure(let error): #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func validatesHostsAndIdentifiers() {
        for host in ["receiver.example.com", "203.0.113.7", "localhost", "2001:db8::7", "::1"] {
            #expect(ClientConnection.isValidHost(host), "\(host)")
        }
        for host in ["", "-bad.example", "bad-.example", "a..b", "exa mple.com", "[::1]", String(repeating: "a", count: 64) + ".com"] {
            #expect(!ClientConnection.isValidHost(host), "\(host)")
        }
        for id in ["acme", "Acme-Fitness_2.0", "a", String(repeating: "x", count: 64)] {
            #expect(Identifier.isValid(id), "\(id)")
        }
        for id in ["", "-acme", ".acme", "acme fitness", "acme/1", "é", String(repeating: "x", count: 65)] {
            #expect(!Identifier.isValid(id), "\(id)")
        }
    }

    @Test func optionsKeepTheirBaseAndResetOnNull() throws {
        var base = ClientOptions()
        base.smartMatch = false
        #expect(try ClientOptions.parse(.object([:]), over: base).get().smartMatch == false)
        #expect(try ClientOptions.parse(.object(["smartMatch": .null]), over: base).get().smartMatch == true)
        guard case .failure(let failure) = ClientOptions.parse(.string("x")) else { Issue.record("accepted a string"); return }
        #expect(failure.errors.map(\.field) == ["options"])
    }
}
