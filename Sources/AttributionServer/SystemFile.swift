import AttributionStore
import Foundation

/// Opens the files a user names (config, import, report output), and says in the system's own words why one
/// cannot be opened: "no such file or directory", "is a directory", "permission denied".
public enum SystemFile {
    /// Why a file could not be opened or read, lower case, ready to follow "cannot read 'path': ".
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        init(errno code: Int32) {
            description = systemReason(code: code)
        }
    }

    /// A handle reading `path`; a directory is refused here rather than at the first read.
    public static func reading(_ path: String) throws(Failure) -> FileHandle {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(errno: errno) }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw Failure(errno: EISDIR)
        }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// A handle writing `path`, created (mode 644) or emptied.
    public static func writing(_ path: String) throws(Failure) -> FileHandle {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Failure(errno: errno) }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// The whole file's bytes.
    public static func contents(_ path: String) throws(Failure) -> Data {
        let file = try reading(path)
        do {
            return try file.readToEnd() ?? Data()
        } catch {
            throw Failure(errno: systemErrorCode(error) ?? EIO)
        }
    }
}
