import Foundation

/// The system's words for why a file operation failed ("no such file or directory", "is a directory"), lower case.
/// Foundation wraps the system's error, as a POSIXError or an NSError, under NSUnderlyingErrorKey.
public func systemReason(_ error: any Error) -> String {
    systemReason(code: systemErrorCode(error) ?? EIO)
}

/// `strerror` in lower case.
public func systemReason(code: Int32) -> String {
    String(cString: strerror(code)).lowercased()
}

/// The errno behind a Foundation error, when there is one.
public func systemErrorCode(_ error: any Error) -> Int32? {
    if let posix = error as? POSIXError { return posix.code.rawValue }
    let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey]
    if let posix = underlying as? POSIXError { return posix.code.rawValue }
    if let nsError = underlying as? NSError, nsError.domain == NSPOSIXErrorDomain { return Int32(nsError.code) }
    return nil
}
