import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of every route: the basic one plus the peer's address, for the visit's IP.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

extension AppRequestContext {
    /// The visitor's address: the first of X-Forwarded-For behind a trusted proxy, else the peer's.
    func clientAddress(of request: Request, trustForwardedFor: Bool) -> String? {
        Self.clientAddress(headers: request.headers, remoteAddress: remoteAddress, trustForwardedFor: trustForwardedFor)
    }

    static func clientAddress(headers: some LandingHeaders, remoteAddress: SocketAddress?, trustForwardedFor: Bool) -> String? {
        (trustForwardedFor ? forwardedAddress(headers) : nil) ?? remoteAddress?.ipAddress
    }

    /// The first address of X-Forwarded-For, when the request has one.
    static func forwardedAddress(_ headers: some LandingHeaders) -> String? {
        headers.first(.xForwardedFor)?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces)
    }
}
