import Crypto
import Foundation

/// The user actions found in one verified webhook body, and what could not be used.
public struct WebhookPayload: Sendable, Equatable {
    /// Why a body was refused outright.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notJSON
        case notAnObject

        public var description: String {
            switch self {
            case .notJSON: "the body is not valid JSON"
            case .notAnObject: "the body is JSON but not an object"
            }
        }
    }

    /// An entry of `user_actions` that lacks a required field; the raw delivery still keeps it.
    public struct Rejected: Error, Sendable, Equatable {
        public var reason: String
        public var rawJSON: String
    }

    public var actions: [UserAction]
    public var rejected: [Rejected]
    /// Items of the `messages`, `statuses` and `errors` arrays: other WhatsApp traffic, acknowledged only.
    public var otherItems: Int

    /// Parses a body: every entry, every change, every user action; unknown types and fields are kept.
    public static func parse(_ body: some DataProtocol) throws(ParseError) -> WebhookPayload {
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(body))
        } catch {
            throw .notJSON
        }
        guard case .object = root else { throw .notAnObject }

        var payload = WebhookPayload(actions: [], rejected: [], otherItems: 0)
        for entry in root["entry"]?.arrayValue ?? [] {
            let wabaID = entry["id"]?.scalarText
            for change in entry["changes"]?.arrayValue ?? [] {
                guard let value = change["value"] else { continue }
                let metadata = value["metadata"]
                for name in ["messages", "statuses", "errors"] {
                    payload.otherItems += value[name]?.arrayValue?.count ?? 0
                }
                for item in value["user_actions"]?.arrayValue ?? [] {
                    switch action(
                        item, wabaID: wabaID, phoneNumberID: metadata?["phone_number_id"]?.scalarText,
                        displayPhoneNumber: metadata?["display_phone_number"]?.scalarText)
                    {
                    case .success(let action): payload.actions.append(action)
                    case .failure(let rejected): payload.rejected.append(rejected)
                    }
                }
            }
        }
        return payload
    }

    private static func action(
        _ item: JSONValue, wabaID: String?, phoneNumberID: String?, displayPhoneNumber: String?
    ) -> Result<UserAction, Rejected> {
        let raw = item.canonicalJSON()
        guard case .object(var fields) = item else {
            return .failure(Rejected(reason: "a user action is not a JSON object", rawJSON: raw))
        }
        guard let actionType = item["action_type"]?.scalarText, !actionType.isEmpty else {
            return .failure(Rejected(reason: "a user action has no action_type", rawJSON: raw))
        }
        guard let occurredAt = item["timestamp"].flatMap(unixMilliseconds) else {
            return .failure(
                Rejected(reason: "a \(actionType) action has no valid timestamp (Unix seconds)", rawJSON: raw))
        }
        let data = dataObject(of: item, actionType: actionType)
        let clickID = nonEmpty(data?["click_id"]?.scalarText)
        if let clickID, case .failure(let problem) = ClickID.validate(clickID) {
            return .failure(
                Rejected(reason: "a \(actionType) action's click_id is unusable (\(problem.rawValue))", rawJSON: raw))
        }
        let trackingToken = nonEmpty(data?["tracking_token"]?.scalarText)
        let clickComponent = nonEmpty(data?["click_component"]?.scalarText)
        let productID = nonEmpty(data?["product_id"]?.scalarText)
        let texts: [(name: String, value: String?)] = [
            ("action_type", actionType), ("id", wabaID), ("phone_number_id", phoneNumberID), ("display_phone_number", displayPhoneNumber),
            ("tracking_token", trackingToken), ("click_component", clickComponent), ("product_id", productID),
        ]
        // SQLite's text readers stop at a NUL: such a value could not be reported as it was received.
        if let cut = texts.first(where: { $0.value?.utf8.contains(0) == true }) {
            return .failure(Rejected(reason: "a \(actionType) action's \(cut.name) holds a NUL character", rawJSON: raw))
        }

        // The key ignores how the timestamp was spelled (string or number) so a redelivery matches.
        fields["timestamp"] = .integer(occurredAt)
        let identity: JSONValue = .object([
            "waba_id": wabaID.map(JSONValue.string) ?? .null,
            "phone_number_id": phoneNumberID.map(JSONValue.string) ?? .null,
            "action": .object(fields),
        ])
        let key = Hex.encode(SHA256.hash(data: identity.canonicalBytes()))

        return .success(
            UserAction(
                key: key, actionType: actionType, occurredAt: occurredAt, wabaID: wabaID,
                phoneNumberID: phoneNumberID, displayPhoneNumber: displayPhoneNumber, clickID: clickID,
                trackingToken: trackingToken, clickComponent: clickComponent, productID: productID, rawJSON: raw))
    }

    /// `<type>_data` first; link clicks and landing page views both use the link click's data object.
    private static func dataObject(of item: JSONValue, actionType: String) -> JSONValue? {
        for name in ["\(actionType)_data", "marketing_messages_link_click_data"] {
            if let data = item[name], case .object = data { return data }
        }
        return nil
    }

    /// Unix seconds, as a JSON string or number, in milliseconds; nil when absent, not a decimal number (no hex,
    /// no `inf`), not positive, or not plausible Unix seconds (milliseconds sent by mistake).
    static func unixMilliseconds(_ value: JSONValue) -> Int64? {
        let text: Substring
        switch value {
        case .number(let number): text = Substring(number)
        case .string(let string): text = DecimalText.trimmed(Substring(string))
        default: return nil
        }
        guard DecimalText.isDecimal(text), let seconds = Double(text), seconds > 0, seconds < 100_000_000_000 else {
            return nil
        }
        // Bounded above, so the product fits in 64 bits.
        return Int64((seconds * 1000).rounded())
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
