/// The rules for a click id: an opaque, case-sensitive string of at most 512 bytes without control characters.
public enum ClickID {
    public static let maximumBytes = 512

    /// Why a click id parameter could not be used.
    public enum Problem: String, Error, Sendable, Equatable {
        case empty
        case tooLong = "too_long"
        case controlCharacters = "control_characters"
        /// Percent-escapes that decode to bytes which are not UTF-8 (`%FF%FE`).
        case notUTF8 = "not_utf8"
    }

    public static func validate(_ value: String) -> Result<String, Problem> {
        if value.isEmpty { return .failure(.empty) }
        if value.utf8.count > maximumBytes { return .failure(.tooLong) }
        // The control characters (general category Cc) are exactly C0, DEL and C1; in UTF-8 a C1 character is
        // 0xC2 followed by 0x80...0x9F (the bytes are scanned, not decoded into scalars: this runs on every visit).
        var afterC2 = false
        for byte in value.utf8 {
            if byte < 0x20 || byte == 0x7F || (afterC2 && (0x80...0x9F).contains(byte)) {
                return .failure(.controlCharacters)
            }
            afterC2 = byte == 0xC2
        }
        return .success(value)
    }

    /// Picks the click ids out of decoded query parameters, in the configured parameter order.
    public static func extract(
        from query: [QueryString.Pair], parameters: [String]
    ) -> (primary: String?, all: [String: String], problem: Problem?) {
        // Sized for every parameter at once: grown insert by insert it was rehashed on the second click id.
        var all = [String: String](minimumCapacity: parameters.count)
        var primary: String?
        var problem: Problem?
        for parameter in parameters {
            // The first occurrence wins, as most web frameworks read it.
            guard let pair = query.first(where: { $0.name == parameter }) else { continue }
            guard let raw = pair.value else {
                if problem == nil { problem = .notUTF8 }
                continue
            }
            switch validate(raw) {
            case .success(let id):
                all[parameter] = id
                if primary == nil { primary = id }
            case .failure(let reason):
                if problem == nil { problem = reason }
            }
        }
        return (primary, all, problem)
    }
}
