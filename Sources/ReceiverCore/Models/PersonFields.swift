import Postgres
/// The fields prospects and members share, as the Connector sends them.
public struct PersonFields: Sendable, Equatable {
    public var clubId: String
    public var externalId: String?
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var phones: Phones
    public var address: Address
    public var birthDate: PostgresDate?
    public var gender: String?
    public var notes: String?

    public struct Phones: Sendable, Equatable {
        public var mobile: String?
        public var home: String?
        public var work: String?
    }

    public struct Address: Sendable, Equatable {
        public var line1: String?
        public var line2: String?
        public var city: String?
        public var region: String?
        public var postalCode: String?
        public var country: String?
    }

    package static let genders = ["female", "male", "other", "unspecified"]
    package static let maximumNotesLength = 4000

    /// Reads and validates the shared fields; problems are left in `reader`.
    package static func read(_ reader: inout FieldReader) -> PersonFields {
        let clubId = reader.string("clubId", required: true, maxLength: 64)
        let externalId = reader.string("externalId", maxLength: 255)
        let firstName = reader.string("firstName", maxLength: 100)
        let lastName = reader.string("lastName", maxLength: 100)
        if firstName == nil, lastName == nil, !reader.errors.contains(where: { $0.field == "firstName" || $0.field == "lastName" }) {
            reader.fail("firstName", "firstName or lastName is required")
        }
        let email = reader.email("email")
        let phones = reader.object("phones") { phones in
            Phones(
                mobile: phones.phoneNumber("mobile"),
                home: phones.phoneNumber("home"),
                work: phones.phoneNumber("work"))
        } ?? Phones()
        let address = reader.object("address") { address in
            Address(
                line1: address.string("line1"),
                line2: address.string("line2"),
                city: address.string("city", maxLength: 100),
                region: address.string("region", maxLength: 100),
                postalCode: address.string("postalCode", maxLength: 20),
                country: address.countryCode("country"))
        } ?? Address()
        return PersonFields(
            clubId: clubId ?? "",
            externalId: externalId,
            firstName: firstName,
            lastName: lastName,
            email: email,
            phones: phones,
            address: address,
            birthDate: reader.date("birthDate"),
            gender: reader.choice("gender", of: genders),
            notes: reader.string("notes", maxLength: maximumNotesLength))
    }

    /// The fields as JSON members, in the contract's order; absent fields are `null`.
    package func jsonMembers() -> [(name: String, value: JSONValue)] {
        [
            ("clubId", .string(clubId)),
            ("externalId", .optional(externalId)),
            ("firstName", .optional(firstName)),
            ("lastName", .optional(lastName)),
            ("email", .optional(email)),
            ("phones", .object([
                "mobile": .optional(phones.mobile),
                "home": .optional(phones.home),
                "work": .optional(phones.work),
            ])),
            ("address", .object([
                "line1": .optional(address.line1),
                "line2": .optional(address.line2),
                "city": .optional(address.city),
                "region": .optional(address.region),
                "postalCode": .optional(address.postalCode),
                "country": .optional(address.country),
            ])),
            ("birthDate", .optional(birthDate?.description)),
            ("gender", .optional(gender)),
            ("notes", .optional(notes)),
        ]
    }
}

extension FieldReader {
    /// A phone number: digits with the usual punctuation, 3 to 20 digits.
    package mutating func phoneNumber(_ name: String) -> String? {
        guard let value = string(name, maxLength: 40) else { return nil }
        let digits = value.unicodeScalars.filter { ("0"..."9").contains($0) }.count
        let allowed = value.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || " +-().x/".unicodeScalars.contains($0) }
        guard allowed, (3...20).contains(digits) else {
            fail(name, "must be a phone number of 3 to 20 digits (spaces, +, -, (, ), ., x allowed)")
            return nil
        }
        return value
    }
}

extension JSONValue {
    /// `null` for nil, so every response spells absent optional fields the same way.
    package static func optional(_ string: String?) -> JSONValue {
        string.map(JSONValue.string) ?? .null
    }
}
