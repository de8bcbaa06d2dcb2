#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Keeps the number of open connections below what the process may open: at the descriptor limit, accept()
/// fails over and over and the server spins; below it, new connections simply wait in the listen queue.
enum ConnectionCeiling {
    /// Descriptors kept for the database, its journal, the spool, logs and the listening socket.
    static let reserved = 64

    /// Raises the soft descriptor limit to the hard one, as far as the process is allowed.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resourceNoFile, &limit)
    }

    /// `configured`, or less when the descriptor limit would not allow it (said once, at start-up).
    static func effective(configured: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0, limit.rlim_cur != rlim_t.max else { return configured }
        let allowed = max(1, Int(clamping: limit.rlim_cur) - reserved)
        guard configured > allowed else { return configured }
        logger.warning(
            "http.max_connections is \(configured) but the descriptor limit (ulimit -n, LimitNOFILE) is \(limit.rlim_cur): at most \(allowed) connections will be open at once")
        return allowed
    }

    #if canImport(Glibc)
    private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}
