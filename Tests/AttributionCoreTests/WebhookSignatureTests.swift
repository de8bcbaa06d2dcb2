import AttributionCore
import Foundation
import Testing

@Suite struct WebhookSignatureTests {
    let signature = WebhookSignature(appSecret: "key")
    let body = Array("The quick brown fox jumps over the lazy dog".utf8)
    // The published HMAC-SHA256 test value for this key and message.
    let knownHeader = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"

    @Test func acceptsTheHMACOfTheRawBody() throws {
        #expect(WebhookSignature.header(for: body, appSecret: "key") == knownHeader)
        try signature.verify(body: body, header: knownHeader)
    }

    @Test func acceptsUpperCaseHex() throws {
        try signature.verify(body: body, header: "sha256=" + knownHeader.dropFirst(7).uppercased())
    }

    @Test func refusesAMissingHeader() {
        #expect(throws: WebhookSignature.Failure.missingHeader) { try signature.verify(body: body, header: nil) }
    }

    @Test(arguments: [
        "", "sha1=f7bc83f430538424b13298e6aa6fb143ef4d59a1", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        "sha256=f7bc83", "sha256=zz" + String(repeating: "0", count: 62),
    ])
    func refusesAMalformedHeader(header: String) {
        #expect(throws: WebhookSignature.Failure.malformedHeader) { try signature.verify(body: body, header: header) }
    }

    @Test func refusesAChangedBodyOrAnotherSecret() {
        var changed = body
        changed[0] = UInt8(ascii: "t")
        #expect(throws: WebhookSignature.Failure.mismatch) { try signature.verify(body: changed, header: knownHeader) }
        #expect(throws: WebhookSignature.Failure.mismatch) {
            try WebhookSignature(appSecret: "other").verify(body: body, header: knownHeader)
        }
    }

    @Test func verifiesTheBytesAsReceivedNotReencodedJSON() throws {
        let raw = Array(#"{"a": 1,  "b":"\u00e9"}"#.utf8)
        let header = WebhookSignature.header(for: raw, appSecret: "key")
        try signature.verify(body: raw, header: header)
        let reencoded = Array(#"{"a":1,"b":"é"}"#.utf8)
        #expect(throws: WebhookSignature.Failure.mismatch) { try signature.verify(body: reencoded, header: header) }
    }

    @Test func anEmptySecretRefusesEverything() {
        let header = WebhookSignature.header(for: body, appSecret: "")
        #expect(throws: WebhookSignature.Failure.secretNotConfigured) {
            try WebhookSignature(appSecret: "").verify(body: body, header: header)
        }
    }
}
