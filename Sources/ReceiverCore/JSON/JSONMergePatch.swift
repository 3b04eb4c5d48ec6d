/// JSON merge patch (RFC 7396 §2): objects merge member by member, `null`
/// removes a member, anything else replaces the target.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target.objectValue ?? JSONObject()
        for (name, value) in patchObject.members {
            if value.isNull {
                result[name] = nil
            } else {
                result[name] = apply(value, to: result[name] ?? .null)
            }
        }
        return .object(result)
    }
}
