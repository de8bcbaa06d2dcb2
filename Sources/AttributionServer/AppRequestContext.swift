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
        if trustForwardedFor, let forwarded = headers.first(.xForwardedFor), let first = forwarded.split(separator: ",").first {
            return first.trimmingCharacters(in: .whitespaces)
        }
        return remoteAddress?.ipAddress
    }
}
