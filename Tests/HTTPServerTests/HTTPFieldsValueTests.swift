import HTTPTypes
import Testing
@testable import HTTPServer

/// `value(of:)` answers as the `HTTPFields` subscript does, by a cheaper way.
@Suite struct HTTPFieldsValueTests {
    @Test func aFieldGivesTheSameValueAsTheSubscriptOnceTwiceOrNever() {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields.append(HTTPField(name: .accept, value: "text/plain"))
        fields.append(HTTPField(name: .accept, value: "application/json"))
        fields.append(HTTPField(name: HTTPField.Name("X-Empty")!, value: ""))
        for name in [HTTPField.Name.contentType, .accept, HTTPField.Name("x-EMPTY")!, .authorization] {
            #expect(fields.value(of: name) == fields[name], "\(name)")
        }
        #expect(fields.value(of: .accept) == "text/plain, application/json")
        #expect(fields.value(of: .authorization) == nil)
    }
}
