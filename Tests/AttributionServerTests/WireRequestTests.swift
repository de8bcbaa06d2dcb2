import HTTPTypes
import NIOCore
import Testing

@testable import AttributionServer

/// What the landing fast path reads from a connection's bytes itself, and what it leaves to NIO's decoder.
@Suite struct WireRequestTests {
    static func read(_ text: String) -> WireRequest.Reading {
        WireRequest.read(ByteBuffer(string: text))
    }

    static func request(_ text: String) -> (request: WireRequest, length: Int)? {
        if case .request(let request, let length) = read(text) { return (request, length) }
        return nil
    }

    static func declined(_ text: String) -> Bool {
        if case .declined = read(text) { return true }
        return false
    }

    static func incomplete(_ text: String) -> Bool {
        if case .incomplete = read(text) { return true }
        return false
    }

    @Test func aVisitorsTapIsReadWithTheFieldsTheLandingControllerUses() throws {
        let head =
            "GET /summer-sale?click_id=abc&x=%C3%A9 HTTP/1.1\r\nHost: shop.example\r\nuser-agent:  Mozilla/5.0 (iPhone) \r\n"
            + "Accept: */*\r\nReferer: https://l.wa.me/\r\nCookie: a=1\r\nCOOKIE: ca_vid=0123456789abcdef\r\n"
            + "X-Forwarded-For: 203.0.113.9, 10.0.0.1\r\nContent-Length: 0\r\n\r\n"
        let (request, length) = try #require(Self.request(head + "GET /next HTTP/1.1\r\n"))
        #expect(length == head.utf8.count, "the head ends at its blank line; the next request's bytes stay")
        #expect(request.method == .get)
        #expect(request.target == "/summer-sale?click_id=abc&x=%C3%A9")
        #expect(request.keepAlive)
        #expect(request.headers.first(.userAgent) == "Mozilla/5.0 (iPhone)", "surrounding blanks are not the value")
        #expect(request.headers.first(.referer) == "https://l.wa.me/")
        #expect(request.headers.all(.cookie) == ["a=1", "ca_vid=0123456789abcdef"], "names are matched in any case")
        #expect(request.headers.first(.xForwardedFor) == "203.0.113.9, 10.0.0.1")
        #expect(request.headers.first(.init("Accept")!) == nil, "fields the controller does not read are not kept")
    }

    @Test func whetherTheConnectionStaysOpenFollowsTheVersionAndConnectionField() throws {
        #expect(try #require(Self.request("GET / HTTP/1.1\r\n\r\n")).request.keepAlive)
        #expect(try #require(Self.request("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")).request.keepAlive == false)
        #expect(try #require(Self.request("GET / HTTP/1.0\r\n\r\n")).request.keepAlive == false)
        #expect(try #require(Self.request("HEAD / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")).request.keepAlive)
        #expect(try #require(Self.request("HEAD / HTTP/1.0\r\n\r\n")).request.method == .head)
    }

    @Test func aHeadNotAllHereYetWaitsForMoreBytes() {
        for partial in ["G", "GE", "HEA", "GET ", "GET /a?b=c HTTP/1.", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nUser-Agent: x\r\n"] {
            #expect(Self.incomplete(partial), "\(partial.debugDescription)")
        }
        #expect(Self.incomplete(""))
    }

    @Test func requestsThatAreNotPlainAreLeftToTheDecoder() {
        let unusual = [
            "POST /webhooks/whatsapp HTTP/1.1\r\n\r\n",
            "PUT / HTTP/1.1\r\n\r\n",
            "get / HTTP/1.1\r\n\r\n",
            "GET http://shop.example/ HTTP/1.1\r\n\r\n",
            "GET * HTTP/1.1\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET /a b HTTP/1.1\r\n\r\n",
            "GET /\u{e9} HTTP/1.1\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/1.2\r\n\r\n",
            "GET / HTTP/1.1\n\n",
            "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n",
            "GET / HTTP/1.1\r\nUser-Agent: caf\u{e9}\r\n\r\n",
            "GET / HTTP/1.1\r\nUser-Agent: a\u{1}b\r\n\r\n",
            "GET / HTTP/1.1\r\n folded: value\r\n\r\n",
            "GET / HTTP/1.1\r\nName : value\r\n\r\n",
            "GET / HTTP/1.1\r\n: value\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        ]
        for text in unusual { #expect(Self.declined(text), "\(text.debugDescription)") }
    }

    @Test func aHeadPastTheLimitsIsLeftToTheDecoder() {
        let long = "GET / HTTP/1.1\r\nX-Padding: " + String(repeating: "a", count: WireRequest.maximumHeadBytes)
        #expect(Self.declined(long), "the decoder applies its own limits to what is too long here")
        let many = "GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: WireRequest.maximumFields + 1) + "\r\n"
        #expect(Self.declined(many))
        let enough = "GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: WireRequest.maximumFields) + "\r\n"
        #expect(Self.request(enough) != nil)
    }
}
