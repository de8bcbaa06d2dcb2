import AttributionCore
import GRDB
import GRDBSQLite

/// Runs a cached insert through SQLite's C API. GRDB's argument arrays box every value; the visit and action
/// inserts run once for every row of every group commit, where that boxing was a twentieth of the landing path.
struct RawInsert {
    private let database: Database
    private let handle: OpaquePointer
    private var position: Int32 = 0

    init(_ statement: Statement, in database: Database) {
        self.database = database
        self.handle = statement.sqliteStatement
    }

    mutating func bind(_ value: String?) throws {
        position += 1
        guard let value else { return try check(sqlite3_bind_null(handle, position)) }
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        // An empty string may come without a buffer, and a null pointer binds NULL: "" is not a missing value.
        guard !value.isEmpty else { return try check(sqlite3_bind_text(handle, position, "", 0, transient)) }
        var text = value
        let code = text.withUTF8 { bytes in
            sqlite3_bind_text(
                handle, position, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count), transient)
        }
        try check(code)
    }

    /// Binds UTF-8 bytes that stay where they are until the statement has run (SQLite does not copy them);
    /// nil binds NULL.
    mutating func bind(inPlace bytes: UnsafeBufferPointer<UInt8>?) throws {
        position += 1
        guard let bytes else { return try check(sqlite3_bind_null(handle, position)) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            return try check(sqlite3_bind_text(handle, position, "", 0, transient))
        }
        try check(
            sqlite3_bind_text(
                handle, position, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil))
    }

    /// Binds UTF-8 bytes that SQLite copies before the call returns.
    mutating func bind(copying bytes: [UInt8]) throws {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        guard !bytes.isEmpty else { return try bind("") }
        position += 1
        let code = bytes.withUnsafeBufferPointer { buffer in
            sqlite3_bind_text(
                handle, position, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                Int32(buffer.count), transient)
        }
        try check(code)
    }

    mutating func bind(_ value: Int64?) throws {
        position += 1
        try check(value.map { sqlite3_bind_int64(handle, position, $0) } ?? sqlite3_bind_null(handle, position))
    }

    mutating func bind(_ value: Bool) throws {
        try bind(Int64(value ? 1 : 0))
    }

    /// Runs the statement with the values bound since the last run; returns how many rows it inserted.
    @discardableResult
    mutating func run() throws -> Int {
        defer {
            sqlite3_reset(handle)
            position = 0
        }
        guard position == sqlite3_bind_parameter_count(handle) else {
            throw DatabaseError(message: "\(position) values bound to a statement that takes \(sqlite3_bind_parameter_count(handle))")
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code) }
        return Int(sqlite3_changes(database.sqliteConnection))
    }

    private func check(_ code: Int32) throws {
        if code != SQLITE_OK { throw error(code) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        let message = database.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }
}

extension RawInsert {
    /// Binds a visit's columns from `visited_at` through `bot_reason`, in the order the visits table (and the
    /// spool) has them.
    mutating func bindVisit(_ visit: Visit) throws {
        try bind(visit.visitedAt)
        try bind(visit.method)
        try bind(visit.path)
        try bind(visit.slug)
        try bind(visit.clickID)
        try bind(ClickParameters.encode(visit.clickParameters))
        try bind(visit.clickIDProblem?.rawValue)
        try bind(visit.visitorID)
        try bind(visit.userAgent)
        try bind(visit.referrer)
        try bind(visit.ip)
        try bind(visit.isBot)
        try bind(visit.botReason)
    }
}

extension RawInsert {
    /// Binds the next spooled record under `cursor` as the visit columns from `visited_at` through `bot_reason`,
    /// in place: the texts are bound where the record holds them (they must stay until the statement has run);
    /// only the click parameters' JSON is made, in `scratch`.
    mutating func bindSpooledVisit(_ cursor: inout SpoolRecord.Cursor, scratch: inout [UInt8]) throws {
        try bind(try cursor.time())
        try bind(inPlace: try cursor.required())  // method
        try bind(inPlace: try cursor.required())  // path
        try bind(inPlace: try cursor.text())  // slug
        try bind(inPlace: try cursor.text())  // click id
        // The parameters are spooled sorted by name, the order canonical JSON writes them in.
        let parameters = try cursor.varint()
        if parameters == 0 {
            try bind(inPlace: nil)
        } else {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(UInt8(ascii: "{"))
            for index in 0..<parameters {
                if index > 0 { scratch.append(UInt8(ascii: ",")) }
                JSONValue.writeString(utf8: try cursor.required(), to: &scratch)
                scratch.append(UInt8(ascii: ":"))
                JSONValue.writeString(utf8: try cursor.required(), to: &scratch)
            }
            scratch.append(UInt8(ascii: "}"))
            try bind(copying: scratch)
        }
        // A problem that is not one clickattr names (a damaged record) is stored as none, as decoding does.
        let problem = try cursor.text().flatMap { ClickID.Problem(rawValue: String(decoding: $0, as: UTF8.self)) }
        try bind(problem?.rawValue)
        try bind(inPlace: try cursor.text())  // visitor id
        try bind(inPlace: try cursor.text())  // user agent
        try bind(inPlace: try cursor.text())  // referrer
        try bind(inPlace: try cursor.text())  // ip
        let botReason = try cursor.text()
        try bind(botReason != nil)
        try bind(inPlace: botReason)
    }
}
